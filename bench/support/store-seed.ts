/**
 * Bulk seeding for the store benchmark: runs and events are generated inside the database
 * (recursive CTE in SQLite, generate_series in Postgres) with one INSERT … SELECT per chunk, so a
 * million events take seconds, not the minutes row-by-row inserts through the store would.
 * The data is shaped like what the store really holds: several repositories, skewed statuses and
 * types, spread-out created_at, events of every kind with 200–500 byte JSON payloads.
 */
import { type Kysely, sql } from "kysely"
import type { Database, SqlDialectName } from "#adapters/store/sql/database.js"

export const REPO_COUNT = 20
export const STATUSES = ["pending", "running", "completed", "failed", "cancelled"] as const
export const TYPES = ["comment-on-issue", "auto-resolve-issue", "resolve-issue"] as const

/** Runs are created over this window, ending now. */
const SPAN_MS = 180 * 24 * 3600 * 1000
/** Runs per INSERT … SELECT for events: small enough to checkpoint the SQLite WAL between chunks. */
const RUNS_PER_CHUNK = 10_000

const LOREM =
  "Investigated the failing build: the parser rejects trailing commas in the config file, so the " +
  "loader falls back to defaults and the retry budget is ignored. Plan: accept trailing commas, add " +
  "a regression test for the loader, document the option in the README, and log a warning when a " +
  "value is dropped. Touched src/config/load.ts, src/config/schema.ts and test/config/load.test.ts; " +
  "the suite passes locally, lint is clean, and the change keeps the public API as it is today."

export interface SeedPlan {
  runs: number
  events: number
  /** created_at of run 0; run i is about i * step later */
  startMs: number
  stepMs: number
  idWidth: number
}

export const planSeed = (runs: number, events: number, nowMs: number): SeedPlan => ({
  runs,
  events,
  startMs: nowMs - SPAN_MS,
  stepMs: Math.max(1, Math.floor(SPAN_MS / runs)),
  idWidth: Math.max(7, String(runs - 1).length),
})

export const runId = (plan: SeedPlan, index: number): string =>
  `run_${String(index).padStart(plan.idWidth, "0")}`

export const repoName = (index: number): string => `org-${index % 4}/service-${index}`

/** Events seeded for run `index`, the same count the seed SQL gives it. */
export const seededEventCount = (plan: SeedPlan, index: number): number =>
  Math.floor(plan.events / plan.runs) + (index < plan.events % plan.runs ? 1 : 0)

interface DialectSql {
  obj: string
  falseValue: string
  pad: (expr: string) => string
}

const DIALECTS: Record<SqlDialectName, DialectSql> = {
  sqlite: {
    obj: "json_object",
    falseValue: "json('false')",
    pad: (expr) => `substr('00000000000000000000' || (${expr}), -WIDTH)`,
  },
  postgres: {
    obj: "jsonb_build_object",
    falseValue: "false",
    pad: (expr) => `lpad((${expr})::text, WIDTH, '0')`,
  },
}

const int = (value: number): string => {
  if (!Number.isSafeInteger(value)) throw new Error(`seed parameter ${value} is not an integer`)
  return String(value)
}

// CAST: Postgres has no substr(text, bigint, bigint).
const filler = (h: string): string =>
  `substr('${LOREM}', CAST(1 + (${h}) % 40 AS INTEGER), CAST(120 + (${h}) % 330 AS INTEGER))`

/**
 * Columns of run `i` (the integer column of `s`). Repositories are skewed like real installations:
 * v² maps a uniform v onto repo 0 for ~22% of runs down to repo 19 for ~2.5%.
 */
