/**
 * Queue benchmark: raw BullMQ (Queue + Worker used directly), the `queue/bullmq` adapter and the
 * `queue/embedded` adapter, with no-op jobs. Per adapter and concurrency (1 and 50): enqueue/s,
 * processed/s (a pre-filled queue drained by one worker), and enqueue→start latency p50/p99 (jobs
 * enqueued one by one into an idle worker).
 *
 *   node --conditions=prwright-source --import tsx bench/queue.ts [--json] [--jobs N] [--only bullmq]
 *
 * `--only` (comma-separated: bullmq, embedded) measures just those adapters beside raw BullMQ, for
 * quicker iterations; the JSON then leaves the others out.
 *
 * Raw BullMQ gets the same job options the adapter asks BullMQ for (custom id, priority, attempts,
 * backoff, retention), so the ratio measures the adapter's own overhead. Redis: REDIS_URL or
 * redis://127.0.0.1:6379, under a unique prefix that is deleted afterwards.
 */
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import path from "node:path"
import { performance } from "node:perf_hooks"
import { Queue, Worker } from "bullmq"
import { Redis } from "ioredis"
import { createBullMqJobQueue } from "#adapters/queue/bullmq/bullmq-job-queue.js"
import { createEmbeddedJobQueue } from "#adapters/queue/embedded/embedded-job-queue.js"
import type { JobResult } from "#application/job-data.js"
import type { EnqueueRequest, JobQueue } from "#application/ports/job-queue.js"

const args = process.argv.slice(2)
const asJson = args.includes("--json")
const jobsArg = args.indexOf("--jobs")
const JOBS = jobsArg >= 0 ? Number(args[jobsArg + 1]) : 10_000
const onlyArg = args.indexOf("--only")
const ONLY = onlyArg >= 0 ? new Set(["rawBullmq", ...(args[onlyArg + 1] ?? "").split(",")]) : undefined
const JOBS_SERIAL = Math.max(500, Math.floor(JOBS / 4)) // concurrency 1 is slower: fewer jobs, same precision
const LATENCY_SAMPLES = 500
const ENQUEUE_IN_FLIGHT = 50
const REDIS_URL = process.env.REDIS_URL ?? process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379"
const runPrefix = `bench_${randomUUID().slice(0, 8)}`

const log = (line: string) => {
  if (!asJson) console.log(line)
}

interface Target {
  name: string
  enqueue(count: number): Promise<string[]>
  /** one enqueue, resolves when stored */
  enqueueOne(request?: EnqueueRequest): Promise<string>
  /** starts a worker; onStart is called when a job's handler begins */
  work(concurrency: number, onStart: (jobId: string) => void): { close(): Promise<void> }
  close(): Promise<void>
}

const requestFor = (): EnqueueRequest => {
  const jobId = randomUUID()
  return {
    type: "comment-on-issue",
    jobId,
    priority: "normal",
    attempts: 3,
    data: {
      issueNumber: 7,
      repoFullName: "octocat/hello-world",
      jobId,
      postToGitHub: false,
      priority: "normal",
    },
  }
}

const resultOf = (jobId: string): JobResult => ({
  success: true,
  jobId,
  issueNumber: 7,
  repoFullName: "octocat/hello-world",
  executionTime: 0,
})

/** runs `count` calls of `one` with at most `limit` in flight */
const inFlight = async (count: number, limit: number, one: () => Promise<string>): Promise<string[]> => {
  const ids: string[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        next++
        ids.push(await one())
      }
    }),
  )
  return ids
}

const adapterTarget = (name: string, queue: JobQueue): Target => ({
  name,
  enqueueOne: async (request = requestFor()) => {
    await queue.enqueue(request)
    return request.jobId
  },
  enqueue(count) {
    return inFlight(count, ENQUEUE_IN_FLIGHT, () => this.enqueueOne())
  },
  work(concurrency, onStart) {
    return queue.process(
      "comment-on-issue",
      async (job) => {
        onStart(job.jobId)
        return resultOf(job.jobId)
      },
      { concurrency },
    )
  },
  close: () => queue.close(),
})

