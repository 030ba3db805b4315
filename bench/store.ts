/**
 * `npm run bench:store`: appendEvents throughput and listRuns / listEvents latency of the SQL run
 * store on a realistically sized database, SQLite and PostgreSQL side by side; then, on a fresh store,
 * the spending guard's check per run request, the old way (paging the month's runs) against the new
 * (one aggregate per scope), with their ratio (support/store-spending.ts).
 *
 *   node --conditions=prwright-source --import tsx bench/store.ts [--json] [--quick]
 *     [--runs N] [--events N] [--appends N] [--only sqlite|postgres] [--postgres-url URL]
 *     [--spending-only] [--month-runs N] [--history-runs N]
 *
 * Seeding happens in bulk inside the database and is not measured; every measured call goes through
 * the public RunStore API, which is what the server and the workers use. Progress goes to stderr;
 * with --json the last line of stdout is one JSON object. Exits 1 when a dialect could not be
 * measured; a missed target is reported, not an error (the numbers depend on the machine).
 */
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { performance } from "node:perf_hooks"
import { parseArgs } from "node:util"
import { redactDatabaseUrl } from "#adapters/store/sql/connect-database.js"
import { createSqlRunStore, type SqlRunStore } from "#adapters/store/sql/sql-run-store.js"
import { measureAppend, measureListEvents, measureListRuns } from "./support/store-measure.js"
import {
  type DialectOutcome,
  type DialectResult,
  formatTable,
  isMeasured,
  meetsTargets,
} from "./support/store-report.js"
import { describeSeed, planSeed, seedStore } from "./support/store-seed.js"
import { formatSpending, measureSpending, type SpendingResult } from "./support/store-spending.js"

type Dialect = "sqlite" | "postgres"

const USAGE =
  "usage: bench/store.ts [--json] [--quick] [--runs N] [--events N] [--appends N] [--only sqlite|postgres] [--postgres-url URL] [--spending-only] [--month-runs N] [--history-runs N]"

