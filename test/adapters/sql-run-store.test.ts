import { randomUUID } from "node:crypto"
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises"
import net from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import SqliteDatabase from "better-sqlite3"
import { CompiledQuery, Kysely, Migrator, SqliteDialect, sql } from "kysely"
import { afterEach, describe, expect, it } from "vitest"
import { createMemoryEventBus } from "#adapters/events/memory-event-bus.js"
import { loadSecretKey } from "#adapters/store/secret-key.js"
import { parseDatabaseUrl, redactDatabaseUrl } from "#adapters/store/sql/connect-database.js"
import { createSqlRunStore, type SqlRunStore, spentCostStatement } from "#adapters/store/sql/sql-run-store.js"
import { createJobRunner } from "#application/run-job.js"
import { createRunJournal } from "#application/run-journal.js"
import { ConfigError, isRetryable, PrwrightError } from "#domain/errors.js"
import { createManualClock, runStoreContracts } from "../contract/run-store.contract.js"
import { createCapturingLogger } from "../support/logger.js"
import { scanFiles } from "../support/secret-scan.js"
import { service, uniqueName } from "../support/services.js"

const postgres = await service("postgres")

/** A TCP hop in front of Postgres that the test can cut, as a network or database outage would. */
const startTcpProxy = async (target: string) => {
  const url = new URL(target)
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(url.port || 5432), url.hostname)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      socket.on("error", () => socket.destroy())
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    url: Object.assign(new URL(target), { host: `127.0.0.1:${port}` }).toString(),
    async cut() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
    },
  }
}

const sampleRun = {
  type: "comment-on-issue" as const,
  repoFullName: "acme/widgets",
  issueNumber: 1,
  priority: "normal" as const,
  input: {},
  trigger: { source: "api" as const },
  maxAttempts: 3,
}

const expectRetryable = (error: unknown, pattern: RegExp) => {
  expect(error).toBeInstanceOf(PrwrightError)
  expect((error as PrwrightError).code).toBe("unavailable")
  expect((error as PrwrightError).retryable).toBe(true)
  expect((error as Error).message).toMatch(pattern)
}

/** A failure after the seq range is reserved must roll the reservation back with the events. */
const checkAtomicAppend = async (store: Awaited<ReturnType<typeof createSqlRunStore>>) => {
  await store.createRun({ id: "atomic", ...sampleRun })
  await store.appendEvents("atomic", [{ type: "plan", plan: "one" }])
  await sql`alter table run_events rename to run_events_away`.execute(store.db)
  const error = await store.appendEvents("atomic", [{ type: "plan", plan: "two" }]).catch((e: unknown) => e)
  await sql`alter table run_events_away rename to run_events`.execute(store.db)
  expectRetryable(error, /appendEvents.*DATABASE_URL.*retried/)
  expect((await store.appendEvents("atomic", [{ type: "plan", plan: "three" }]))[0]?.seq).toBe(2)
  expect(
    (await store.listEvents("atomic")).map((event) => [event.seq, (event as { plan: string }).plan]),
  ).toEqual([
    [1, "one"],
    [2, "three"],
  ])
}

const tempDirs: string[] = []
const makeTempDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "prwright-sql-"))
  tempDirs.push(dir)
  return dir
}
afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

const openSqlite = async (options: Partial<Parameters<typeof createSqlRunStore>[0]> = {}) => {
  const dir = await makeTempDir()
  // a nested directory that does not exist yet: the store creates it
  const url = `sqlite:${path.join(dir, "data", "prwright.db")}`
  const store = await createSqlRunStore({ url, ...options })
  return { store, url, dir }
}

const openPostgres = async (options: Partial<Parameters<typeof createSqlRunStore>[0]> = {}) => {
  const schema = uniqueName("runstore")
  const store = await createSqlRunStore({ url: postgres.url, schema, ...options })
  const cleanup = async () => {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db)
    await store.close()
  }
  return { store, schema, cleanup }
}

/**
 * The spending guard's sum per run request (RunStore.spentCost) must seek the month's runs of its scope,
 * never read the whole table: the plan of the very statement the store runs, on both dialects (Postgres
 * with sequential scans discouraged, as its tiny test table would otherwise be read whole).
 */
