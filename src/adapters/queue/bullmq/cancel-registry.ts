import type { Redis } from "ioredis"
import type { QueueJobInfo } from "#application/ports/job-queue.js"
import type { Logger } from "#application/ports/logging.js"
import { CancelledError, errorMessage, RetryableError } from "#domain/errors.js"
import type { JobType } from "#domain/workflow-run.js"

/**
 * Cancellation across processes for the BullMQ adapter. BullMQ itself can only abort a job inside the
 * worker object that runs it, so a cancel is (1) a marker key that outlives the job, read by
 * `getJob` (→ "cancelled") and by the processor before and after a run (→ no retry), and (2) a message
 * on a pub/sub channel that every process with workers listens to, so the one running the job aborts
 * its signal at once. A periodic marker check covers messages lost while a subscriber reconnected.
 */

/** What the marker keeps: enough to answer getJob and an idempotent re-enqueue once the job is removed. */
export interface CancelMarker {
  type: JobType
  dataHash: string
  info: Omit<QueueJobInfo, "createdAt" | "updatedAt"> & { createdAt: string; updatedAt: string }
}

export type StopReason = "cancel" | "shutdown" | "lease-lost"

/**
 * A job running in this process. Its AbortController is made on the first read of `signal` (one costs
 * ~2 µs and ~1 KB of garbage, a visible share of a short job's cost); a stop that comes before that
 * read is kept and applied when the signal is made.
 */
class LocalJob {
  stop?: StopReason
  #controller?: AbortController
  #reason?: Error

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.#reason) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  abort(reason: StopReason, error: Error): void {
    this.stop = reason
    this.#reason = error
    this.#controller?.abort(error)
  }
}

export interface CancelRegistry {
  markerKey(jobId: string): string
  readMarker(jobId: string): Promise<CancelMarker | undefined>
  writeMarker(jobId: string, marker: CancelMarker): Promise<void>
  /** tell every process; the one running the job aborts it */
  broadcast(jobId: string): Promise<void>
  /** true once the process running the job said it is stopping it; false if none did within waitMs */
  waitForAck(jobId: string, waitMs: number): Promise<boolean>
  /** track a job running in this process */
  track(jobId: string): Pick<LocalJob, "signal" | "stop">
  untrack(jobId: string): void
  abortLocal(jobId: string, reason: StopReason): boolean
  /** start listening (idempotent); called when the first worker starts */
  listen(): void
  close(): Promise<void>
}

export const createCancelRegistry = (options: {
  client: Redis
  prefix: string
  retentionSeconds: number
  checkIntervalMs: number
  logger: Logger
}): CancelRegistry => {
  const { client, prefix, logger } = options
  const channel = `${prefix}:_cancel`
  const markerKey = (jobId: string) => `${prefix}:_cancelled:${jobId}`
  // written by the process that runs a cancelled job, the moment it aborts it: "a live worker has it"
  const ackKey = (jobId: string) => `${prefix}:_cancel-ack:${jobId}`
  const acknowledge = (jobId: string) => {
    client
      .set(ackKey(jobId), "1", "EX", 3_600)
      .catch((error: unknown) =>
        logger.debug("could not acknowledge a cancel", { error: errorMessage(error) }),
      )
  }
  const local = new Map<string, LocalJob>()
  // cancels broadcast for jobs not (yet) running here: a job whose start raced its cancel is aborted as
  // soon as it is tracked, without reading the marker on every start
  const recent = new Map<string, number>()
  const RECENT_MS = 30_000
  const remember = (jobId: string) => {
    const now = Date.now()
    for (const [id, at] of recent) if (at < now - RECENT_MS) recent.delete(id)
    recent.set(jobId, now)
  }
  let subscriber: Redis | undefined
  let checkTimer: NodeJS.Timeout | undefined

  const abortLocal = (jobId: string, reason: StopReason): boolean => {
    const job = local.get(jobId)
    if (!job || job.stop) return false
    job.abort(
      reason,
      reason === "cancel"
        ? new CancelledError(`job ${jobId} was cancelled`)
        : new RetryableError(
            reason === "shutdown"
              ? `the worker is shutting down; job ${jobId} will be retried`
              : `job ${jobId} lost its lock; another worker owns it now`,
          ),
    )
    return true
  }

  // the safety net for a cancel whose pub/sub message this process missed
  const checkMarkers = async () => {
    const ids = [...local.entries()].filter(([, job]) => !job.stop).map(([id]) => id)
    if (ids.length === 0) return
    try {
      const found = await client.mget(ids.map(markerKey))
      ids.forEach((id, index) => {
        if (found[index] !== null && abortLocal(id, "cancel")) acknowledge(id)
      })
    } catch (error) {
      logger.warn("could not check for cancel requests", { error: errorMessage(error) })
    }
  }

  return {
    markerKey,
    async readMarker(jobId) {
      const raw = await client.get(markerKey(jobId))
      return raw === null ? undefined : (JSON.parse(raw) as CancelMarker)
    },
    async writeMarker(jobId, marker) {
      await client.set(markerKey(jobId), JSON.stringify(marker), "EX", options.retentionSeconds)
    },
    async broadcast(jobId) {
      await client.publish(channel, jobId)
    },
    async waitForAck(jobId, waitMs) {
      const deadline = Date.now() + waitMs
      for (;;) {
        if ((await client.exists(ackKey(jobId))) > 0) return true
        if (Date.now() >= deadline) return false
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    track(jobId) {
      const job = new LocalJob()
      local.set(jobId, job)
      if (recent.delete(jobId)) abortLocal(jobId, "cancel")
      return job
    },
    untrack(jobId) {
      local.delete(jobId)
    },
    abortLocal(jobId, reason) {
      if (reason === "cancel" && !local.has(jobId)) remember(jobId)
      if (reason === "cancel" && local.has(jobId)) acknowledge(jobId)
      return abortLocal(jobId, reason)
    },
    listen() {
      if (subscriber) return
      subscriber = client.duplicate()
      subscriber.on("error", (error) =>
        logger.debug("cancel subscriber error", { error: errorMessage(error) }),
      )
      subscriber.on("message", (_channel: string, jobId: string) => {
        if (local.has(jobId)) acknowledge(jobId)
        if (abortLocal(jobId, "cancel")) logger.info("job cancelled by request", { jobId })
        else remember(jobId)
      })
      subscriber.subscribe(channel).catch((error: unknown) => {
        logger.warn("could not subscribe to cancel requests; relying on the periodic check", {
          error: errorMessage(error),
        })
      })
      checkTimer = setInterval(() => void checkMarkers(), options.checkIntervalMs)
    },
    async close() {
      if (checkTimer) clearInterval(checkTimer)
      if (subscriber) {
        await subscriber.quit().catch(() => subscriber?.disconnect())
        subscriber = undefined
      }
    },
  }
}
