/**
 * A worker process for crash, cancel and shutdown tests of the job queues: run with
 * `node --conditions=prwright-source --import tsx test/support/queue-worker-child.ts`, configured by
 * the QUEUE_CHILD environment variable (JSON, see ChildConfig). It prints one JSON line per event on
 * stdout (`ready`, `started`, `aborted`, `finished`) and stops on SIGTERM through the same shutdown
 * path as `prwright worker`.
 */
import { createBullMqJobQueue } from "#adapters/queue/bullmq/bullmq-job-queue.js"
import { createEmbeddedJobQueue } from "#adapters/queue/embedded/embedded-job-queue.js"
import type { JobQueue } from "#application/ports/job-queue.js"
import { onShutdown } from "#entrypoints/shutdown.js"

export interface ChildConfig {
  adapter: "bullmq" | "embedded"
  redisUrl?: string
  prefix?: string
  databasePath?: string
  /** lease (embedded) / lock duration (BullMQ) */
  lockMs: number
  concurrency?: number
  /** SHUTDOWN_GRACE_MS of this worker */
  graceMs: number
  /** how long a job works before it returns (it stops early when its signal fires) */
  workMs: number
}

const config = JSON.parse(process.env.QUEUE_CHILD ?? "{}") as ChildConfig
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`)

const queue: JobQueue =
  config.adapter === "bullmq"
    ? createBullMqJobQueue({
        connection: config.redisUrl!,
        prefix: config.prefix!,
        backoffBaseMs: 5,
        lockDurationMs: config.lockMs,
        stalledIntervalMs: config.lockMs,
        cancelCheckMs: 200,
      })
    : createEmbeddedJobQueue({
        databasePath: config.databasePath!,
        backoffBaseMs: 5,
        pollIntervalMs: 30,
        leaseMs: config.lockMs,
      })

const worker = queue.process(
  "comment-on-issue",
  async (job) => {
    say({ event: "started", jobId: job.jobId, attempt: job.attempt, pid: process.pid })
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, config.workMs)
      job.signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer)
          resolve()
        },
        { once: true },
      )
    })
    if (job.signal.aborted) {
      const reason = job.signal.reason as Error
      say({ event: "aborted", jobId: job.jobId, reason: reason.name, message: reason.message })
      throw reason
    }
    say({ event: "finished", jobId: job.jobId })
    return {
      success: true,
      jobId: job.jobId,
      issueNumber: 7,
      repoFullName: "octocat/hello-world",
      summary: `done by ${process.pid}`,
      executionTime: config.workMs,
    }
  },
  { concurrency: config.concurrency ?? 1 },
)

onShutdown(async () => {
  await worker.close({ graceMs: config.graceMs })
  await queue.close()
  say({ event: "closed" })
}, config.graceMs + 5_000)
say({ event: "ready", pid: process.pid })
