/**
 * The embedded defaults keep the run store (Kysely on better-sqlite3) and the embedded queue in one
 * SQLite file. A burst of concurrent enqueues (run insert, its first event in a transaction, the queue
 * job) beside concurrent event appends and artifact merges, through the real container, must never
 * answer SQLITE_BUSY ("database is locked"): a writer waits for the other instead of failing. Before
 * the fix a write transaction of the store stayed open across an await while the queue's synchronous
 * insert spun in `busy_timeout` on the one event loop, so the transaction could not finish either, and
 * the insert failed after 5 s.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import Database from "better-sqlite3"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { loadConfig } from "#main/config.js"
import { type Container, createContainer } from "#main/container.js"
import { createCapturingLogger } from "../support/logger.js"

const BURST = Number(process.env.SQLITE_BURST ?? 160)

describe("one SQLite file, store and embedded queue writing at once", () => {
  let dir: string
  let container: Container

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "prwright-sqlite-burst-"))
    container = await createContainer(
      loadConfig({ PRWRIGHT_DATA_DIR: dir, PRWRIGHT_API_TOKEN: "prw_sqlite_burst_token_0123" }),
      { logger: createCapturingLogger(), model: null },
    )
  })
  afterAll(async () => {
    await container?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it("a burst of enqueues and store writes all succeed, none with SQLITE_BUSY", async () => {
    const seed = await container.store.createRun({
      id: "burst-seed",
      type: "comment-on-issue",
      repoFullName: "acme/burst",
      issueNumber: 100_000,
      priority: "normal",
      input: {},
      trigger: { source: "api" },
      maxAttempts: 3,
    })
    const started = Date.now()
    const results = await Promise.allSettled(
      Array.from({ length: BURST }, (_, i) => {
        // enqueues (store + queue) interleaved with the store's own write transactions
        if (i % 4 === 3)
          return container.store.appendEvents(seed.id, [
            { type: "log", level: "info", message: `burst ${i}` },
            { type: "log", level: "info", message: `burst ${i} again` },
          ])
        if (i % 8 === 5) return container.store.updateRun(seed.id, { artifacts: { [`k${i}`]: i } })
        return container.requester.enqueue(
          "comment-on-issue",
          { repoFullName: "acme/burst", issueNumber: i + 1 },
          { source: "api" },
        )
      }),
    )
    const failures = results
      .filter((result): result is PromiseRejectedResult => result.status === "rejected")
      .map((result) => String(result.reason))
    expect(failures).toEqual([])
    // no writer sat out a busy timeout: the whole burst is far below one 5 s wait
    expect(Date.now() - started).toBeLessThan(4_000)

    const enqueued = Array.from({ length: BURST }, (_, i) => i).filter((i) => i % 4 !== 3 && i % 8 !== 5)
    const runs = await container.store.listRuns({ repoFullName: "acme/burst", limit: 200 })
    expect(runs.runs.length).toBe(enqueued.length + 1)
    for (const run of runs.runs.filter((r) => r.id !== seed.id)) {
      expect(run.status).toBe("pending")
      expect((await container.queue!.getJob(run.id))?.state).toBe("waiting")
    }
    const events = await container.store.listEvents(seed.id)
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
    expect(events).toHaveLength(2 * (BURST / 4))
    const artifacts = (await container.store.getRun(seed.id))?.artifacts as Record<string, number>
    expect(Object.keys(artifacts).filter((key) => key.startsWith("k"))).toHaveLength(BURST / 8)
  })

  it("the file is in WAL mode and stays consistent", async () => {
    const file = new Database(path.join(dir, "prwright.db"), { readonly: true, fileMustExist: true })
    try {
      expect(file.pragma("journal_mode", { simple: true })).toBe("wal")
      expect(file.pragma("integrity_check", { simple: true })).toBe("ok")
    } finally {
      file.close()
    }
  })
})
