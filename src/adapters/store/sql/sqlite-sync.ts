import type SqliteDatabase from "better-sqlite3"
import type { Compilable } from "kysely"

/**
 * Write transactions on SQLite, run synchronously in one step. Kysely's `db.transaction()` awaits
 * between its statements, so the file's write lock stayed held across event-loop turns; any other
 * connection to the file in this process (the embedded queue has its own) that wrote meanwhile spun
 * in `busy_timeout` on the one thread, where the transaction holding the lock could not finish
 * either, and failed with SQLITE_BUSY ("database is locked") after 5 s. Here the queries are built
 * with Kysely and run on the better-sqlite3 handle inside `BEGIN IMMEDIATE … COMMIT` with no await
 * in between: the lock is taken at BEGIN (no read-to-write upgrade that another process could make
 * fail) and released before anything else in this process runs, so other writers in the process
 * never see it and writers in other processes wait at most one short transaction (`busy_timeout`).
 */
export interface SqliteSync {
  /** the connection itself: the embedded queue shares it (one page cache, no lock between the two) */
  readonly database: SqliteDatabase.Database
  /** runs `fn` inside BEGIN IMMEDIATE … COMMIT (ROLLBACK if it throws); `fn` must not be async */
  transaction<T>(fn: () => T): T
  /** the rows of a query (SELECT, or a write with RETURNING) */
  all<R>(query: Compilable<R>): R[]
  first<R>(query: Compilable<R>): R | undefined
  /** a write without RETURNING: the number of rows changed */
  run(query: Compilable<unknown>): number
}

export const createSqliteSync = (
  database: SqliteDatabase.Database,
  prepare: (text: string) => SqliteDatabase.Statement,
): SqliteSync => {
  const rowsOf = <R>(query: Compilable<R>): R[] => {
    const { sql, parameters } = query.compile()
    const statement = prepare(sql)
    if (!statement.reader) {
      statement.run(parameters as unknown[])
      return []
    }
    return statement.all(parameters as unknown[]) as R[]
  }
  // one wrapper, made once: better-sqlite3 builds four closures per transaction() call
  const inTransaction = database.transaction((fn: () => unknown) => fn())
  return {
    database,
    transaction: <T>(fn: () => T): T => inTransaction.immediate(fn) as T,
    all: rowsOf,
    first: (query) => rowsOf(query)[0],
    run(query) {
      const { sql, parameters } = query.compile()
      return prepare(sql).run(parameters as unknown[]).changes
    },
  }
}