const rawBullMqTarget = (prefix: string): Target => {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
  const queue = new Queue("comment-on-issue", { connection, prefix })
  const enqueueOne = async (request = requestFor()) => {
    await queue.add("comment-on-issue", request.data, {
      jobId: request.jobId,
      priority: 3,
      attempts: 3,
      backoff: { type: "exponential", delay: 2_000, jitter: 0.2 },
      removeOnComplete: { age: 24 * 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
    })
    return request.jobId
  }
  return {
    name: "raw BullMQ",
    enqueueOne,
    enqueue: (count) => inFlight(count, ENQUEUE_IN_FLIGHT, () => enqueueOne()),
    work(concurrency, onStart) {
      const worker = new Worker(
        "comment-on-issue",
        async (job) => {
          onStart(job.id!)
          return resultOf(job.id!)
        },
        { connection, prefix, concurrency },
      )
      return { close: () => worker.close() }
    },
    async close() {
      await queue.close()
      await connection.quit()
    },
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN

interface Figures {
  enqueuePerSec: number
  processedPerSec: number
  enqueueToStartP50Ms: number
  enqueueToStartP99Ms: number
}

const measure = async (
  make: () => Promise<Target>,
  concurrency: number,
  jobs = concurrency === 1 ? JOBS_SERIAL : JOBS,
  samples = LATENCY_SAMPLES,
): Promise<Figures> => {
  // throughput: fill, then drain with one worker
  let target = await make()
  let t0 = performance.now()
  const ids = await target.enqueue(jobs)
  const enqueueSeconds = (performance.now() - t0) / 1000
  let processed = 0
  let drained!: () => void
  const allDone = new Promise<void>((resolve) => {
    drained = resolve
  })
  t0 = performance.now()
  const worker = target.work(concurrency, () => {
    if (++processed === ids.length) drained()
  })
  await allDone
  const drainSeconds = (performance.now() - t0) / 1000
  await worker.close()
  await target.close()

  // latency: one job at a time into an idle worker
  target = await make()
  const enqueuedAt = new Map<string, number>()
  const latencies: number[] = []
  let started: ((jobId: string) => void) | undefined
  const latencyWorker = target.work(concurrency, (jobId) => {
    const at = enqueuedAt.get(jobId)
    if (at !== undefined) latencies.push(performance.now() - at)
    started?.(jobId)
  })
  await new Promise((resolve) => setTimeout(resolve, 200)) // let the worker connect and go idle
  for (let i = 0; i < samples; i++) {
    const request = requestFor()
    const begun = new Promise<void>((resolve) => {
      started = (jobId) => {
        if (jobId === request.jobId) resolve()
      }
    })
    enqueuedAt.set(request.jobId, performance.now())
    await target.enqueueOne(request)
    await begun
  }
  await latencyWorker.close()
  await target.close()
  latencies.sort((a, b) => a - b)
  return {
    enqueuePerSec: Math.round(ids.length / enqueueSeconds),
    processedPerSec: Math.round(ids.length / drainSeconds),
    enqueueToStartP50Ms: Number(percentile(latencies, 50).toFixed(2)),
    enqueueToStartP99Ms: Number(percentile(latencies, 99).toFixed(2)),
  }
}

const deletePrefix = async (prefix: string) => {
  const admin = new Redis(REDIS_URL)
  let cursor = "0"
  do {
    const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
    cursor = next
    if (keys.length > 0) await admin.unlink(...keys)
  } while (cursor !== "0")
  await admin.quit()
}

const main = async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "prwright-bench-"))
  let round = 0
  // every measurement gets fresh storage: a new prefix or a new file
  const fresh = () => `${runPrefix}_${++round}`
  const allTargets: Record<string, () => Promise<Target>> = {
    rawBullmq: async () => rawBullMqTarget(fresh()),
    bullmq: async () =>
      adapterTarget("queue/bullmq", createBullMqJobQueue({ connection: REDIS_URL, prefix: fresh() })),
    embedded: async () =>
      adapterTarget(
        "queue/embedded",
        createEmbeddedJobQueue({ databasePath: path.join(dir, `${fresh()}.db`) }),
      ),
  }
  const targets = Object.fromEntries(
    Object.entries(allTargets).filter(([name]) => ONLY === undefined || ONLY.has(name)),
  )
  const results: Record<string, Record<string, Figures>> = {}
  log(
    `queue bench: ${JOBS} jobs at concurrency 50, ${JOBS_SERIAL} at 1; ${cpus().length} CPUs; node ${process.version}`,
  )
  try {
    // warm-up (JIT, connections, SQLite page cache), not reported
    for (const make of Object.values(targets)) await measure(make, 10, 1_000, 50)
    // interleaved, so a burst of load from elsewhere on the machine hits every target alike
    for (const concurrency of [1, 50]) {
      for (const [name, make] of Object.entries(targets)) {
        results[name] ??= {}
        const figures = await measure(make, concurrency)
        results[name][`c${concurrency}`] = figures
        log(
          `${name.padEnd(10)} c=${String(concurrency).padEnd(3)} enqueue ${String(figures.enqueuePerSec).padStart(6)}/s  ` +
            `processed ${String(figures.processedPerSec).padStart(6)}/s  enqueue→start p50 ${figures.enqueueToStartP50Ms} ms p99 ${figures.enqueueToStartP99Ms} ms`,
        )
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await deletePrefix(runPrefix)
  }
  const raw = results.rawBullmq!
  const ratio = (name: string, c: string, field: "processedPerSec" | "enqueuePerSec") =>
    Number((results[name]![c]![field] / raw[c]![field]).toFixed(2))
  const measured = ["bullmq", "embedded"].filter((name) => results[name])
  for (const name of measured)
    for (const c of ["c1", "c50"])
      log(
        `${name} ${c}: processed ${ratio(name, c, "processedPerSec")}× raw BullMQ, enqueue ${ratio(name, c, "enqueuePerSec")}× raw BullMQ`,
      )
  if (asJson) {
    const c50 = (name: string) => results[name]!.c50!
    console.log(
      JSON.stringify({
        jobs: JOBS,
        cpus: cpus().length,
        rawBullmq: { ...c50("rawBullmq"), c1: raw.c1 },
        ...(results.bullmq && {
          bullmq: {
            ...c50("bullmq"),
            ratioToRaw: ratio("bullmq", "c50", "processedPerSec"),
            enqueueRatioToRaw: ratio("bullmq", "c50", "enqueuePerSec"),
            c1: { ...results.bullmq.c1!, ratioToRaw: ratio("bullmq", "c1", "processedPerSec") },
          },
        }),
        ...(results.embedded && {
          embedded: {
            ...c50("embedded"),
            ratioToRaw: ratio("embedded", "c50", "processedPerSec"),
            c1: { ...results.embedded.c1!, ratioToRaw: ratio("embedded", "c1", "processedPerSec") },
          },
        }),
      }),
    )
  }
}

await main()
