import { type Job, UnrecoverableError, Worker } from "bullmq"
import type { Redis } from "ioredis"
import type { JobContext, JobHandler, JobWorker, Logger } from "#application/ports.js"
import { errorMessage, isRetryable } from "#domain/errors.js"
import type { JobType } from "#domain/workflow-run.js"
import type { CancelRegistry } from "./cancel-registry.js"

export const CANCELLED_MESSAGE = "the job was cancelled"

/**
 * A BullMQ Worker around a JobHandler. The processor translates our error model into BullMQ's:
 * non-retryable errors and cancels become UnrecoverableError (BullMQ then skips the remaining
 * attempts), a shutdown abort becomes a plain error (retried later by whoever is still running).
 */
export const startBullMqWorker = (options: {
  type: JobType
  handler: JobHandler
  concurrency: number
  connection: Redis
  prefix: string
  cancels: CancelRegistry
  logger: Logger
  onClosed: (worker: JobWorker) => void
}): JobWorker => {
  const { type, handler, cancels, logger } = options

  // three declared parameters: BullMQ only passes its AbortSignal to processors of length ≥ 3
  const processor = async (job: Job, _token: string | undefined, bullSignal: AbortSignal | undefined) => {
    const jobId = job.id!
    const attempt = job.attemptsStarted || job.attemptsMade + 1
    if (await cancels.readMarker(jobId)) throw new UnrecoverableError(CANCELLED_MESSAGE)
    const local = cancels.track(jobId)
    bullSignal?.addEventListener("abort", () => cancels.abortLocal(jobId, "shutdown"), { once: true })
    const context: JobContext = {
      jobId,
      type,
      data: job.data,
      attempt,
      maxAttempts: job.opts.attempts ?? 1,
      signal: local.controller.signal,
      async progress(percent) {
        await job.updateProgress(Math.max(0, Math.min(100, percent)))
      },
    }
    try {
      return await handler(context)
    } catch (error) {
      if (local.stop === "shutdown") throw new Error(`the worker shut down during attempt ${attempt}`)
      if (local.stop === "cancel" || (await cancels.readMarker(jobId).catch(() => undefined)))
        throw new UnrecoverableError(CANCELLED_MESSAGE)
      const message = errorMessage(error)
      logger.info("job attempt failed", { jobId, attempt, retryable: isRetryable(error), error: message })
      if (!isRetryable(error)) throw new UnrecoverableError(message)
      throw error instanceof Error ? error : new Error(message)
    } finally {
      cancels.untrack(jobId)
    }
  }

  const worker = new Worker(options.type, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
  })
  worker.on("error", (error) => logger.warn("BullMQ worker error", { error: errorMessage(error) }))
  cancels.listen()

  let closing: Promise<void> | undefined
  const jobWorker: JobWorker = {
    close({ graceMs = 10_000 } = {}) {
      closing ??= (async () => {
        const closed = worker.close()
        let timer: NodeJS.Timeout | undefined
        const timedOut = await Promise.race([
          closed.then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), graceMs)
          }),
        ])
        clearTimeout(timer)
        if (timedOut) {
          logger.warn("jobs still running after the grace period; aborting them", { type })
          worker.cancelAllJobs("shutdown")
        }
        await closed
        options.onClosed(jobWorker)
      })()
      return closing
    },
  }
  return jobWorker
}