const runsSelect = (d: DialectSql, plan: SeedPlan): string => {
  const per = Math.floor(plan.events / plan.runs)
  const rem = plan.events % plan.runs
  const repo = `'org-' || (g.rk % 4) || '/service-' || g.rk`
  return `
    SELECT
      'run_' || ${d.pad("g.i").replace("WIDTH", int(plan.idWidth))},
      CASE WHEN (g.i / 7) % 10 < 6 THEN 'comment-on-issue'
           WHEN (g.i / 7) % 10 < 8 THEN 'resolve-issue' ELSE 'auto-resolve-issue' END,
      CASE WHEN g.sc = 0 THEN 'pending' WHEN g.sc = 1 THEN 'running' WHEN g.sc < 4 THEN 'failed'
           WHEN g.sc = 4 THEN 'cancelled' ELSE 'completed' END,
      ${repo},
      g.issue,
      CASE g.i % 9 WHEN 0 THEN 'high' WHEN 1 THEN 'urgent' WHEN 2 THEN 'low' ELSE 'normal' END,
      ${d.obj}('issueNumber', g.issue, 'repoFullName', ${repo},
               'instructions', substr('${LOREM}', 1, CAST(20 + g.i % 80 AS INTEGER))),
      ${d.obj}('source', CASE g.i % 3 WHEN 0 THEN 'webhook' WHEN 1 THEN 'api' ELSE 'ui' END,
               'actor', 'user-' || (g.i % 50)),
      CASE WHEN g.sc = 0 THEN 0 ELSE 1 + g.i % 2 END,
      3,
      CASE WHEN g.sc = 0 THEN 0 WHEN g.sc = 1 THEN 0.5 ELSE 1 END,
      CASE WHEN g.sc = 1 THEN 'running tests' ELSE NULL END,
      CASE WHEN g.sc >= 5 THEN ${d.obj}('planCommentId', 1000000 + g.i,
             'planCommentUrl', 'https://github.com/' || ${repo} || '/issues/' || g.issue)
           ELSE ${d.obj}() END,
      (g.i * 37) % 90000, (g.i * 13) % 9000, ((g.i * 7) % 400) / 1000.0,
      CASE WHEN g.sc >= 5 THEN 'Posted a plan with ' || (3 + g.i % 5) || ' steps' ELSE NULL END,
      CASE WHEN g.sc IN (2, 3) THEN 'model call failed: rate limited (429), gave up after 3 attempts'
           ELSE NULL END,
      g.created, g.created + 60000,
      CASE WHEN g.sc = 0 THEN NULL ELSE g.created + 1000 END,
      CASE WHEN g.sc >= 2 THEN g.created + 60000 ELSE NULL END,
      ${int(per)} + CASE WHEN g.i < ${int(rem)} THEN 1 ELSE 0 END
    FROM (
      SELECT i, i % 20 AS sc, (v * v * ${int(REPO_COUNT)}) / 1000000 AS rk, 1 + (i * 31) % 4000 AS issue,
             ${int(plan.startMs)} + i * ${int(plan.stepMs)} + (i * 7919) % ${int(plan.stepMs)} AS created
      FROM (SELECT i, (i * 7919 + i / 13) % 1000 AS v FROM s) s
    ) g`
}

const RUN_COLUMNS = `(id, type, status, repo_full_name, issue_number, priority, input, "trigger", attempts,
  max_attempts, progress, progress_message, artifacts, input_tokens, output_tokens, cost_usd, summary,
  error, created_at, updated_at, started_at, finished_at, last_event_seq)`

/** k = 0 is the opening status event; 1..7 cycle through the other kinds. */
const eventsSelect = (d: DialectSql): string => `
    SELECT e.run_id,
      e.n,
      CASE e.k WHEN 0 THEN 'status' WHEN 1 THEN 'model-call' WHEN 2 THEN 'tool-call' WHEN 3 THEN 'tool-result'
        WHEN 4 THEN 'assistant-text' WHEN 5 THEN 'log' WHEN 6 THEN 'progress' ELSE 'usage' END,
      CASE e.k
        WHEN 0 THEN ${d.obj}('status', 'running', 'attempt', 1, 'message', ${filler("e.h")})
        WHEN 1 THEN ${d.obj}('model', 'gpt-4.1-mini', 'inputTokens', 1000 + e.h % 30000,
          'outputTokens', 50 + e.h % 2000, 'costUsd', (e.h % 900) / 10000.0, 'latencyMs', 300 + e.h % 9000,
          'finishReason', 'tool-calls')
        WHEN 2 THEN ${d.obj}('toolCallId', 'call_' || e.h, 'tool', 'read_file',
          'input', ${d.obj}('path', 'src/module-' || (e.h % 97) || '/index.ts', 'note', ${filler("e.h")}))
        WHEN 3 THEN ${d.obj}('toolCallId', 'call_' || e.h, 'tool', 'read_file', 'output', ${filler("e.h")},
          'bytes', 200 + e.h % 5000, 'truncated', ${d.falseValue})
        WHEN 4 THEN ${d.obj}('text', ${filler("e.h")})
        WHEN 5 THEN ${d.obj}('level', 'info', 'message', ${filler("e.h")})
        WHEN 6 THEN ${d.obj}('progress', (e.n % 10) / 10.0, 'message', ${filler("e.h")})
        ELSE ${d.obj}('usage', ${d.obj}('inputTokens', e.h % 90000, 'outputTokens', e.h % 9000,
          'costUsd', (e.h % 400) / 1000.0))
      END,
      e.created + e.n * 1000`

