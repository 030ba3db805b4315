/**
 * The job queues across real processes: a worker child process is SIGKILLed, cancelled from this
 * process, or SIGTERMed mid-job, for both adapters (BullMQ against real Redis with its own prefix).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { Redis } from "ioredis"
import { afterEach, describe, expect, it } from "vitest"
import { createBullMqJobQueue } from "#adapters/queue/bullmq/bullmq-job-queue.js"
import { createEmbeddedJobQueue } from "#adapters/queue/embedded/embedded-job-queue.js"
import type { JobQueue } from "#application/ports/job-queue.js"
import { jobRequest, resultFor, waitFor } from "../contract/job-queue.contract.js"
import type { ChildConfig } from "../support/queue-worker-child.js"
import { service, uniqueName } from "../support/services.js"

const ROOT = path.resolve(import.meta.dirname, "../..")
const redis = await service("redis")
const LOCK_MS = 500

interface Child {
  process: ChildProcess
  events: Array<Record<string, unknown>>
  next(event: string, timeoutMs?: number): Promise<Record<string, unknown>>
  exited: Promise<number | null>
}

const startChild = (config: ChildConfig): Child => {
  const child = spawn(
    process.execPath,
    [
      "--conditions=prwright-source",
      "--import",
      "tsx",
      path.join(ROOT, "test/support/queue-worker-child.ts"),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, QUEUE_CHILD: JSON.stringify(config) },
      stdio: ["ignore", "pipe", "pipe"],
    },
  )
  const events: Array<Record<string, unknown>> = []
  let stderr = ""
  let partial = ""
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n")
    partial = lines.pop() ?? ""
    for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as Record<string, unknown>)
  })
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  let done = false
  void exited.then(() => {
    done = true
  })
  return {
    process: child,
    events,
    exited,
    next: (event, timeoutMs = 15_000) =>
      waitFor(
        () => {
          const found = events.find((e) => e.event === event)
          if (!found && done) throw new Error(`worker child exited before "${event}":\n${stderr}`)
          return found
        },
        `the worker child to report "${event}" (stderr: ${stderr.slice(-500)})`,
        timeoutMs,
      ),
  }
}

interface Setup {
  child(overrides: Partial<ChildConfig>): Child
  /** a queue in this process, with short leases, as "another worker" or "the API" */
  queue(): JobQueue
}

/** Worker children on `child`'s adapter and queues from `queue`, all stopped (then `after`) on cleanup. */
const processSetup = (
  child: Partial<ChildConfig>,
  queue: () => JobQueue,
  after: () => void | Promise<void>,
): { setup: Setup; cleanup(): Promise<void> } => {
  const queues: JobQueue[] = []
  const children: Child[] = []
  return {
    setup: {
      child: (overrides) => {
        const started = startChild({
          lockMs: LOCK_MS,
          graceMs: 300,
          workMs: 60_000,
          ...child,
          ...overrides,
        } as ChildConfig)
        children.push(started)
        return started
      },
      queue: () => {
        const made = queue()
        queues.push(made)
        return made
      },
    },
    cleanup: async () => {
      for (const started of children) started.process.kill("SIGKILL")
      await Promise.all(children.map((started) => started.exited))
      await Promise.all(queues.map((made) => made.close()))
      await after()
    },
  }
}

const adapters: Array<{ name: string; skip?: string; setup(): { setup: Setup; cleanup(): Promise<void> } }> =
  [
    {
      name: "embedded",
      setup() {
        const dir = mkdtempSync(path.join(tmpdir(), "prwright-queue-proc-"))
        const databasePath = path.join(dir, "prwright.db")
        return processSetup(
          { adapter: "embedded", databasePath },
          () =>
            createEmbeddedJobQueue({ databasePath, backoffBaseMs: 5, pollIntervalMs: 30, leaseMs: LOCK_MS }),
          () => rmSync(dir, { recursive: true, force: true }),
        )
      },
    },
    {
      name: "BullMQ",
      ...(redis.available ? {} : { skip: redis.reason }),
      setup() {
        const prefix = uniqueName("bullmq_proc")
        return processSetup(
          { adapter: "bullmq", redisUrl: redis.url, prefix },
          () =>
            createBullMqJobQueue({
              connection: redis.url,
              prefix,
              backoffBaseMs: 5,
              lockDurationMs: LOCK_MS,
              stalledIntervalMs: 200,
            }),
          async () => {
            const admin = new Redis(redis.url)
            const keys = await admin.keys(`${prefix}:*`)
            if (keys.length > 0) await admin.del(...keys)
            await admin.quit()
          },
        )
      },
    },
  ]