const readConfig = () => {
  const { values: args } = parseArgs({
    options: {
      json: { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      runs: { type: "string" },
      events: { type: "string" },
      appends: { type: "string" },
      only: { type: "string" },
      "postgres-url": { type: "string" },
      "spending-only": { type: "boolean", default: false },
      "month-runs": { type: "string" },
      "history-runs": { type: "string" },
    },
  })
  const count = (value: string | undefined, fallback: number, name: string): number => {
    if (value === undefined) return fallback
    const parsed = Number(value.replaceAll("_", ""))
    if (!Number.isSafeInteger(parsed) || parsed < 1) {
      throw new Error(`--${name} must be a positive integer, got "${value}"`)
    }
    return parsed
  }
  if (args.only !== undefined && args.only !== "sqlite" && args.only !== "postgres") {
    throw new Error(`--only must be sqlite or postgres, got "${args.only}"`)
  }
  return {
    json: args.json,
    spendingOnly: args["spending-only"],
    dialects: (["sqlite", "postgres"] as const).filter((d) => args.only === undefined || args.only === d),
    postgresUrl:
      args["postgres-url"] ?? process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    sizes: {
      runs: count(args.runs, args.quick ? 5_000 : 100_000, "runs"),
      events: count(args.events, args.quick ? 50_000 : 1_000_000, "events"),
      appends: count(args.appends, args.quick ? 5_000 : 20_000, "appends"),
      appendConcurrency: 8,
      appendRepetitions: 3,
      listRounds: args.quick ? 40 : 100,
      listEventsCalls: args.quick ? 200 : 500,
      spendingMonthRuns: count(args["month-runs"], 5_000, "month-runs"),
      spendingHistoryRuns: count(args["history-runs"], args.quick ? 5_000 : 20_000, "history-runs"),
      spendingRounds: args.quick ? 20 : 50,
    },
  }
}

const log = (message: string) => process.stderr.write(`[bench:store] ${message}\n`)
const thousands = (n: number) => n.toLocaleString("en-US")
const loadAverage = () => os.loadavg().map((x) => Math.round(x * 100) / 100)

// Cleanups run on normal exit, on failure and on Ctrl-C, so no temp database outlives the run. They
// run newest first (close the store, then drop its schema or directory), once, however many callers
// ask; and only after a store being opened is open, so no in-flight CREATE lands after the DROP.
const cleanups = new Set<() => Promise<void>>()
let opening: Promise<unknown> = Promise.resolve()
let cleaning: Promise<void> | undefined
const cleanUp = (): Promise<void> => {
  cleaning ??= (async () => {
    await opening.catch(() => {})
    for (let last = [...cleanups].at(-1); last; last = [...cleanups].at(-1)) {
      cleanups.delete(last)
      await last().catch((error) => log(`cleanup failed: ${String(error)}`))
    }
  })().finally(() => {
    cleaning = undefined
  })
  return cleaning
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`)
    void cleanUp().finally(() => process.exit(130))
  })
}

const dropSchema = (postgresUrl: string, schema: string) => async () => {
  const { default: pg } = await import("pg")
  const client = new pg.Client({ connectionString: postgresUrl })
  try {
    await client.connect()
  } catch {
    return // unreachable server: nothing was created
  }
  try {
    await client.query(`drop schema if exists ${schema} cascade`)
  } finally {
    await client.end()
  }
}

/** Opens a store on a fresh SQLite file or Postgres schema, registering its cleanups. */
const openStore = (dialect: Dialect, postgresUrl: string): Promise<SqlRunStore> => {
  let options: { url: string; schema?: string }
  if (dialect === "sqlite") {
    const dir = mkdtempSync(path.join(os.tmpdir(), "prwright-bench-store-"))
    cleanups.add(async () => rmSync(dir, { recursive: true, force: true }))
    options = { url: `sqlite:${path.join(dir, "bench.db")}` }
  } else {
    const schema = `bench_store_${randomUUID().replaceAll("-", "").slice(0, 12)}`
    // Registered before connecting: createSqlRunStore creates the schema, then may fail migrating.
    cleanups.add(dropSchema(postgresUrl, schema))
    options = { url: postgresUrl, schema }
  }
  const store = createSqlRunStore(options).then((opened) => {
    cleanups.add(() => opened.close())
    return opened
  })
  opening = store
  return store
}

/** The spending guard, old way against new, on a store of its own (see support/store-spending.ts). */
const benchSpending = async (
  dialect: Dialect,
  config: ReturnType<typeof readConfig>,
): Promise<SpendingResult> => {
  const { sizes } = config
  const store = await openStore(dialect, config.postgresUrl)
  log(
    `${dialect}: spending guard on ${thousands(sizes.spendingMonthRuns)} runs this month (+ ${thousands(sizes.spendingHistoryRuns)} before)`,
  )
  return measureSpending(store, {
    monthRuns: sizes.spendingMonthRuns,
    historyRuns: sizes.spendingHistoryRuns,
    rounds: sizes.spendingRounds,
  })
}

const benchDialect = async (
  dialect: Dialect,
  config: ReturnType<typeof readConfig>,
): Promise<DialectResult> => {
  const { sizes } = config
  // Closed (and its data removed) by cleanUp after each dialect.
  const store = await openStore(dialect, config.postgresUrl)
  const plan = planSeed(sizes.runs, sizes.events, Date.now())
  log(`${dialect}: seeding ${thousands(sizes.runs)} runs, ${thousands(sizes.events)} events`)
  const seedStart = performance.now()
  await seedStore(store.db, dialect, plan, (message) => log(`${dialect}: ${message}`))
  const seedSeconds = (performance.now() - seedStart) / 1000
  const seeded = await describeSeed(store.db, dialect)

  log(`${dialect}: seeded in ${seedSeconds.toFixed(1)} s; measuring listRuns`)
  const listRuns = await measureListRuns(store, plan, { rounds: sizes.listRounds, deepCalls: 20 })
  log(`${dialect}: measuring listEvents`)
  const listEvents = await measureListEvents(store, plan, { calls: sizes.listEventsCalls })
  log(`${dialect}: measuring appendEvents (${sizes.appendRepetitions} x ${thousands(sizes.appends)} events)`)
  const append = await measureAppend(store, plan, {
    total: sizes.appends,
    concurrency: sizes.appendConcurrency,
    runsPerAppender: 32,
    repetitions: sizes.appendRepetitions,
  })
  return {
    eventsPerSec: append.eventsPerSec,
    listP50Ms: listRuns.mix.p50Ms,
    listP99Ms: listRuns.mix.p99Ms,
    listEventsP50Ms: listEvents.p50Ms,
    seeded: {
      runs: seeded.runs,
      events: seeded.events,
      megabytes: Math.round(seeded.bytes / 1e6),
      seconds: Math.round(seedSeconds * 10) / 10,
    },
    append,
    listRuns,
    listEvents,
    spending: await benchSpending(dialect, config),
  }
}

/** Measures each dialect in turn on fresh stores, removed after each; a failure is that dialect's outcome. */
const eachDialect = async <T>(
  config: ReturnType<typeof readConfig>,
  measure: (dialect: Dialect, config: ReturnType<typeof readConfig>) => Promise<T>,
): Promise<Array<[Dialect, T | { error: string }]>> => {
  const outcomes: Array<[Dialect, T | { error: string }]> = []
  try {
    for (const dialect of config.dialects) {
      try {
        outcomes.push([dialect, await measure(dialect, config)])
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        log(`${dialect} failed: ${error instanceof Error ? (error.stack ?? message) : message}`)
        outcomes.push([dialect, { error: message }])
      } finally {
        await cleanUp()
      }
    }
  } finally {
    await cleanUp()
  }
  return outcomes
}

const main = async () => {
  let config: ReturnType<typeof readConfig>
  try {
    config = readConfig()
  } catch (error) {
    log(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`)
    process.exitCode = 2
    return
  }
  const loadAtStart = loadAverage()
  const postgres = config.dialects.includes("postgres") ? redactDatabaseUrl(config.postgresUrl) : undefined
  log(`config: ${JSON.stringify({ ...config.sizes, dialects: config.dialects, postgres })}`)

  const outcomes = await eachDialect<DialectResult | SpendingResult>(
    config,
    config.spendingOnly ? benchSpending : benchDialect,
  )
  // Other processes on the machine move these numbers a lot; the load average says how much.
  const machine = {
    cpus: os.cpus().length,
    node: process.version,
    loadAverage: { start: loadAtStart, end: loadAverage() },
  }
  const spending = outcomes.map(([dialect, outcome]): [Dialect, SpendingResult | { error: string }] => [
    dialect,
    "error" in outcome ? outcome : "ratio" in outcome ? outcome : outcome.spending,
  ])
  const tables = config.spendingOnly
    ? formatSpending(spending)
    : `${formatTable(outcomes as Array<[Dialect, DialectOutcome]>)}\n\n${formatSpending(spending)}`
  process.stdout.write(
    `\nRun store benchmark (${machine.cpus} CPUs, Node ${machine.node}, 1-min load average ` +
      `${machine.loadAverage.start[0]} at start, ${machine.loadAverage.end[0]} at end)\n\n${tables}\n`,
  )
  if (config.json) {
    process.stdout.write(
      `${JSON.stringify({ config: config.sizes, machine, ...Object.fromEntries(outcomes) })}\n`,
    )
  }
  if (config.spendingOnly) {
    if (spending.some(([, outcome]) => "error" in outcome)) process.exitCode = 1
    return
  }
  const results = outcomes.map(([, outcome]) => outcome as DialectOutcome)
  if (!results.every(isMeasured)) process.exitCode = 1
  else if (!results.every(meetsTargets)) log("at least one target was missed (see MISS above)")
}

main().catch(async (error) => {
  await cleanUp()
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  process.exitCode = 1
})
