/**
 * Run store and queue stay consistent: request-workflow keys jobs by issue, and the run sweeper
 * queues pending runs that lost their job and fails running runs whose job the queue gave up on.
 * Real SQLite run store and embedded queue on one temp file.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import Database from "better-sqlite3"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createMemoryEventBus } from "#adapters/events/memory-event-bus.js"
import { createEmbeddedJobQueue } from "#adapters/queue/embedded/embedded-job-queue.js"
import { createSqlRunStore } from "#adapters/store/sql/sql-run-store.js"
import type { JobQueue } from "#application/ports/job-queue.js"
import type { RunStore } from "#application/ports/run-store.js"
import { createWorkflowRequester } from "#application/request-workflow.js"
import { createRunJournal } from "#application/run-journal.js"
import { createRunSweeper } from "#application/sweep-runs.js"
import { jobRequest, waitFor } from "../contract/job-queue.contract.js"
import { createCapturingLogger } from "../support/logger.js"

describe("run sweeper and request-workflow on the embedded queue", () => {
  let dir: string
  let databasePath: string
  let store: RunStore
  let queue: JobQueue
  let now: number
  const logger = createCapturingLogger()
  const clock = { now: () => new Date(now) }

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "prwright-sweep-"))
    databasePath = path.join(dir, "prwright.db")
    store = await createSqlRunStore({ url: `sqlite:${databasePath}` })
    queue = createEmbeddedJobQueue({ databasePath, backoffBaseMs: 5, pollIntervalMs: 30, leaseMs: 200 })
    now = Date.now()
  })
  afterEach(async () => {
    await queue.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const journal = () => createRunJournal({ store, bus: createMemoryEventBus(), logger })
  const sweeper = () =>
    createRunSweeper({ store, queue, journal: journal(), clock, logger, olderThanMs: 60_000 })
  const pendingRun = async () => {
    const request = jobRequest()
    await store.createRun({
      id: request.jobId,
      type: request.type,
      repoFullName: "octocat/hello-world",
      issueNumber: 7,
      priority: "normal",
      input: request.data as unknown as Record<string, unknown>,
      trigger: { source: "api" },
      maxAttempts: 3,
    })
    return request
  }

  it("queues requests keyed by repository and issue", async () => {
    const requester = createWorkflowRequester({
      store,
      queue,
      journal: journal(),
      newId: () => crypto.randomUUID(),
      logger,
    })
    const body = { repoFullName: "octocat/hello-world", issueNumber: 7 }
    const first = await requester.enqueue("comment-on-issue", body, { source: "api" })
    const second = await requester.enqueue("comment-on-issue", body, { source: "api" })
    const raw = new Database(databasePath, { readonly: true })
    try {
      const keys = raw
        .prepare("SELECT id, concurrency_key AS key FROM queue_jobs ORDER BY seq")
        .all() as Array<{ id: string; key: string }>
      expect(keys).toEqual([
        { id: first.jobId, key: "octocat/hello-world#7" },
        { id: second.jobId, key: "octocat/hello-world#7" },
      ])
    } finally {
      raw.close()
    }
  })

  it("queues a pending run left without a job once it is old enough, exactly once", async () => {
    const request = await pendingRun()
    expect(await sweeper().sweep()).toBe(0) // too young: its enqueue may still be on its way
    expect(await queue.getJob(request.jobId)).toBeUndefined()

    now += 61_000
    expect(await sweeper().sweep()).toBe(1)
    expect(await queue.getJob(request.jobId)).toMatchObject({ state: "waiting", type: "comment-on-issue" })
    expect(await sweeper().sweep()).toBe(0)
    expect(logger.lines.some((line) => line.message === "queued a pending run that had no job")).toBe(true)
  })

  it("fails a pending run whose stored request no longer parses, instead of queueing it", async () => {
    const request = await pendingRun()
    const raw = new Database(databasePath)
    raw
      .prepare("UPDATE runs SET input = ? WHERE id = ?")
      .run(JSON.stringify({ jobId: request.jobId }), request.jobId)
    raw.close()
    now += 61_000
    await sweeper().sweep()
    const run = await store.getRun(request.jobId)
    expect(run?.status).toBe("failed")
    expect(run?.error).toMatch(/repoFullName/)
    expect(await queue.getJob(request.jobId)).toBeUndefined()
  })

  it("fails a running run whose job the queue failed after its worker died", async () => {
    const request = await pendingRun()
    await queue.enqueue({ ...request, attempts: 1 })
    await store.updateRun(request.jobId, { status: "running", attempts: 1, startedAt: new Date(now) })
    // the worker claimed it and died: its lease is already over
    const raw = new Database(databasePath)
    raw
      .prepare(
        "UPDATE queue_jobs SET state = 'active', attempt = 1, lease_owner = 'dead', lease_expires_at = ? WHERE id = ?",
      )
      .run(Date.now() - 1, request.jobId)
    raw.close()
    queue.process(
      "comment-on-issue",
      async () => {
        throw new Error("never runs")
      },
      { concurrency: 1 },
    )
    await waitFor(
      async () => (await queue.getJob(request.jobId))?.state === "failed",
      "the queue to fail the job",
    )

    now += 61_000
    expect(await sweeper().sweep()).toBe(1)
    const run = await store.getRun(request.jobId)
    expect(run?.status).toBe("failed")
    expect(run?.error).toMatch(/stopped without finishing/)
  })
})
