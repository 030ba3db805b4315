import { randomUUID } from "node:crypto"
import type { JobContext, JobHandler, JobWorker } from "#application/ports/job-queue.js"
import type { Logger } from "#application/ports/logging.js"
import { CancelledError, errorMessage, isRetryable, RetryableError } from "#domain/errors.js"
import type { JobType } from "#domain/workflow-run.js"
import { retryDelayMs } from "../retry-delay.js"
import type { CancelAcks } from "./cancel-acks.js"
import type { JobRow, JobTable } from "./job-table.js"

/** Why a running handler's signal fired; decides what its row becomes. */
type StopReason = "cancel" | "shutdown" | "lease-lost" | "abandoned"

interface RunningJob {
  jobId: string
  owner: string
  attempt: number
  controller: AbortController
  stop?: StopReason
  done: Promise<void>
}

export interface EmbeddedWorker extends JobWorker {
  readonly type: JobType
  /** a job of this type was enqueued in this process: look now instead of at the next poll */
  wake(): void
  /** abort the job if it runs here; true when it did */
  cancelLocal(jobId: string): boolean
}

export interface EmbeddedWorkerOptions {
  table: JobTable
  type: JobType
  handler: JobHandler
  concurrency: number
  now: () => number
  pollIntervalMs: number
  leaseMs: number
  backoffBaseMs: number
  random: () => number
  logger: Logger
  onClosed: (worker: EmbeddedWorker) => void
  /** a job ended here: its key and limit slots are free, so workers of other types may start one */
  onJobEnded?: (() => void) | undefined
  /** cancel acknowledgements: checked every tick, written when a cancel aborts a handler here */
  acks?: CancelAcks | undefined
}

/** How long close() waits for handlers that ignore their aborted signal before abandoning them. */
const ABANDON_AFTER_MS = 2_000

/**
 * One `process()` call: up to `concurrency` handlers of one job type. A single timer drives it: each
 * tick renews the leases of running jobs (and notices cross-process cancel requests on them), sweeps
 * expired leases of dead processes, and claims work; between ticks it sleeps until the next due job
 * or the poll interval, whichever comes first. All SQLite calls are synchronous, so a tick is atomic
 * with respect to this process's other work.
 */
