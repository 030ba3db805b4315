/**
 * Turns DATABASE_URL into a Kysely instance for SQLite (better-sqlite3) or Postgres (pg Pool) and
 * proves it is reachable, so a wrong URL fails at start with the fix instead of at the first request.
 */
import { mkdirSync } from "node:fs"
import path from "node:path"
import SqliteDatabase from "better-sqlite3"
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely"
import type { Logger } from "#application/ports/logging.js"
import { ConfigError, errorMessage, PrwrightError } from "#domain/errors.js"
import type { Database, SqlDialectName } from "./database.js"
import { createSqliteSync, type SqliteSync } from "./sqlite-sync.js"
import { withStatementCache } from "./statement-cache.js"

export type DatabaseTarget =
  | { dialect: "sqlite"; filename: string }
  | { dialect: "postgres"; connectionString: string }

/** Replaces the password of `scheme://user:password@host` so a URL can go into messages and logs. */
export const redactDatabaseUrl = (url: string): string => url.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/, "$1***@")

const SQLITE_SUFFIX = /\.(db|sqlite|sqlite3)$/i

export const parseDatabaseUrl = (url: string): DatabaseTarget => {
  const trimmed = url.trim()
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { dialect: "postgres", connectionString: trimmed }
  if (/^sqlite:/i.test(trimmed)) {
    let filename = trimmed.slice("sqlite:".length)
    // sqlite:///abs/file.db and sqlite://./rel.db are common spellings of sqlite:PATH
    if (filename.startsWith("//")) filename = filename.slice(2)
    if (filename === "") {
      throw new ConfigError(
        "DATABASE_URL is sqlite: without a path: use sqlite:./.prwright/prwright.db, or sqlite::memory: for a throwaway database",
      )
    }
    return { dialect: "sqlite", filename }
  }
  if (!trimmed.includes("://") && SQLITE_SUFFIX.test(trimmed)) return { dialect: "sqlite", filename: trimmed }
  throw new ConfigError(
    `DATABASE_URL "${redactDatabaseUrl(trimmed)}" is not supported: use sqlite:PATH (for example sqlite:./.prwright/prwright.db) or postgres://USER:PASSWORD@HOST:5432/DATABASE`,
  )
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

export interface ConnectedDatabase {
  db: Kysely<Database>
  dialect: SqlDialectName
  /** Postgres schema the tables live in (for the migration table); undefined for SQLite */
  schema?: string
  /** SQLite only: write transactions that never hold the lock across an await (sqlite-sync.ts) */
  sqlite?: SqliteSync
}

const openSqlite = (filename: string): { db: Kysely<Database>; sqlite: SqliteSync } => {
  const inMemory = filename === ":memory:"
  let database: SqliteDatabase.Database
  try {
    if (!inMemory) mkdirSync(path.dirname(path.resolve(filename)), { recursive: true })
    database = new SqliteDatabase(filename)
    if (!inMemory) {
      database.pragma("journal_mode = WAL")
      // In WAL mode NORMAL fsyncs at checkpoints instead of at every commit: the file never corrupts
      // and a crash of the process loses nothing, but a power loss or OS crash may drop the last
      // commits before the crash. That trade buys most of the event-append throughput (the fsync
      // per commit dominated it); deployments that cannot accept it should use PostgreSQL.
      database.pragma("synchronous = NORMAL")
    }
    database.pragma("busy_timeout = 5000")
    database.pragma("foreign_keys = ON")
  } catch (error) {
    throw new ConfigError(
      `cannot open the SQLite database "${filename}" from DATABASE_URL (${errorMessage(error)}): make sure its directory is writable, or point DATABASE_URL (or PRWRIGHT_DATA_DIR) elsewhere`,
    )
  }
  const cached = withStatementCache(database)
  return {
    db: new Kysely<Database>({ dialect: new SqliteDialect({ database: cached.kysely }) }),
    sqlite: createSqliteSync(database, cached.prepare),
  }
}

const openPostgres = async (connectionString: string, schema: string | undefined, logger: Logger) => {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new ConfigError(`schema "${schema}" is not a plain SQL identifier: use letters, digits and _`)
  }
  // Loaded on demand: the embedded (SQLite) setup never needs the Postgres driver.
  const { default: pg } = await import("pg")
  const pool = new pg.Pool({
    connectionString,
    connectionTimeoutMillis: 5000,
    max: 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  })
  // A client losing its connection must not crash the process; the next query reconnects. The pool
  // guards idle clients only: one checked out (between Kysely's queries, or when the socket dies as a
  // query starts) emits "error" with no listener, an uncaught exception, unless it has its own.
  pool.on("error", (error) => logger.warn("postgres connection error", { error: errorMessage(error) }))
  pool.on("connect", (client) => {
    client.on("error", (error) => logger.warn("postgres connection lost", { error: errorMessage(error) }))
  })
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
}

export const connectDatabase = async (options: {
  url: string
  schema?: string | undefined
  logger: Logger
}): Promise<ConnectedDatabase> => {
  const target = parseDatabaseUrl(options.url)
  if (target.dialect === "sqlite") return { ...openSqlite(target.filename), dialect: "sqlite" }

  const db = await openPostgres(target.connectionString, options.schema, options.logger)
  try {
    if (options.schema) await sql`create schema if not exists ${sql.id(options.schema)}`.execute(db)
    const result = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)
    const schema = options.schema ?? result.rows[0]?.schema ?? "public"
    return { db, dialect: "postgres", schema }
  } catch (error) {
    await db.destroy().catch(() => {})
    const url = redactDatabaseUrl(target.connectionString)
    throw new PrwrightError(
      "unavailable",
      `cannot connect to PostgreSQL at DATABASE_URL=${url} (${redactDatabaseUrl(errorMessage(error))}): start the server, check host, port, user, password and database name, or unset DATABASE_URL to use the embedded SQLite database`,
      { cause: error, retryable: true },
    )
  }
}
