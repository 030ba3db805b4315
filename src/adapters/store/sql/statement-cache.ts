import type SqliteDatabase from "better-sqlite3"
import type { SqliteDatabase as KyselySqliteDatabase, SqliteStatement } from "kysely"

/**
 * Kysely's SQLite driver prepares every statement on every call; preparing cost as much as running
 * the query (half of GET /api/jobs/:jobId, measured by `npm run bench:api`). The store issues a
 * small, fixed set of SQL texts, so each is prepared once and reused (bounded, oldest out). Safe
 * because better-sqlite3 runs a statement synchronously; a statement Kysely streams (`iterate`)
 * is prepared fresh, since a busy statement cannot be shared. `prepare` is the same cache for the
 * store's synchronous transactions (sqlite-sync.ts).
 */
export const withStatementCache = (
  database: SqliteDatabase.Database,
  max = 500,
): { kysely: KyselySqliteDatabase; prepare: (text: string) => SqliteDatabase.Statement } => {
  const cache = new Map<string, SqliteDatabase.Statement>()
  const prepare = (text: string): SqliteDatabase.Statement => {
    let statement = cache.get(text)
    if (!statement) {
      statement = database.prepare(text)
      if (cache.size >= max) cache.delete(cache.keys().next().value as string)
      cache.set(text, statement)
    }
    return statement
  }
  return {
    prepare,
    kysely: {
      close: () => database.close(),
      prepare(text: string): SqliteStatement {
        const shared = prepare(text)
        return {
          reader: shared.reader,
          all: (parameters) => shared.all(parameters),
          run: (parameters) => shared.run(parameters),
          iterate: (parameters) => database.prepare(text).iterate(parameters),
        }
      },
    },
  }
}