export const startEmbeddedWorker = (options: EmbeddedWorkerOptions): EmbeddedWorker => {
  const { table, type, handler, concurrency, now, logger } = options
  const running = new Map<string, RunningJob>()
  const heartbeatMs = Math.max(10, Math.floor(options.leaseMs / 3))
  let timer: NodeJS.Timeout | undefined
  let closing: Promise<void> | undefined
  let wakePending = false
  // a wake-up after every finished job must stay O(1): leases and the sweep run on their own cadence
  let nextHeartbeat = 0
  let nextSweep = 0

  const abort = (job: RunningJob, reason: StopReason) => {
    if (job.stop) return
    job.stop = reason
    if (reason === "cancel") {
      // "a live worker has it and is stopping it": the cancelling process need not wait for the lease
      try {
        options.acks?.acknowledge(job.jobId, now())
      } catch (error) {
        logger.warn("could not acknowledge a cancel", { jobId: job.jobId, error: errorMessage(error) })
      }
    }
    const error =
      reason === "cancel"
        ? new CancelledError(`job ${job.jobId} was cancelled`)
        : new RetryableError(
            reason === "shutdown"
              ? `the worker is shutting down; job ${job.jobId} will be picked up again`
              : `job ${job.jobId} was taken over after its lease expired`,
          )
    job.controller.abort(error)
  }

  /** a cancel from another process is seen at the next tick (≤ the poll interval), not the next renewal */
  const checkCancels = () => {
    if (!options.acks) return
    for (const job of running.values())
      if (!job.stop && options.acks.cancelRequested(job.jobId, job.owner)) abort(job, "cancel")
  }

  const heartbeat = () => {
    const expires = now() + options.leaseMs
    for (const job of running.values()) {
      if (job.stop) continue
      const lease = table.renew(job.jobId, job.owner, expires)
      if (!lease) {
        logger.warn("job lease lost; aborting the handler", { jobId: job.jobId, attempt: job.attempt })
        abort(job, "lease-lost")
      } else if (lease.cancelRequested) abort(job, "cancel")
    }
  }

  const finalize = (
    job: RunningJob,
    outcome: { ok: true; result: unknown } | { ok: false; error: unknown },
  ) => {
    if (job.stop === "lease-lost" || job.stop === "abandoned") return
    const at = now()
    if (outcome.ok) {
      if (!table.complete(job.jobId, job.owner, outcome.result, at))
        logger.warn("job finished after losing its lease; result dropped", { jobId: job.jobId })
      return
    }
    if (job.stop === "shutdown") {
      table.release(job.jobId, job.owner, at)
      return
    }
    const message = errorMessage(outcome.error)
    const retry = job.stop !== "cancel" && isRetryable(outcome.error)
    const retryAt = retry
      ? at + retryDelayMs({ attempt: job.attempt, baseMs: options.backoffBaseMs, random: options.random })
      : undefined
    const state = table.fail(job.jobId, job.owner, { message, retryAt, now: at })
    logger.info("job attempt failed", { jobId: job.jobId, attempt: job.attempt, state, error: message })
  }

  const start = (row: JobRow) => {
    const controller = new AbortController()
    const job: RunningJob = {
      jobId: row.id,
      owner: row.lease_owner!,
      attempt: row.attempt,
      controller,
      done: Promise.resolve(),
    }
    const context: JobContext = {
      jobId: row.id,
      type,
      data: JSON.parse(row.data),
      attempt: row.attempt,
      maxAttempts: row.max_attempts,
      signal: controller.signal,
      progress: async (percent) => {
        if (job.stop) return
        const clamped = Math.max(0, Math.min(100, percent))
        const lease = table.progress(job.jobId, job.owner, clamped, now())
        if (!lease) abort(job, "lease-lost")
        else if (lease.cancelRequested) abort(job, "cancel")
      },
    }
    running.set(job.jobId, job)
    job.done = (async () => {
      let outcome: { ok: true; result: unknown } | { ok: false; error: unknown }
      try {
        outcome = { ok: true, result: await handler(context) }
      } catch (error) {
        outcome = { ok: false, error }
      }
      running.delete(job.jobId)
      try {
        finalize(job, outcome)
      } catch (error) {
        logger.error("could not record the outcome of a job", {
          jobId: job.jobId,
          error: errorMessage(error),
        })
      }
      if (!closing) wake()
      options.onJobEnded?.()
    })()
  }

  const pump = () => {
    while (!closing && running.size < concurrency) {
      const row = table.claim(type, randomUUID(), now(), options.leaseMs)
      if (!row) break
      logger.debug("job claimed", { jobId: row.id, attempt: row.attempt })
      start(row)
    }
  }

  const tick = () => {
    timer = undefined
    if (closing) return
    try {
      const at = now()
      if (at >= nextHeartbeat) {
        heartbeat()
        nextHeartbeat = at + heartbeatMs
      } else checkCancels()
      if (at >= nextSweep) {
        for (const swept of table.sweepExpired(at))
          logger.warn("recovered a job whose worker stopped", { jobId: swept.id, state: swept.state })
        nextSweep = at + Math.min(options.pollIntervalMs, heartbeatMs)
      }
      pump()
    } catch (error) {
      logger.error("embedded queue tick failed; retrying at the next poll", { error: errorMessage(error) })
    }
    schedule()
  }

  const schedule = () => {
    if (closing) return
    let delay = options.pollIntervalMs
    if (running.size > 0) delay = Math.min(delay, Math.max(0, nextHeartbeat - now()))
    if (running.size < concurrency) {
      const due = table.nextDue(type)
      if (due !== undefined) delay = Math.min(delay, Math.max(0, due - now()))
    }
    if (timer) clearTimeout(timer)
    timer = setTimeout(tick, delay)
  }

  const wake = () => {
    if (wakePending || closing) return
    wakePending = true
    queueMicrotask(() => {
      wakePending = false
      if (timer) clearTimeout(timer)
      tick()
    })
  }

  const settleWithin = async (ms: number): Promise<void> => {
    let waitTimer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled([...running.values()].map((job) => job.done)),
      new Promise((resolve) => {
        waitTimer = setTimeout(resolve, ms)
      }),
    ])
    clearTimeout(waitTimer)
  }

  const worker: EmbeddedWorker = {
    type,
    wake,
    cancelLocal(jobId) {
      const job = running.get(jobId)
      if (!job) return false
      abort(job, "cancel")
      return true
    },
    close({ graceMs = 10_000 } = {}) {
      closing ??= (async () => {
        if (timer) clearTimeout(timer)
        timer = undefined
        // keep leases alive while handlers finish, or another process would take their jobs over
        const keepAlive = setInterval(heartbeat, heartbeatMs)
        try {
          if (running.size > 0) await settleWithin(graceMs)
          for (const job of running.values()) abort(job, "shutdown")
          if (running.size > 0) await settleWithin(ABANDON_AFTER_MS)
        } finally {
          clearInterval(keepAlive)
        }
        for (const job of running.values()) {
          // the handler ignores its signal; its lease will expire and another worker retries the job
          logger.warn("handler did not stop after abort; abandoning it", { jobId: job.jobId })
          job.stop = "abandoned"
        }
        options.onClosed(worker)
      })()
      return closing
    },
  }
  wake()
  return worker
}