for (const adapter of adapters) {
  describe.skipIf(adapter.skip !== undefined)(
    `${adapter.name} job queue across processes${adapter.skip ? ` (skipped: ${adapter.skip})` : ""}`,
    () => {
      let env: { setup: Setup; cleanup(): Promise<void> }
      afterEach(async () => {
        await env?.cleanup()
      })
      const begin = () => {
        env = adapter.setup()
        return env.setup
      }

      it("retries a job whose worker was SIGKILLed mid-job once its lease expires, counting the attempt", async () => {
        const { child, queue } = begin()
        const api = queue()
        const request = jobRequest({ attempts: 3 })
        await api.enqueue(request)
        const doomed = child({})
        const started = await doomed.next("started")
        expect(started).toMatchObject({ jobId: request.jobId, attempt: 1 })
        doomed.process.kill("SIGKILL")
        await doomed.exited

        const attempts: number[] = []
        api.process(
          "comment-on-issue",
          async (job) => {
            attempts.push(job.attempt)
            return resultFor(job, "recovered")
          },
          { concurrency: 1 },
        )
        const done = await waitFor(
          async () => {
            const info = await api.getJob(request.jobId)
            return info?.state === "completed" ? info : undefined
          },
          "the job to be recovered",
          10_000,
        )
        expect(attempts).toEqual([2])
        expect(done).toMatchObject({ attempt: 2, result: { summary: "recovered" } })
      })

      it("frees the limit slot a SIGKILLed worker held once its lease expires: the next job in line runs", async () => {
        const { child, queue } = begin()
        const api = queue()
        const limits = [{ key: "repo:octocat/hello-world", max: 1 }]
        const doomedJob = jobRequest({ attempts: 1, concurrencyKey: "octocat/hello-world#1", limits })
        const next = jobRequest({ concurrencyKey: "octocat/hello-world#2", limits })
        await api.enqueue(doomedJob)
        const doomed = child({})
        await doomed.next("started")
        await api.enqueue(next)
        // the dead worker's job holds the repository's only slot
        if (api.placeInLine)
          expect(await api.placeInLine(next.jobId)).toMatchObject({
            place: 1,
            waitingFor: { kind: "limit", key: "repo:octocat/hello-world", max: 1 },
          })
        doomed.process.kill("SIGKILL")
        await doomed.exited

        const ran: string[] = []
        api.process(
          "comment-on-issue",
          async (job) => {
            ran.push(job.jobId)
            return resultFor(job, "after the dead worker")
          },
          { concurrency: 2 },
        )
        await waitFor(
          async () => ((await api.getJob(next.jobId))?.state === "completed" ? true : undefined),
          "the next job in line to get the freed slot",
          10_000,
        )
        expect(ran).toEqual([next.jobId])
        expect((await api.getJob(next.jobId))?.attempt).toBe(1)
        expect((await api.getJob(doomedJob.jobId))?.state).toBe("failed")
      })

      it("fails a job with a clear reason when its worker dies on the last attempt", async () => {
        const { child, queue } = begin()
        const api = queue()
        const request = jobRequest({ attempts: 1 })
        await api.enqueue(request)
        const doomed = child({})
        await doomed.next("started")
        doomed.process.kill("SIGKILL")
        await doomed.exited

        let ran = 0
        api.process(
          "comment-on-issue",
          async (job) => {
            ran++
            return resultFor(job)
          },
          { concurrency: 1 },
        )
        const failed = await waitFor(
          async () => {
            const info = await api.getJob(request.jobId)
            return info?.state === "failed" ? info : undefined
          },
          "the job to fail",
          10_000,
        )
        expect(ran).toBe(0)
        expect(failed.error).toMatch(/stopped without finishing/)
        expect(failed.attempt).toBeGreaterThanOrEqual(1)
      })

      it("aborts a job running in another process when this process cancels it", async () => {
        const { child, queue } = begin()
        const api = queue()
        const request = jobRequest({ attempts: 3 })
        await api.enqueue(request)
        const worker = child({})
        await worker.next("started")
        await new Promise((resolve) => setTimeout(resolve, 150)) // let the child's cancel listener settle
        const cancelledAt = Date.now()
        expect(await api.cancel(request.jobId)).toBe(true)
        const aborted = await worker.next("aborted", 5_000)
        expect(Date.now() - cancelledAt).toBeLessThan(2_000)
        expect(aborted).toMatchObject({ jobId: request.jobId, reason: "CancelledError" })
        await waitFor(async () => (await api.getJob(request.jobId))?.state === "cancelled", "cancelled")
        await new Promise((resolve) => setTimeout(resolve, 300))
        expect(worker.events.filter((event) => event.event === "started")).toHaveLength(1)
        expect((await api.getJob(request.jobId))?.state).toBe("cancelled")
      })

      it("confirms a cancel when a live worker process holds the job", async () => {
        const { child, queue } = begin()
        const api = queue()
        const request = jobRequest({ attempts: 3 })
        await api.enqueue(request)
        // a long lease: only the worker's own answer can confirm the cancel here
        const worker = child({ lockMs: 30_000 })
        await worker.next("started")
        await new Promise((resolve) => setTimeout(resolve, 150))
        expect(await api.cancel(request.jobId)).toBe(true)
        expect(api.confirmCancel, "the queue acknowledges cancels").toBeDefined()
        expect(await api.confirmCancel!(request.jobId, 1_500)).toBe(true)
        expect(await worker.next("aborted", 5_000)).toMatchObject({ reason: "CancelledError" })
      })

      it("does not confirm a cancel of a job whose worker process was SIGKILLed, and never runs it again", async () => {
        const { child, queue } = begin()
        const api = queue()
        const request = jobRequest({ attempts: 3 })
        await api.enqueue(request)
        const doomed = child({ lockMs: 30_000 })
        await doomed.next("started")
        doomed.process.kill("SIGKILL")
        await doomed.exited
        expect(await api.cancel(request.jobId)).toBe(true)
        expect(api.confirmCancel, "the queue acknowledges cancels").toBeDefined()
        const asked = Date.now()
        expect(await api.confirmCancel!(request.jobId, 1_500)).toBe(false)
        // answered within the wait, not after the 30 s lease
        expect(Date.now() - asked).toBeLessThan(3_000)
        const next = child({ lockMs: 500 })
        await next.next("ready")
        await new Promise((resolve) => setTimeout(resolve, 1_500))
        expect(next.events.filter((event) => event.event === "started")).toHaveLength(0)
      })

      it("on SIGTERM, finishes a job that ends within the grace period and exits", async () => {
        const { child, queue } = begin()
        const api = queue()
        const request = jobRequest()
        await api.enqueue(request)
        const worker = child({ workMs: 400, graceMs: 3_000 })
        await worker.next("started")
        worker.process.kill("SIGTERM")
        expect(await worker.exited).toBe(0)
        expect(worker.events.map((event) => event.event)).toEqual(["ready", "started", "finished", "closed"])
        expect((await api.getJob(request.jobId))?.state).toBe("completed")
      })

      it("on SIGTERM, aborts a long job after the grace period, exits promptly, and the job runs elsewhere", async () => {
        const { child, queue } = begin()
        const api = queue()
        const request = jobRequest({ attempts: 2 })
        await api.enqueue(request)
        const worker = child({ workMs: 60_000, graceMs: 300 })
        await worker.next("started")
        const termAt = Date.now()
        worker.process.kill("SIGTERM")
        expect(await worker.exited).toBe(0)
        // grace (300 ms) plus the time to hand the job back and disconnect
        expect(Date.now() - termAt).toBeLessThan(300 + 2_500)
        expect(await worker.next("aborted")).toMatchObject({ reason: "RetryableError" })

        const attempts: number[] = []
        api.process(
          "comment-on-issue",
          async (job) => {
            attempts.push(job.attempt)
            return resultFor(job)
          },
          { concurrency: 1 },
        )
        await waitFor(
          async () => (await api.getJob(request.jobId))?.state === "completed",
          "the retry",
          8_000,
        )
        // handed back on shutdown, not crashed: the interrupted attempt does not count
        expect(attempts).toEqual([1])
      })
    },
  )
}
