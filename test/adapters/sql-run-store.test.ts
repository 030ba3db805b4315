import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import SqliteDatabase from "better-sqlite3"
import { Kysely, Migrator, SqliteDialect, sql } from "kysely"
import { afterEach, describe, expect, it } from "vitest"
import { parseDatabaseUrl, redactDatabaseUrl } from "#adapters/store/sql/connect-database.js"
import { createSqlRunStore } from "#adapters/store/sql/sql-run-store.js"
import { ConfigError, PrwrightError } from "#domain/errors.js"
import { createManualClock, runRunStoreContract } from "../contract/run-store.contract.js"
import { service, uniqueName } from "../support/services.js"

const postgres = await service("postgres")

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

runRunStoreContract("SQLite file", async ({ clock }) => {
  const { store } = await openSqlite({ clock })
  return { store, cleanup: () => store.close() }
})

describe.skipIf(!postgres.available)("PostgreSQL", () => {
  runRunStoreContract("PostgreSQL", async ({ clock }) => openPostgres({ clock }))

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
          "run_events",
          "runs",
          "store_migration",
          "store_migration_lock",
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

  it("migrates idempotently and sets WAL, busy timeout and foreign keys", async () => {
    const { store } = await openSqlite()
    try {
      await store.migrate()
      await store.migrate()
      const pragma = async (name: string) =>
        Object.values((await sql.raw(`pragma ${name}`).execute(store.db)).rows[0] as object)[0]
      expect(await pragma("journal_mode")).toBe("wal")
      expect(await pragma("busy_timeout")).toBe(5000)
      expect(await pragma("foreign_keys")).toBe(1)
      const migrations = await sql<{ name: string }>`select name from store_migration`.execute(store.db)
      expect(migrations.rows.map((row) => row.name)).toEqual(["0001_runs_events_tokens"])
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
