/**
 * RunStore, ApiTokenStore and the record stores (sql-record-stores.ts) on SQL through Kysely: SQLite
 * (embedded default) or PostgreSQL, one implementation for both. Schema in migrations.ts, driver
 * quirks in row-mapping.ts. Events arrive validated (the application's run journal checks them).
 */
import { type Kysely, type Selectable, sql } from "kysely"
import type { ApiTokenStore } from "#application/ports/api-token-store.js"
import type { Clock } from "#application/ports/clock.js"
import type { Logger } from "#application/ports/logging.js"
import { silentLogger } from "#application/ports/logging.js"
import type {
  NewRun,
  RunFilter,
  RunPage,
  RunPatch,
  RunStore,
  SpentCostQuery,
} from "#application/ports/run-store.js"
import { ConfigError, ConflictError, NotFoundError, PrwrightError } from "#domain/errors.js"
import type { RunEvent, RunEventData } from "#domain/run-event.js"
import { TERMINAL_STATUSES, type WorkflowRun } from "#domain/workflow-run.js"
import { checkLimit, decodeCursor, encodeCursor } from "../list-cursor.js"
import { createSecretCipher } from "../secret-cipher.js"
import { guardStoreMethods } from "../store-errors.js"
import { createEventAppender } from "./append-events.js"
import { connectDatabase } from "./connect-database.js"
import type { Database, RunsTable, SqlDialectName } from "./database.js"
import { createStoreMigrator, RUN_OWNER_SQL } from "./migrations.js"
import { parseJson, patchToColumns, rowToEvent, rowToRun, toJson, toMillis, toNumber } from "./row-mapping.js"
import { createSqlRecordStores, type RecordStores } from "./sql-record-stores.js"
import type { SqliteSync } from "./sqlite-sync.js"

export interface SqlRunStoreOptions {
  /** `sqlite:PATH`, `sqlite::memory:`, a bare `*.db` path, or `postgres://…` */
  url: string
  clock?: Clock
  logger?: Logger
  /** Postgres only: keep the tables in this schema (created if missing). Meant for tests. */
  schema?: string
  /** key material for stored secrets (PRWRIGHT_SECRET_KEY, see secret-key.ts); asked for on first use */
  secretKey?: () => Promise<string>
}

export type SqlRunStore = RunStore &
  ApiTokenStore &
  RecordStores & {
    /** Applies pending migrations; safe to call any number of times. Also run at creation. */
    migrate(): Promise<void>
    db: Kysely<Database>
    dialect: SqlDialectName
    /** SQLite only: the store's connection, for the embedded queue to share (see container.ts) */
    sqliteConnection?: SqliteSync["database"]
  }

const DEFAULT_LIMIT = 50
const MAX_LIMIT = 200

const runNotFound = (id: string) =>
  new NotFoundError(`run ${id} does not exist: check the job id (list runs with GET /api/jobs)`)

/**
 * RunStore.spentCost's one statement: an aggregate over the month's runs of the subject, a seek on
 * runs_repo_created_idx for a repository and on runs_owner_created_idx (its expression, verbatim) for an
 * owner. Exported so a test can check that plan.
 */
export const spentCostStatement = (
  db: Kysely<Database>,
  dialect: SqlDialectName,
  { subject, monthStart, dayStart }: SpentCostQuery,
) =>
  db
    .selectFrom("runs")
    .select([
      sql<number | string>`coalesce(sum(cost_usd), 0)`.as("month_usd"),
      sql<
        number | string
      >`coalesce(sum(case when created_at >= ${toMillis(dayStart)} then cost_usd else 0 end), 0)`.as(
        "day_usd",
      ),
    ])
    .where(
      "repoFullName" in subject
        ? sql<boolean>`repo_full_name = ${subject.repoFullName}`
        : sql<boolean>`${sql.raw(RUN_OWNER_SQL[dialect])} = lower(${subject.owner})`,
    )
    .where("created_at", ">=", toMillis(monthStart))

