/**
 * The hot write path of the run store: appending a batch of already-validated events to a run.
 * Each dialect gets the cheapest form that keeps seq numbers consecutive, gap-free and atomic:
 * one statement (one round trip) on PostgreSQL, one short transaction on SQLite.
 */
import { type Kysely, sql } from "kysely"
import type { RunEvent, RunEventData } from "#domain/run-event.js"
import type { Database, SqlDialectName } from "./database.js"
import { eventDataToJson, toNumber } from "./row-mapping.js"
import type { SqliteSync } from "./sqlite-sync.js"

/** Rows per SQLite INSERT, well under its bound-parameter limit (5 per row). */
const INSERT_CHUNK = 500

/**
 * Appends `events` (non-empty, validated) to run `runId` with timestamp `at` (epoch ms). Returns the
 * stored events, or undefined when the run does not exist (nothing is written then).
 */
export type AppendEvents = (
  runId: string,
  events: RunEventData[],
  at: number,
) => Promise<RunEvent[] | undefined>

/**
 * The returned events are rebuilt from the JSON written, not from the caller's objects, so they are
 * exactly what listEvents will read back (a Date or an undefined field inside a tool input comes
 * back the same way from both) and share no references with the caller.
 */
const toEvents = (runId: string, first: number, types: string[], datas: string[], at: number): RunEvent[] => {
  return datas.map(
    (data, index) =>
      ({
        ...(JSON.parse(data) as Record<string, unknown>),
        type: types[index],
        runId,
        seq: first + index,
        at: new Date(at),
      }) as RunEvent,
  )
}

export const createEventAppender = (
  db: Kysely<Database>,
  dialect: SqlDialectName,
  sqlite: SqliteSync | undefined,
): AppendEvents => (dialect === "postgres" || !sqlite ? appendOnPostgres(db) : appendOnSqlite(db, sqlite))

/**
 * One statement, so one round trip and no explicit transaction: the UPDATE reserves the seq range
 * under the run's row lock (which serialises concurrent appenders of one run) and the INSERT fills
 * it. Both commit or neither does. No reserved row means no such run, and then nothing is inserted.
 * Data-modifying CTEs run even though the outer SELECT only reads `r`.
 */
const appendOnPostgres =
  (db: Kysely<Database>): AppendEvents =>
  async (runId, events, at) => {
    const count = events.length
    const types = events.map((event) => event.type)
    const datas = events.map(eventDataToJson)
    const result = await sql<{ last_event_seq: number | string }>`
      with r as (
        update runs set last_event_seq = last_event_seq + ${count}::integer
        where id = ${runId}
        returning last_event_seq
      ), inserted as (
        insert into run_events (run_id, seq, type, data, at)
        select ${runId}, r.last_event_seq - ${count}::integer + e.ord::integer, e.type, e.data::jsonb, ${at}::bigint
        from r, unnest(${types}::text[], ${datas}::text[]) with ordinality as e(type, data, ord)
      )
      select last_event_seq from r`.execute(db)
    const reserved = result.rows[0]
    if (!reserved) return undefined
    return toEvents(runId, toNumber(reserved.last_event_seq) - count + 1, types, datas, at)
  }

/**
 * better-sqlite3 is synchronous and every statement holds the event loop, so the cost is statements
 * and bytes: reserve with UPDATE … RETURNING, insert without reading rows back, all in one
 * synchronous BEGIN IMMEDIATE transaction (sqlite-sync.ts), so the write lock is never held across
 * an await and no read-to-write upgrade can deadlock against another process.
 */
const appendOnSqlite =
  (db: Kysely<Database>, sqlite: SqliteSync): AppendEvents =>
  async (runId, events, at) => {
    const types = events.map((event) => event.type)
    const datas = events.map(eventDataToJson)
    const first = sqlite.transaction(() => {
      const reserved = sqlite.first(
        db
          .updateTable("runs")
          .set((eb) => ({ last_event_seq: eb("last_event_seq", "+", events.length) }))
          .where("id", "=", runId)
          .returning("last_event_seq"),
      )
      if (!reserved) return undefined
      const start = toNumber(reserved.last_event_seq) - events.length + 1
      const values = datas.map((data, index) => ({
        run_id: runId,
        seq: start + index,
        type: types[index] as string,
        data,
        at,
      }))
      for (let offset = 0; offset < values.length; offset += INSERT_CHUNK)
        sqlite.run(db.insertInto("run_events").values(values.slice(offset, offset + INSERT_CHUNK)))
      return start
    })
    return first === undefined ? undefined : toEvents(runId, first, types, datas, at)
  }
