/**
 * Issue 13, finding 12: a PostgreSQL connection terminated under the service (a database restart,
 * failover, `pg_terminate_backend`, an idle-connection reaper) must not fail the next request or
 * attempt. The store tries such a call once more on a fresh connection. The connections are really
 * terminated, by PostgreSQL itself, found by the application_name this test gives them.
 */

import { sql } from "kysely"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createSqlRunStore, type SqlRunStore } from "#adapters/store/sql/sql-run-store.js"
import { service, uniqueName } from "../support/services.js"

const postgres = await service("postgres")

const sampleRun = (id: string) => ({
  id,
  type: "comment-on-issue" as const,
  repoFullName: "acme/widgets",
  issueNumber: 1,
  priority: "normal" as const,
  input: {},
  trigger: { source: "api" as const },
  maxAttempts: 3,
})

describe.skipIf(!postgres.available)("store calls after PostgreSQL terminated the connections", () => {
  const appName = uniqueName("reconnect")
  const schema = uniqueName("reconnect")
  let store: SqlRunStore
  let admin: pg.Client

  const terminateOurConnections = async () => {
    const result = await admin.query(
      "select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1",
      [appName],
    )
    return result.rowCount ?? 0
  }

  beforeAll(async () => {
    const url = new URL(postgres.url)
    url.searchParams.set("application_name", appName)
    store = await createSqlRunStore({ url: url.toString(), schema })
    admin = new pg.Client({ connectionString: postgres.url })
    await admin.connect()
  })
  afterAll(async () => {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db).catch(() => {})
    await store?.close()
    await admin?.end()
  })

  it("reads and writes succeed on a fresh connection, many times over", async () => {
    await store.createRun(sampleRun("r-before"))
    for (let round = 0; round < 5; round++) {
      // hold several pooled connections open, so the pool has dead ones to hand out afterwards
      await Promise.all([1, 2, 3, 4].map(() => store.listRuns({ limit: 1 })))
      expect(await terminateOurConnections()).toBeGreaterThan(0)
      expect((await store.getRun("r-before"))?.id).toBe("r-before")
      await store.updateRun("r-before", { progress: round })
      await store.createRun(sampleRun(`r-${round}`))
      await store.appendEvents(`r-${round}`, [{ type: "progress", progress: 1 }])
    }
    expect((await store.listRuns({ limit: 50 })).runs).toHaveLength(6)
    expect(await store.listEvents("r-4")).toHaveLength(1)
  })
})