const spendingPlans = async (store: SqlRunStore) => {
  const since = { monthStart: new Date("2026-12-01T00:00:00Z"), dayStart: new Date("2026-12-06T00:00:00Z") }
  const plans: string[] = []
  for (const subject of [{ repoFullName: "acme/app" }, { owner: "Acme" }]) {
    const compiled = spentCostStatement(store.db, store.dialect, { subject, ...since }).compile()
    const explain = CompiledQuery.raw(
      `${store.dialect === "sqlite" ? "explain query plan" : "explain"} ${compiled.sql}`,
      [...compiled.parameters],
    )
    const rows = await store.db.transaction().execute(async (trx) => {
      if (store.dialect === "postgres") await sql`set local enable_seqscan = off`.execute(trx)
      return (await trx.executeQuery(explain)).rows as Array<Record<string, unknown>>
    })
    plans.push(rows.map((row) => String(row.detail ?? row["QUERY PLAN"])).join("\n"))
  }
  return plans
}

runStoreContracts("SQLite file", async ({ clock, secretKey }) => {
  const { store } = await openSqlite({ clock, secretKey })
  return { store, cleanup: () => store.close() }
})

describe.skipIf(!postgres.available)("PostgreSQL", () => {
  runStoreContracts("PostgreSQL", async ({ clock, secretKey }) => openPostgres({ clock, secretKey }))

  it("sums a repository's or an installation's spend by an index range on (scope, created_at)", async () => {
    const { store, cleanup } = await openPostgres()
    try {
      const [repo, owner] = await spendingPlans(store)
      expect(repo).toMatch(/Index Scan (using|on) runs_repo_created_idx/)
      expect(repo).toMatch(/Index Cond: \(\(repo_full_name = '[^']+'::text\) AND \(created_at >= /)
      expect(owner).toMatch(/Index Scan (using|on) runs_owner_created_idx/)
      expect(owner).toMatch(
        /Index Cond: \(\(lower\(split_part\(repo_full_name, '\/'::text, 1\)\) = 'acme'::text\) AND \(created_at >= /,
      )
    } finally {
      await cleanup()
    }
  })

  it("migrates idempotently, keeping the tables in its own schema", async () => {
    const { store, schema, cleanup } = await openPostgres()
    try {
      await store.migrate()
      await store.migrate()
      const tables = await sql<{ table_name: string }>`
        select table_name from information_schema.tables where table_schema = ${schema} order by table_name`.execute(
        store.db,
      )
      expect(tables.rows.map((row) => row.table_name)).toEqual(
        expect.arrayContaining([
          "api_tokens",
          "plans",
          "repo_settings",
          "run_events",
          "runs",
          "store_migration",
          "store_migration_lock",
          "secrets",
          "webhook_deliveries",
        ]),
      )
      // A second store on the same schema sees the same data and migrates nothing new.
      await store.createRun({
        id: "shared",
        type: "resolve-issue",
        repoFullName: "o/r",
        issueNumber: 1,
        priority: "low",
        input: {},
        trigger: { source: "cli" },
        maxAttempts: 1,
      })
      const again = await createSqlRunStore({ url: postgres.url, schema })
      try {
        expect((await again.getRun("shared"))?.type).toBe("resolve-issue")
      } finally {
        await again.close()
      }
    } finally {
      await cleanup()
    }
  })
})

describe.skipIf(!postgres.available)("PostgreSQL going away mid-run", () => {
  it("fails appendEvents and updateRun retryably and leaves what was written intact", async () => {
    const schema = uniqueName("outage")
    const proxy = await startTcpProxy(postgres.url)
    const store = await createSqlRunStore({ url: proxy.url, schema })
    const direct = await createSqlRunStore({ url: postgres.url, schema })
    try {
      await store.createRun({ id: "mid", ...sampleRun })
      await store.updateRun("mid", { status: "running", attempts: 1 })
      await store.appendEvents("mid", [
        { type: "status", status: "running", attempt: 1 },
        { type: "progress", progress: 10 },
      ])
      await proxy.cut()

      const append = await store.appendEvents("mid", [{ type: "progress", progress: 20 }]).catch((e) => e)
      expectRetryable(append, /appendEvents.*DATABASE_URL/)
      const update = await store.updateRun("mid", { status: "completed" }).catch((e) => e)
      expectRetryable(update, /updateRun/)
      expect(isRetryable(update)).toBe(true)

      // What the database holds is exactly what was acknowledged; the next attempt continues from it.
      expect((await direct.getRun("mid"))?.status).toBe("running")
      expect((await direct.listEvents("mid")).map((event) => event.seq)).toEqual([1, 2])
      expect((await direct.appendEvents("mid", [{ type: "progress", progress: 20 }]))[0]?.seq).toBe(3)
    } finally {
      await store.close()
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(direct.db)
      await direct.close()
    }
  })

  it("makes the job attempt fail retryably when the database goes away while the run writes", async () => {
    const schema = uniqueName("outage_job")
    const proxy = await startTcpProxy(postgres.url)
    const store = await createSqlRunStore({ url: proxy.url, schema })
    const direct = await createSqlRunStore({ url: postgres.url, schema })
    const logger = createCapturingLogger()
    const bus = createMemoryEventBus()
    const journal = createRunJournal({ store, bus, logger })
    const runner = createJobRunner({
      store,
      journal,
      logger,
      clock: { now: () => new Date() },
      workflows: {
        "comment-on-issue": async (context) => {
          await context.emit({ type: "assistant-text", text: "looking around" })
          await proxy.cut()
          await context.emit({ type: "assistant-text", text: "this one cannot be stored" })
          return { artifacts: {} }
        },
      },
    })
    const jobId = randomUUID()
    try {
      await store.createRun({
        id: jobId,
        ...sampleRun,
        input: { repoFullName: "acme/widgets", issueNumber: 1, jobId },
      })
      const failure = await runner({
        jobId,
        type: "comment-on-issue",
        data: { repoFullName: "acme/widgets", issueNumber: 1, jobId },
        attempt: 1,
        maxAttempts: 3,
        signal: new AbortController().signal,
        progress: async () => {},
      }).catch((e: unknown) => e)
      // The queue retries this attempt (isRetryable), it does not end the run.
      expectRetryable(failure, /the run store failed during/)
      const events = await direct.listEvents(jobId)
      expect(events.map((event) => event.type)).toEqual(["status", "assistant-text"])
      expect(events.map((event) => event.seq)).toEqual([1, 2])
      expect((await direct.getRun(jobId))?.status).toBe("running")
    } finally {
      await store.close()
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(direct.db)
      await direct.close()
    }
  })

  it("rolls back a half-done append (PostgreSQL)", async () => {
    const { store, cleanup } = await openPostgres()
    try {
      await checkAtomicAppend(store)
    } finally {
      await cleanup()
    }
  })
})

describe("SQL run store on SQLite", () => {
  const runInput = {
    type: "auto-resolve-issue" as const,
    repoFullName: "acme/widgets",
    issueNumber: 3,
    priority: "high" as const,
    input: { options: { maxSteps: 5 } },
    trigger: { source: "webhook" as const, deliveryId: "d-1" },
    maxAttempts: 3,
  }

  it("keeps runs, events and tokens across close and reopen, and continues the seq", async () => {
    const clock = createManualClock()
    const { store, url } = await openSqlite({ clock })
    await store.createRun({ id: "keep", ...runInput })
    await store.updateRun("keep", { artifacts: { branchName: "prwright/issue-3-x" }, status: "running" })
    await store.appendEvents("keep", [
      { type: "plan", plan: "p" },
      { type: "progress", progress: 50 },
    ])
    await store.addApiToken({ id: "t", label: "l", hash: "hash" })
    const before = await store.getRun("keep")
    await store.close()
    await store.close() // idempotent

    const reopened = await createSqlRunStore({ url, clock })
    try {
      expect(await reopened.getRun("keep")).toEqual(before)
      expect((await reopened.listEvents("keep")).map((event) => event.type)).toEqual(["plan", "progress"])
      expect((await reopened.appendEvents("keep", [{ type: "plan", plan: "q" }]))[0]?.seq).toBe(3)
      expect(await reopened.findApiTokenByHash("hash")).toEqual({ id: "t", label: "l" })
    } finally {
      await reopened.close()
    }
  })

  it("migrates idempotently and sets WAL, synchronous NORMAL, busy timeout and foreign keys", async () => {
    const { store } = await openSqlite()
    try {
      await store.migrate()
      await store.migrate()
      const pragma = async (name: string) =>
        Object.values((await sql.raw(`pragma ${name}`).execute(store.db)).rows[0] as object)[0]
      expect(await pragma("journal_mode")).toBe("wal")
      expect(await pragma("busy_timeout")).toBe(5000)
      expect(await pragma("foreign_keys")).toBe(1)
      expect(await pragma("synchronous")).toBe(1) // NORMAL: see connect-database.ts
      const migrations = await sql<{ name: string }>`select name from store_migration`.execute(store.db)
      expect(migrations.rows.map((row) => row.name)).toEqual([
        "0001_runs_events_tokens",
        "0002_plans_deliveries_secrets_settings",
        "0003_runs_repo_created_index",
        "0004_runs_unpriced_model",
        "0005_runs_owner_created_index",
      ])
    } finally {
      await store.close()
    }
  })

  it("sums a repository's or an installation's spend by an index range on (scope, created_at)", async () => {
    const { store } = await openSqlite()
    try {
      expect(await spendingPlans(store)).toEqual([
        "SEARCH runs USING INDEX runs_repo_created_idx (repo_full_name=? AND created_at>?)",
        "SEARCH runs USING INDEX runs_owner_created_idx (<expr>=? AND created_at>?)",
      ])
    } finally {
      await store.close()
    }
  })

  it("shares a file with another Kysely migrator (the embedded queue's) without either breaking", async () => {
    const dir = await makeTempDir()
    const file = path.join(dir, "shared.db")
    const other = new Kysely({ dialect: new SqliteDialect({ database: new SqliteDatabase(file) }) })
    const otherMigrator = new Migrator({
      db: other,
      provider: {
        getMigrations: async () => ({
          "queue-001": {
            up: async (db) => {
              await db.schema.createTable("queue_jobs").addColumn("id", "text").execute()
            },
          },
        }),
      },
    })
    expect((await otherMigrator.migrateToLatest()).error).toBeUndefined()
    const store = await createSqlRunStore({ url: file })
    try {
      await store.createRun({ id: "x", ...runInput })
      expect((await otherMigrator.migrateToLatest()).error).toBeUndefined()
      await store.migrate()
      expect((await store.getRun("x"))?.id).toBe("x")
    } finally {
      await store.close()
      await other.destroy()
    }
  })

  it("rolls back a half-done append (SQLite)", async () => {
    const { store } = await openSqlite()
    try {
      await checkAtomicAppend(store)
    } finally {
      await store.close()
    }
  })

  it("never writes a secret's value into the database files, and refuses the wrong key", async () => {
    const value = "ghp_plainSecretValue0123456789abcdef"
    const { store, url, dir } = await openSqlite({ secretKey: async () => "the-right-key-0123456789" })
    await store.putSecret("github.token", value)
    expect(await store.getSecret("github.token")).toBe(value)
    // Read the raw bytes of the database and its WAL while the store is open, then after a checkpoint.
    expect(scanFiles(dir, [value])).toEqual([])
    await store.close()
    expect(scanFiles(dir, [value])).toEqual([])

    const wrongKey = await createSqlRunStore({ url, secretKey: async () => "another-key-0123456789" })
    try {
      const error = await wrongKey.getSecret("github.token").catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as Error).message).toMatch(/PRWRIGHT_SECRET_KEY/)
      expect((error as Error).message).not.toContain(value)
    } finally {
      await wrongKey.close()
    }
    const noKey = await createSqlRunStore({ url })
    try {
      await expect(noKey.putSecret("x", "y")).rejects.toThrow(/PRWRIGHT_SECRET_KEY/)
      await expect(noKey.putSecret("x", "y")).rejects.toBeInstanceOf(ConfigError)
    } finally {
      await noKey.close()
    }
  })

  it("generates the secret key into the data dir once (mode 0600, announced), unless PRWRIGHT_SECRET_KEY is set", async () => {
    const dataDir = path.join(await makeTempDir(), "data")
    const logger = createCapturingLogger()
    const key = await loadSecretKey({ dataDir, logger })
    const file = path.join(dataDir, "secret.key")
    expect(key.length).toBeGreaterThanOrEqual(40)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(logger.lines.filter((line) => /PRWRIGHT_SECRET_KEY is not set/.test(line.message))).toHaveLength(1)
    expect(JSON.stringify(logger.lines)).not.toContain(key)
    expect(await loadSecretKey({ dataDir, logger })).toBe(key)
    expect(logger.lines).toHaveLength(1)
    expect(await loadSecretKey({ dataDir, logger, configuredKey: "from-the-environment" })).toBe(
      "from-the-environment",
    )

    // Secrets stored under the generated key read back in a later process that loads the same file.
    const url = `sqlite:${path.join(dataDir, "p.db")}`
    const first = await createSqlRunStore({ url, secretKey: () => loadSecretKey({ dataDir }) })
    await first.putSecret("s", "value")
    await first.close()
    const second = await createSqlRunStore({ url, secretKey: () => loadSecretKey({ dataDir }) })
    try {
      expect(await second.getSecret("s")).toBe("value")
    } finally {
      await second.close()
    }
  })

  it("works in memory", async () => {
    const store = await createSqlRunStore({ url: "sqlite::memory:" })
    try {
      expect(store.dialect).toBe("sqlite")
      await store.createRun({ id: "m", ...runInput })
      expect((await store.listRuns({})).runs.map((run) => run.id)).toEqual(["m"])
    } finally {
      await store.close()
    }
  })
})

describe("DATABASE_URL handling", () => {
  it("understands the sqlite and postgres spellings", () => {
    expect(parseDatabaseUrl("sqlite:./.prwright/prwright.db")).toEqual({
      dialect: "sqlite",
      filename: "./.prwright/prwright.db",
    })
    expect(parseDatabaseUrl("sqlite::memory:")).toEqual({ dialect: "sqlite", filename: ":memory:" })
    expect(parseDatabaseUrl("sqlite:///var/lib/p.db")).toEqual({
      dialect: "sqlite",
      filename: "/var/lib/p.db",
    })
    expect(parseDatabaseUrl("/data/prwright.db")).toEqual({
      dialect: "sqlite",
      filename: "/data/prwright.db",
    })
    expect(parseDatabaseUrl("postgresql://u:p@h/db")).toEqual({
      dialect: "postgres",
      connectionString: "postgresql://u:p@h/db",
    })
    expect(parseDatabaseUrl("postgres://h/db").dialect).toBe("postgres")
  })

  it("refuses an unsupported URL without echoing its password", () => {
    const attempt = () => parseDatabaseUrl("mysql://root:hunter2@db/prwright")
    expect(attempt).toThrow(ConfigError)
    expect(attempt).toThrow(/DATABASE_URL.*sqlite:PATH.*postgres:\/\//)
    expect(attempt).not.toThrow(/hunter2/)
    expect(() => parseDatabaseUrl("sqlite:")).toThrow(ConfigError)
    expect(redactDatabaseUrl("postgres://user:s3cr%40t@host:5432/db")).toBe(
      "postgres://user:***@host:5432/db",
    )
  })

  it("says how to fix an unreachable PostgreSQL, without the password", async () => {
    const error = await createSqlRunStore({ url: "postgres://prwright:hunter2@127.0.0.1:1/prwright" }).then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(PrwrightError)
    expect((error as PrwrightError).code).toBe("unavailable")
    expect((error as Error).message).toContain("DATABASE_URL=postgres://prwright:***@127.0.0.1:1/prwright")
    expect((error as Error).message).not.toContain("hunter2")
  })

  it("says how to fix an SQLite path that cannot be created", async () => {
    const dir = await makeTempDir()
    const blocker = path.join(dir, "file")
    await writeFile(blocker, "not a directory")
    await expect(createSqlRunStore({ url: `sqlite:${path.join(blocker, "sub", "p.db")}` })).rejects.toThrow(
      /cannot open the SQLite database.*DATABASE_URL/,
    )
  })
})