export const createSqlRunStore = async (options: SqlRunStoreOptions): Promise<SqlRunStore> => {
  const clock = options.clock ?? { now: () => new Date() }
  const logger = (options.logger ?? silentLogger).child({ component: "sql-run-store" })
  const connected = await connectDatabase({ url: options.url, schema: options.schema, logger })
  const { db, dialect, sqlite } = connected
  const migrationTableSchema = connected.schema ? { migrationTableSchema: connected.schema } : {}
  const migrateToLatest = () =>
    dialect === "postgres"
      ? createStoreMigrator(db, { dialect, ...migrationTableSchema }).migrateToLatest()
      : // Kysely takes no migration lock on SQLite, so two processes starting on one file (serve and
        // worker) would both migrate and one would fail. BEGIN IMMEDIATE is that lock, across processes.
        db.connection().execute(async (connection) => {
          await sql`begin immediate`.execute(connection)
          try {
            const result = await createStoreMigrator(connection, { dialect }).migrateToLatest()
            await sql.raw(result.error ? "rollback" : "commit").execute(connection)
            return result
          } catch (error) {
            await sql`rollback`.execute(connection).catch(() => {})
            throw error
          }
        })
  let closed = false
  const appendEvents = createEventAppender(db, dialect, sqlite)
  const cipher = createSecretCipher(
    options.secretKey ??
      (async () => {
        throw new ConfigError("no key for stored secrets: set PRWRIGHT_SECRET_KEY (any long random value)")
      }),
  )

  const migrate = async (): Promise<void> => {
    const { error, results } = await migrateToLatest()
    const applied = (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName)
    if (applied.length > 0) logger.info("database migrated", { dialect, applied })
    if (error) {
      const failed = (results ?? []).find((r) => r.status === "Error")?.migrationName
      throw new PrwrightError(
        "internal",
        `database migration ${failed ?? ""} failed (${error instanceof Error ? error.message : String(error)}): check that the DATABASE_URL user may create tables, and that no newer prwright version migrated this database`,
        { cause: error },
      )
    }
  }

  const getRun = async (id: string): Promise<WorkflowRun | undefined> => {
    const row = await db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst()
    return row ? rowToRun(row) : undefined
  }

  /** the one UPDATE; `activeOnly` adds "and it has not ended" to the same statement (undefined when it had) */
  const update = async (
    id: string,
    patch: RunPatch,
    activeOnly: boolean,
  ): Promise<WorkflowRun | undefined> => {
    const set = patchToColumns(patch)
    set.updated_at = toMillis(clock.now())
    const missing = () => {
      if (activeOnly) return undefined
      throw runNotFound(id)
    }
    // the patch, "only if it has not ended" when asked: the one statement every path below runs first
    const write = (on: Kysely<Database>) =>
      on
        .updateTable("runs")
        .set(set)
        .where("id", "=", id)
        .$if(activeOnly, (query) => query.where("status", "not in", [...TERMINAL_STATUSES]))
        .returningAll()
    if (patch.artifacts === undefined) {
      const row = await write(db).executeTakeFirst()
      return row ? rowToRun(row) : missing()
    }
    const artifacts = patch.artifacts
    const merge = (on: Kysely<Database>, current: Selectable<RunsTable>) =>
      on
        .updateTable("runs")
        .set({
          artifacts: toJson({ ...parseJson<Record<string, unknown>>(current.artifacts), ...artifacts }),
        })
        .where("id", "=", id)
        .returningAll()
    // SQLite: one synchronous transaction, the write lock never held across an await (sqlite-sync.ts)
    if (sqlite)
      return sqlite.transaction(() => {
        const current = sqlite.first(write(db))
        if (!current) return missing()
        return rowToRun(sqlite.first(merge(db, current)) ?? current)
      })
    return db.transaction().execute(async (trx) => {
      // Writing first takes the row lock before the read, so two concurrent merges cannot lose
      // each other's artifacts.
      const current = await write(trx).executeTakeFirst()
      if (!current) return missing()
      return rowToRun(await merge(trx, current).executeTakeFirstOrThrow())
    })
  }

  const store: SqlRunStore = {
    ...createSqlRecordStores({ db, clock, cipher, ...(sqlite ? { sqlite } : {}) }),
    db,
    dialect,
    ...(sqlite ? { sqliteConnection: sqlite.database } : {}),
    migrate,
    getRun,

    async createRun(run: NewRun) {
      const now = toMillis(clock.now())
      const row = await db
        .insertInto("runs")
        .values({
          id: run.id,
          type: run.type,
          status: "pending",
          repo_full_name: run.repoFullName,
          issue_number: run.issueNumber,
          priority: run.priority,
          input: toJson(run.input),
          trigger: toJson(run.trigger),
          attempts: 0,
          max_attempts: run.maxAttempts,
          progress: 0,
          progress_message: null,
          artifacts: toJson({}),
          input_tokens: 0,
          output_tokens: 0,
          cost_usd: 0,
          summary: null,
          error: null,
          created_at: now,
          updated_at: now,
          started_at: null,
          finished_at: null,
        })
        // Portable "insert unless present": no driver-specific error codes to sniff.
        .onConflict((oc) => oc.column("id").doNothing())
        .returningAll()
        .executeTakeFirst()
      if (!row) {
        throw new ConflictError(
          `a run with id ${run.id} already exists: use another jobId, or fetch the existing run with GET /api/jobs/${run.id}`,
        )
      }
      return rowToRun(row)
    },

    updateRun: (id, patch) => update(id, patch, false) as Promise<WorkflowRun>,

    async updateActiveRun(id, patch) {
      const updated = await update(id, patch, true)
      if (
        updated === undefined &&
        !(await db.selectFrom("runs").select("id").where("id", "=", id).executeTakeFirst())
      )
        throw runNotFound(id)
      return updated
    },

    async listRuns(filter: RunFilter): Promise<RunPage> {
      const limit = checkLimit(filter.limit, "limit", MAX_LIMIT) ?? DEFAULT_LIMIT
      // no status at all is no run (and `IN ()` is not SQL)
      if (filter.statuses?.length === 0) return { runs: [] }
      let query = db.selectFrom("runs").selectAll()
      if (filter.status !== undefined) query = query.where("status", "=", filter.status)
      if (filter.statuses !== undefined) query = query.where("status", "in", [...filter.statuses])
      if (filter.repoFullName !== undefined) query = query.where("repo_full_name", "=", filter.repoFullName)
      if (filter.type !== undefined) query = query.where("type", "=", filter.type)
      if (filter.issueNumber !== undefined) query = query.where("issue_number", "=", filter.issueNumber)
      if (filter.cursor !== undefined) {
        const after = decodeCursor(filter.cursor)
        // A row-value comparison, unlike the equivalent OR, is one range of the (…, created_at, id)
        // indexes, so a deep page costs what the first one does.
        query = query.where((eb) =>
          eb(eb.refTuple("created_at", "id"), "<", eb.tuple(after.createdAt, after.id)),
        )
      }
      const rows = await query
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(limit + 1)
        .execute()
      const runs = rows.slice(0, limit).map(rowToRun)
      const last = runs.at(-1)
      return rows.length > limit && last ? { runs, nextCursor: encodeCursor(last) } : { runs }
    },

    async spentCost(query: SpentCostQuery) {
      const row = await spentCostStatement(db, dialect, query).executeTakeFirstOrThrow()
      return { dayUsd: toNumber(row.day_usd), monthUsd: toNumber(row.month_usd) }
    },

    async appendEvents(runId: string, events: RunEventData[]): Promise<RunEvent[]> {
      if (events.length === 0) {
        if (!(await getRun(runId))) throw runNotFound(runId)
        return []
      }
      const appended = await appendEvents(runId, events, toMillis(clock.now()))
      if (!appended) throw runNotFound(runId)
      return appended
    },

    async listEvents(runId, listOptions = {}) {
      const limit = checkLimit(listOptions.limit, "limit", Number.MAX_SAFE_INTEGER)
      let query = db
        .selectFrom("run_events")
        .selectAll()
        .where("run_id", "=", runId)
        .where("seq", ">", listOptions.afterSeq ?? 0)
        .orderBy("seq", "asc")
      if (limit !== undefined) query = query.limit(limit)
      return (await query.execute()).map(rowToEvent)
    },

    async countApiTokens() {
      const row = await db
        .selectFrom("api_tokens")
        .select((eb) => eb.fn.countAll().as("count"))
        .executeTakeFirstOrThrow()
      return toNumber(row.count as number | string)
    },

    async addApiToken(token) {
      const row = await db
        .insertInto("api_tokens")
        .values({ id: token.id, label: token.label, hash: token.hash, created_at: toMillis(clock.now()) })
        .onConflict((oc) => oc.doNothing())
        .returning("id")
        .executeTakeFirst()
      if (!row) {
        // Never echo the hash: it identifies a credential.
        throw new ConflictError(
          `an API token with id ${token.id} or the same secret already exists: generate a new token`,
        )
      }
    },

    async replaceApiTokens(token) {
      const values = { id: token.id, label: token.label, hash: token.hash, created_at: toMillis(clock.now()) }
      if (sqlite)
        return sqlite.transaction(() => {
          sqlite.run(db.deleteFrom("api_tokens"))
          sqlite.run(db.insertInto("api_tokens").values(values))
        })
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom("api_tokens").execute()
        await trx.insertInto("api_tokens").values(values).execute()
      })
    },

    async findApiTokenByHash(hash) {
      const row = await db
        .selectFrom("api_tokens")
        .select(["id", "label"])
        .where("hash", "=", hash)
        .executeTakeFirst()
      return row ? { id: row.id, label: row.label } : undefined
    },

    async close() {
      if (closed) return
      closed = true
      await db.destroy()
    },
  }

  guardStoreMethods(store, {
    except: ["close", "migrate"],
    fix: "check that the database at DATABASE_URL is up and reachable",
  })
  try {
    await migrate()
  } catch (error) {
    await store.close()
    throw error
  }
  return store
}
