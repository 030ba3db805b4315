import { Queue } from "bullmq"
import { Redis } from "ioredis"
import { afterEach, describe, expect, it } from "vitest"
import { createBullMqJobQueue } from "#adapters/queue/bullmq/bullmq-job-queue.js"
import type { JobQueue } from "#application/ports/job-queue.js"
import {
  gate,
  jobRequest,
  resultFor,
  runJobQueueContract,
  startStaleWorker,
  waitFor,
} from "../contract/job-queue.contract.js"
import { service, uniqueName } from "../support/services.js"

const redis = await service("redis")

const deleteKeys = async (prefix: string) => {
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 })
  try {
    let cursor = "0"
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500)
      cursor = next
      if (keys.length > 0) await admin.del(...keys)
    } while (cursor !== "0")
  } finally {
    await admin.quit()
  }
}

describe.skipIf(!redis.available)("BullMQ job queue (real Redis)", () => {
  runJobQueueContract("BullMQ", async () => {
    const prefix = uniqueName("bullmq")
    const queue = createBullMqJobQueue({ connection: redis.url, prefix, backoffBaseMs: 5, keyRetryMs: 40 })
    return {
      queue,
      cleanup: async () => {
        await queue.close()
        await deleteKeys(prefix)
      },
    }
  })

  describe("across processes", () => {
    const prefixes: string[] = []
    const open: JobQueue[] = []
    const openQueue = (prefix: string) => {
      // a separate client per instance, as a second process would have
      const queue = createBullMqJobQueue({ connection: redis.url, prefix, backoffBaseMs: 5 })
      open.push(queue)
      return queue
    }
    afterEach(async () => {
      await Promise.all(open.splice(0).map((queue) => queue.close()))
      await Promise.all(prefixes.splice(0).map(deleteKeys))
    })

    it("aborts a handler running in one instance when another instance cancels the job", async () => {
      const prefix = uniqueName("bullmq_x")
      prefixes.push(prefix)
      const runner = openQueue(prefix)
      const api = openQueue(prefix)
      const request = jobRequest({ attempts: 3 })
      await api.enqueue(request)
      const started = gate()
      let calls = 0
      let reason: unknown
      runner.process(
        "comment-on-issue",
        async (job) => {
          calls++
          started.open()
          await new Promise((resolve) => job.signal.addEventListener("abort", resolve, { once: true }))
          reason = job.signal.reason
          throw reason
        },
        { concurrency: 1 },
      )
      await started.opened
      // let the runner's subscriber finish subscribing: the pub/sub path, not the periodic check, must abort
      await new Promise((resolve) => setTimeout(resolve, 100))
      const cancelledAt = Date.now()
      expect(await api.cancel(request.jobId)).toBe(true)
      await waitFor(
        async () => (await api.getJob(request.jobId))?.state === "cancelled",
        "the cancel to land",
      )
      expect(Date.now() - cancelledAt).toBeLessThan(2_000)
      expect((reason as Error).name).toBe("CancelledError")
      await new Promise((resolve) => setTimeout(resolve, 150))
      expect(calls).toBe(1)
      expect((await runner.getJob(request.jobId))?.state).toBe("cancelled")
    })

    it("aborts a running job when its worker shuts down, and another process retries it", async () => {
      const prefix = uniqueName("bullmq_shutdown")
      prefixes.push(prefix)
      const first = openQueue(prefix)
      const request = jobRequest({ attempts: 2 })
      await first.enqueue(request)
      const started = gate()
      let reason: unknown
      const worker = first.process(
        "comment-on-issue",
        async (job) => {
          started.open()
          await new Promise((resolve) => job.signal.addEventListener("abort", resolve, { once: true }))
          reason = job.signal.reason
          throw reason
        },
        { concurrency: 1 },
      )
      await started.opened
      await worker.close({ graceMs: 50 })
      expect((reason as Error).name).toBe("RetryableError")

      const { hostname, port } = new URL(redis.url)
      // ioredis options instead of a URL: the other accepted connection form
      const second = createBullMqJobQueue({
        connection: { host: hostname, port: Number(port || 6379) },
        prefix,
        backoffBaseMs: 5,
      })
      open.push(second)
      const attempts: number[] = []
      second.process(
        "comment-on-issue",
        async (job) => {
          attempts.push(job.attempt)
          return resultFor(job)
        },
        { concurrency: 1 },
      )
      await waitFor(async () => (await second.getJob(request.jobId))?.state === "completed", "the retry")
      // an attempt cut short by a shutdown is handed back, not counted (as in the embedded queue)
      expect(attempts).toEqual([1])
    })

    it("shows a cancel or shutdown that came before the handler first read its signal, also in a copy of the context", async () => {
      const prefix = uniqueName("bullmq_late_signal")
      prefixes.push(prefix)
      const queue = openQueue(prefix)
      const cancelled = jobRequest()
      const interrupted = jobRequest({ issueNumber: 8 })
      await queue.enqueue(cancelled)
      await queue.enqueue(interrupted)
      const seen = new Map<string, { aborted: boolean; reason: unknown; same: boolean }>()
      const started = new Map([cancelled, interrupted].map((request) => [request.jobId, gate()]))
      const release = gate()
      const worker = queue.process(
        "comment-on-issue",
        async (job) => {
          started.get(job.jobId)?.open()
          await release.opened // the signal is not read until the stop has landed
          const copy = { ...job }
          seen.set(job.jobId, {
            aborted: job.signal.aborted,
            reason: job.signal.reason,
            same: copy.signal === job.signal,
          })
          throw job.signal.reason
        },
        { concurrency: 2 },
      )
      await Promise.all([...started.values()].map((one) => one.opened))
      expect(await queue.cancel(cancelled.jobId)).toBe(true)
      const closing = worker.close({ graceMs: 50 })
      await new Promise((resolve) => setTimeout(resolve, 150)) // past the grace: the shutdown abort is in
      release.open()
      await closing
      expect(seen.get(cancelled.jobId)).toMatchObject({ aborted: true, same: true })
      expect((seen.get(cancelled.jobId)?.reason as Error | undefined)?.name).toBe("CancelledError")
      expect(seen.get(interrupted.jobId)).toMatchObject({ aborted: true, same: true })
      expect((seen.get(interrupted.jobId)?.reason as Error | undefined)?.name).toBe("RetryableError")
      await waitFor(async () => (await queue.getJob(cancelled.jobId))?.state === "cancelled", "the cancel")
      // the shutdown handed its job back uncounted, to run again
      const back = await queue.getJob(interrupted.jobId)
      expect(back?.state).toBe("delayed")
      expect(back?.attempt).toBe(0)
    })

    it("fences a worker that lost its job's lock: its handler is aborted and its result refused", async () => {
      const prefix = uniqueName("bullmq_fence")
      prefixes.push(prefix)
      const queue = createBullMqJobQueue({
        connection: redis.url,
        prefix,
        backoffBaseMs: 5,
        lockDurationMs: 400,
        stalledIntervalMs: 60_000,
      })
      open.push(queue)
      const request = jobRequest()
      await queue.enqueue(request)
      const stale = startStaleWorker(queue)
      await stale.started
      const admin = new Redis(redis.url)
      try {
        // another worker took the job over after this one's lock lapsed
        await admin.set(`${prefix}:comment-on-issue:${request.jobId}:lock`, "intruder-token", "PX", 10_000)
        await waitFor(() => stale.reason() !== undefined, "the lost lock to abort the handler", 3_000)
        expect((stale.reason() as Error).message).toMatch(/lost its lock/)
        await new Promise((resolve) => setTimeout(resolve, 200))
        const info = await queue.getJob(request.jobId)
        expect(info?.state).toBe("active")
        expect(info?.result).toBeUndefined()
        expect(await admin.get(`${prefix}:comment-on-issue:${request.jobId}:lock`)).toBe("intruder-token")
      } finally {
        await admin.quit()
      }
    })

    it("runs its Lua scripts by SHA and sends their text again after Redis forgot them (SCRIPT FLUSH)", async () => {
      const prefix = uniqueName("bullmq_lua")
      prefixes.push(prefix)
      const queue = openQueue(prefix)
      const limits = [{ key: "repo:acme/lua", max: 1 }]
      const first = jobRequest({ concurrencyKey: "acme/lua#1", limits })
      await queue.enqueue(first)
      // a restarted Redis has no scripts: every script must still run (Redis answers NOSCRIPT first)
      const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 })
      try {
        await admin.script("FLUSH")
      } finally {
        await admin.quit()
      }
      const second = jobRequest({ concurrencyKey: "acme/lua#2", limits })
      await queue.enqueue(second)
      expect(await queue.placeInLine?.(second.jobId)).toEqual({ place: 2, waitingFor: { kind: "workers" } })
      queue.process("comment-on-issue", async (job) => resultFor(job), { concurrency: 2 })
      for (const request of [first, second])
        await waitFor(async () => (await queue.getJob(request.jobId))?.state === "completed", request.jobId)
    })

    it("re-adds a job BullMQ lost while its id's claim survived (Redis restarted from an AOF missing its last second)", async () => {
      const prefix = uniqueName("bullmq_lost")
      prefixes.push(prefix)
      const queue = openQueue(prefix)
      const request = jobRequest({
        concurrencyKey: "acme/lost#1",
        limits: [{ key: "repo:acme/lost", max: 2 }],
      })
      expect((await queue.enqueue(request)).created).toBe(true)
      // what the restart kept: the claim and the line entry, not BullMQ's job
      const bull = new Queue(request.type, { connection: { url: redis.url }, prefix })
      await bull.remove(request.jobId)
      await bull.close()
      expect(await queue.getJob(request.jobId)).toBeUndefined()
      // a fresh claim may belong to an enqueue still on its way: left alone
      expect(await queue.enqueue(request)).toEqual({ jobId: request.jobId, created: false })
      // a claim older than any enqueue in flight, without its job: the same request takes it over
      const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 })
      try {
        const key = `${prefix}:_ids:${request.jobId}`
        await admin.expire(key, (await admin.ttl(key)) - 60)
      } finally {
        await admin.quit()
      }
      expect(await queue.enqueue(request)).toEqual({ jobId: request.jobId, created: true })
      queue.process("comment-on-issue", async (job) => resultFor(job), { concurrency: 1 })
      await waitFor(
        async () => (await queue.getJob(request.jobId))?.state === "completed",
        "the re-added job",
      )
    })

    it("prunes finished jobs beyond the configured retention", async () => {
      const prefix = uniqueName("bullmq_keep")
      prefixes.push(prefix)
      const queue = createBullMqJobQueue({
        connection: redis.url,
        prefix,
        backoffBaseMs: 5,
        keepCompleted: { count: 2 },
      })
      open.push(queue)
      const ids: string[] = []
      for (let i = 0; i < 5; i++) {
        const request = jobRequest()
        ids.push(request.jobId)
        await queue.enqueue(request)
      }
      const finished: string[] = []
      queue.process(
        "comment-on-issue",
        async (job) => {
          // BullMQ trims by finish time in ms: distinct times make "the 2 newest" well defined
          await new Promise((resolve) => setTimeout(resolve, 3))
          finished.push(job.jobId)
          return resultFor(job)
        },
        { concurrency: 1 },
      )
      await waitFor(() => finished.length === 5, "all five jobs")
      await waitFor(async () => (await queue.getJob(ids[4]!))?.state === "completed", "the last job")
      const kept = await Promise.all(ids.map((id) => queue.getJob(id)))
      expect(kept.map((info) => info?.state)).toEqual([
        undefined,
        undefined,
        undefined,
        "completed",
        "completed",
      ])
      // a pruned job's id still answers "same job" instead of running it again
      expect((await queue.enqueue(jobRequest({ jobId: ids[0]! }))).created).toBe(false)
    })

    it("uses the prefix for every key and leaves no connection open after close", async () => {
      const prefix = uniqueName("bullmq_keys")
      prefixes.push(prefix)
      const queue = createBullMqJobQueue({ connection: redis.url, prefix, backoffBaseMs: 5 })
      const request = jobRequest()
      await queue.enqueue(request)
      queue.process("comment-on-issue", async (job) => resultFor(job), { concurrency: 1 })
      await waitFor(async () => (await queue.getJob(request.jobId))?.state === "completed", "completion")
      await queue.close()

      const admin = new Redis(redis.url)
      try {
        const keys = await admin.keys(`${prefix}:*`)
        expect(keys.some((key) => key.startsWith(`${prefix}:comment-on-issue:`))).toBe(true)
        const clients = await admin.client("LIST")
        expect(String(clients)).not.toContain(prefix)
      } finally {
        await admin.quit()
      }
      await expect(queue.getJob(request.jobId)).rejects.toThrow(/closed/)
    })
  })
})
