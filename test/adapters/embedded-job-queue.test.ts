import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import Database from "better-sqlite3"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createEmbeddedJobQueue } from "#adapters/queue/embedded/embedded-job-queue.js"
import type { JobQueue } from "#application/ports/job-queue.js"
import {
  gate,
  jobRequest,
  resultFor,
  runJobQueueContract,
  sleep,
  startStaleWorker,
  waitFor,
} from "../contract/job-queue.contract.js"
import { createCapturingLogger } from "../support/logger.js"

const tempDirs: string[] = []
const tempDbPath = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "prwright-queue-"))
  tempDirs.push(dir)
  return path.join(dir, "nested", "prwright.db")
}
afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

runJobQueueContract("embedded (SQLite)", async () => {
  const queue = createEmbeddedJobQueue({ databasePath: tempDbPath(), backoffBaseMs: 5, pollIntervalMs: 50 })
  return { queue, cleanup: () => queue.close() }
})

describe("embedded job queue", () => {
  let databasePath: string
  const open: JobQueue[] = []
  const openQueue = (overrides: Partial<Parameters<typeof createEmbeddedJobQueue>[0]> = {}) => {
    const queue = createEmbeddedJobQueue({ databasePath, backoffBaseMs: 5, pollIntervalMs: 30, ...overrides })
    open.push(queue)
    return queue
  }
  beforeEach(() => {
    databasePath = tempDbPath()
  })
  afterEach(async () => {
    await Promise.all(open.splice(0).map((queue) => queue.close()))
  })

  it("keeps a waiting job across a close and reopen of the same file", async () => {
    const first = openQueue()
    const request = jobRequest({ priority: "high" })
    await first.enqueue(request)
    await first.close()

    const second = openQueue()
    expect(await second.getJob(request.jobId)).toMatchObject({ state: "waiting", attempt: 0 })
    const ran: string[] = []
    second.process(
      "comment-on-issue",
      async (job) => {
        ran.push(job.jobId)
        return resultFor(job)
      },
      { concurrency: 1 },
    )
    await waitFor(async () => (await second.getJob(request.jobId))?.state === "completed", "the reopened job")
    expect(ran).toEqual([request.jobId])
  })

  it("never lets two queue instances on one file run the same job", async () => {
    const a = openQueue()
    const b = openQueue()
    const runs = new Map<string, string[]>()
    const handler = (who: string) => async (job: Parameters<Parameters<JobQueue["process"]>[1]>[0]) => {
      runs.set(job.jobId, [...(runs.get(job.jobId) ?? []), who])
      await sleep(Math.floor(Math.random() * 5))
      return resultFor(job)
    }
    a.process("comment-on-issue", handler("a"), { concurrency: 3 })
    b.process("comment-on-issue", handler("b"), { concurrency: 3 })
    const ids: string[] = []
    for (let i = 0; i < 40; i++) {
      const request = jobRequest()
      ids.push(request.jobId)
      // alternate producers so both in-process notifiers and the cross-instance poll are exercised
      await (i % 2 === 0 ? a : b).enqueue(request)
    }
    for (const id of ids)
      await waitFor(async () => (await a.getJob(id))?.state === "completed", `job ${id} to complete`)
    expect([...runs.values()].every((who) => who.length === 1)).toBe(true)
    expect(runs.size).toBe(40)
    const byWorker = [...runs.values()].flat()
    expect(byWorker).toContain("a")
    expect(byWorker).toContain("b")
  })

  it("aborts a job running in another instance when it is cancelled from this one", async () => {
    const owner = openQueue({ leaseMs: 300 })
    const other = openQueue()
    const request = jobRequest()
    await owner.enqueue(request)
    const started = gate()
    let aborted = false
    owner.process(
      "comment-on-issue",
      async (job) => {
        started.open()
        await new Promise((resolve) => job.signal.addEventListener("abort", resolve, { once: true }))
        aborted = true
        throw job.signal.reason
      },
      { concurrency: 1 },
    )
    await started.opened
    expect(await other.cancel(request.jobId)).toBe(true)
    await waitFor(
      async () => (await other.getJob(request.jobId))?.state === "cancelled",
      "the cancel to land",
    )
    expect(aborted).toBe(true)
  })

  it("retries a job whose process died mid-run once its lease expires", async () => {
    const queue = openQueue({ leaseMs: 200 })
    const request = jobRequest({ attempts: 3 })
    await queue.enqueue(request)
    // simulate a process that claimed the job and then died: active, lease already expired
    const raw = new Database(databasePath)
    raw
      .prepare(
        "UPDATE queue_jobs SET state = 'active', attempt = 1, lease_owner = 'dead', lease_expires_at = ? WHERE id = ?",
      )
      .run(Date.now() - 1, request.jobId)
    raw.close()

    const attempts: number[] = []
    queue.process(
      "comment-on-issue",
      async (job) => {
        attempts.push(job.attempt)
        return resultFor(job)
      },
      { concurrency: 1 },
    )
    await waitFor(async () => (await queue.getJob(request.jobId))?.state === "completed", "recovery")
    expect(attempts).toEqual([2])
  })

  it("hands a running job back on close and another process finishes it", async () => {
    const first = openQueue()
    const request = jobRequest({ attempts: 1 })
    await first.enqueue(request)
    const started = gate()
    let sawAbort = false
    const worker = first.process(
      "comment-on-issue",
      async (job) => {
        started.open()
        await new Promise((resolve) => job.signal.addEventListener("abort", resolve, { once: true }))
        sawAbort = true
        throw job.signal.reason
      },
      { concurrency: 1 },
    )
    await started.opened
    await worker.close({ graceMs: 50 })
    expect(sawAbort).toBe(true)
    expect(await first.getJob(request.jobId)).toMatchObject({ state: "waiting", attempt: 0 })

    const second = openQueue()
    second.process("comment-on-issue", async (job) => resultFor(job), { concurrency: 1 })
    await waitFor(async () => (await second.getJob(request.jobId))?.state === "completed", "the hand-over")
  })

  it("wakes a worker at once for a job enqueued in the same process", async () => {
    const queue = openQueue({ pollIntervalMs: 60_000 })
    const ran = gate()
    queue.process(
      "comment-on-issue",
      async (job) => {
        ran.open()
        return resultFor(job)
      },
      { concurrency: 1 },
    )
    await sleep(20)
    const startedAt = Date.now()
    await queue.enqueue(jobRequest())
    await ran.opened
    expect(Date.now() - startedAt).toBeLessThan(1_000)
  })

  it("runs a delayed retry when its backoff is over, not at the next poll", async () => {
    const logger = createCapturingLogger()
    const queue = openQueue({ pollIntervalMs: 60_000, backoffBaseMs: 50, logger })
    const request = jobRequest({ attempts: 2 })
    const times: number[] = []
    queue.process(
      "comment-on-issue",
      async (job) => {
        times.push(Date.now())
        if (job.attempt === 1) throw new Error("flaky")
        return resultFor(job)
      },
      { concurrency: 1 },
    )
    await queue.enqueue(request)
    await waitFor(async () => (await queue.getJob(request.jobId))?.state === "completed", "the retry", 3_000)
    expect(times).toHaveLength(2)
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(45)
    expect(
      logger.lines.some((line) => line.message === "job attempt failed" && line.fields?.state === "delayed"),
    ).toBe(true)
  })

  it("fences a worker that lost its lease: its handler is aborted and its result refused", async () => {
    const queue = openQueue({ leaseMs: 150 })
    const request = jobRequest()
    await queue.enqueue(request)
    const stale = startStaleWorker(queue)
    await stale.started
    const raw = new Database(databasePath)
    try {
      // another process took the job over after this one's lease lapsed
      raw
        .prepare("UPDATE queue_jobs SET lease_owner = 'intruder', lease_expires_at = ? WHERE id = ?")
        .run(Date.now() + 60_000, request.jobId)
      await waitFor(() => stale.reason() !== undefined, "the lost lease to abort the handler", 3_000)
      expect((stale.reason() as Error).message).toMatch(/lease expired/)
      await sleep(100)
      const row = raw
        .prepare("SELECT state, lease_owner, result FROM queue_jobs WHERE id = ?")
        .get(request.jobId)
      expect(row).toEqual({ state: "active", lease_owner: "intruder", result: null })
    } finally {
      raw.close()
    }
  })

  it("prunes finished jobs older than the retention age, and beyond the count", async () => {
    let clock = Date.now()
    const queue = openQueue({
      clock: { now: () => new Date(clock) },
      keepCompleted: { ageMs: 60_000, count: 3 },
      keepFailed: { ageMs: 60_000 },
      pruneIntervalMs: 20,
    })
    const requests = Array.from({ length: 5 }, () => jobRequest({ attempts: 1 }))
    for (const request of requests) await queue.enqueue(request)
    const failing = jobRequest({ attempts: 1 })
    await queue.enqueue(failing)
    queue.process(
      "comment-on-issue",
      async (job) => {
        if (job.jobId === failing.jobId) throw new Error("boom")
        return resultFor(job)
      },
      { concurrency: 1 },
    )
    await waitFor(async () => (await queue.getJob(failing.jobId))?.state === "failed", "the failure")
    await waitFor(async () => (await queue.getJob(requests[0]!.jobId)) === undefined, "count pruning")
    const states = await Promise.all(requests.map(async (r) => (await queue.getJob(r.jobId))?.state))
    expect(states.filter((state) => state === "completed")).toHaveLength(3)
    expect((await queue.getJob(failing.jobId))?.state).toBe("failed")
    clock += 61_000
    await waitFor(async () => (await queue.getJob(failing.jobId)) === undefined, "age pruning")
    for (const request of requests) expect(await queue.getJob(request.jobId)).toBeUndefined()
  })

  it("adds the concurrency-key column to a queue file made by an older version", async () => {
    const raw = new Database(databasePath.replace("nested/", ""))
    raw.exec(`CREATE TABLE queue_jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
      data TEXT NOT NULL, data_hash TEXT NOT NULL, priority INTEGER NOT NULL, state TEXT NOT NULL,
      attempt INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL, progress REAL NOT NULL DEFAULT 0,
      result TEXT, error TEXT, run_at INTEGER NOT NULL, lease_owner TEXT, lease_expires_at INTEGER,
      cancel_requested INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
      finished_at INTEGER)`)
    raw.close()
    const queue = openQueue({ databasePath: databasePath.replace("nested/", "") })
    const request = jobRequest({ concurrencyKey: "octocat/hello-world#7" })
    await queue.enqueue(request)
    queue.process("comment-on-issue", async (job) => resultFor(job), { concurrency: 1 })
    await waitFor(async () => (await queue.getJob(request.jobId))?.state === "completed", "the job")
  })

  it("counts the slots held in a queue file made before limits had an active column", async () => {
    const file = databasePath.replace("nested/", "")
    const raw = new Database(file)
    raw.exec(`CREATE TABLE queue_jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
      data TEXT NOT NULL, data_hash TEXT NOT NULL, priority INTEGER NOT NULL, state TEXT NOT NULL,
      attempt INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL, progress REAL NOT NULL DEFAULT 0,
      result TEXT, error TEXT, run_at INTEGER NOT NULL, lease_owner TEXT, lease_expires_at INTEGER,
      cancel_requested INTEGER NOT NULL DEFAULT 0, concurrency_key TEXT, created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL, finished_at INTEGER);
      CREATE TABLE queue_job_limits (job_id TEXT NOT NULL, key TEXT NOT NULL, max INTEGER NOT NULL,
      ord INTEGER NOT NULL, PRIMARY KEY (job_id, key));`)
    // one job running under a limit of 1 (its lease far ahead), one waiting for that slot
    const insert = raw.prepare(`INSERT INTO queue_jobs (id, type, data, data_hash, priority, state, attempt,
      max_attempts, run_at, lease_owner, lease_expires_at, created_at, updated_at)
      VALUES (?, 'comment-on-issue', '{}', 'h', 2, ?, ?, 3, ?, ?, ?, ?, ?)`)
    const now = Date.now()
    insert.run("running-job", "active", 1, now - 10, "someone", now + 3_600_000, now - 10, now - 10)
    insert.run("waiting-job", "waiting", 0, now - 5, null, null, now - 5, now - 5)
    for (const id of ["running-job", "waiting-job"])
      raw
        .prepare("INSERT INTO queue_job_limits (job_id, key, max, ord) VALUES (?, 'repo:acme/app', 1, 0)")
        .run(id)
    raw.close()
    const queue = openQueue({ databasePath: file })
    expect(await queue.placeInLine?.("waiting-job")).toEqual({
      place: 1,
      waitingFor: { kind: "limit", key: "repo:acme/app", max: 1 },
    })
  })

  it("refuses calls after close with a clear error", async () => {
    const queue = openQueue()
    await queue.close()
    await expect(queue.getJob("x")).rejects.toThrow(/closed/)
  })
})