const eventsInner =
  "r.id AS run_id, s.n AS n, CASE WHEN s.n = 1 THEN 0 ELSE 1 + s.n % 7 END AS k, " +
  "r.issue_number + s.n * 37 AS h, r.created_at AS created"

export type SeedProgress = (message: string) => void

export const seedStore = async (
  db: Kysely<Database>,
  dialect: SqlDialectName,
  plan: SeedPlan,
  progress: SeedProgress,
): Promise<void> => {
  const d = DIALECTS[dialect]
  const runsSql = (from: number, to: number): string =>
    dialect === "sqlite"
      ? `WITH RECURSIVE s(i) AS (SELECT ${int(from)} UNION ALL SELECT i + 1 FROM s WHERE i < ${int(to - 1)})
         INSERT INTO runs ${RUN_COLUMNS} ${runsSelect(d, plan)}`
      : `INSERT INTO runs ${RUN_COLUMNS}
         WITH s(i) AS (SELECT generate_series(${int(from)}::bigint, ${int(to - 1)}::bigint))
         ${runsSelect(d, plan)}`
  const maxPer = seededEventCount(plan, 0)
  const eventsSql = (fromId: string, toId: string): string =>
    dialect === "sqlite"
      ? `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${int(maxPer)})
         INSERT INTO run_events (run_id, seq, type, data, at)
         ${eventsSelect(d)} FROM (SELECT ${eventsInner} FROM runs r JOIN s ON s.n <= r.last_event_seq
           WHERE r.id >= '${fromId}' AND r.id < '${toId}') e ORDER BY e.run_id, e.n`
      : `INSERT INTO run_events (run_id, seq, type, data, at)
         ${eventsSelect(d)} FROM (SELECT ${eventsInner}
           FROM runs r CROSS JOIN LATERAL generate_series(1, r.last_event_seq) AS s(n)
           WHERE r.id >= '${fromId}' AND r.id < '${toId}') e ORDER BY e.run_id, e.n`

  for (let from = 0; from < plan.runs; from += RUNS_PER_CHUNK) {
    const to = Math.min(plan.runs, from + RUNS_PER_CHUNK)
    await db.transaction().execute(async (trx) => {
      await sql.raw(runsSql(from, to)).execute(trx)
      if (maxPer > 0) await sql.raw(eventsSql(runId(plan, from), runId(plan, to))).execute(trx)
    })
    await new Promise((resolve) => setImmediate(resolve)) // lets Ctrl-C through (see yieldToEventLoop)
    progress(`seeded ${to.toLocaleString("en-US")} / ${plan.runs.toLocaleString("en-US")} runs with events`)
  }
  // Autovacuum would vacuum and analyze tables this size within a minute, in the middle of the
  // measurements; do it now, so the planner sees the real row counts and the database is in the
  // steady state a production one is in. SQLite gets no ANALYZE: the store never runs it, so the
  // benchmark measures the plans users get.
  if (dialect === "postgres") await sql`vacuum analyze runs, run_events`.execute(db)
}

/** Row counts and on-disk size, to show what was measured. */
export const describeSeed = async (
  db: Kysely<Database>,
  dialect: SqlDialectName,
): Promise<{ runs: number; events: number; bytes: number }> => {
  const count = async (table: "runs" | "run_events") =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    )
  const bytes =
    dialect === "sqlite"
      ? await sql<{
          b: number
        }>`select page_count * page_size as b from pragma_page_count(), pragma_page_size()`
          .execute(db)
          .then((r) => Number(r.rows[0]?.b ?? 0))
      : await sql<{
          b: string
        }>`select pg_total_relation_size('runs') + pg_total_relation_size('run_events') as b`
          .execute(db)
          .then((r) => Number(r.rows[0]?.b ?? 0))
  return { runs: await count("runs"), events: await count("run_events"), bytes }
}
