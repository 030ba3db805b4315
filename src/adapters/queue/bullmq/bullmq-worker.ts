import { DelayedError, type Job, UnrecoverableError, Worker } from "bullmq"
import type { Redis } from "ioredis"
import type { JobContext, JobHandler, JobWorker } from "#application/ports/job-queue.js"
import type { Logger } from "#application/ports/logging.js"
import { errorMessage, isRetryable } from "#domain/errors.js"
import type { JobType } from "#domain/workflow-run.js"
import { STOP_GRACE_MS } from "../job-timeouts.js"
import type { CancelRegistry } from "./cancel-registry.js"
import { handBack, type KeyLock, type KeyLocks } from "./key-locks.js"
import type { Admission, LimitSlots } from "./limit-slots.js"

export const CANCELLED_MESSAGE = "the job was cancelled"

/**
 * BullMQ job names carry the concurrency key (`type|key`) so the job data stays exactly the DTO; a job
 * in the fair line (limit-slots.ts) has a `|` even without a key.
 */
export const jobName = (type: JobType, concurrencyKey: string | undefined, inLine = false): string =>
  concurrencyKey === undefined && !inLine ? type : `${type}|${concurrencyKey ?? ""}`
const keyOf = (job: Job): string | undefined => {
  const bar = job.name.indexOf("|")
  return bar < 0 ? undefined : job.name.slice(bar + 1)
}

/**
 * A job's `signal` is read from its tracked local job, which makes the AbortController on first use.
 * One getter shared by every context: a getter written in an object literal turns each context into a
 * slow dictionary object, whose garbage costs more than the AbortController it saves.
 */
const LOCAL_JOB = Symbol("local job")
type ContextWithLocal = JobContext & { [LOCAL_JOB]: { signal: AbortSignal } }
const lazySignal: PropertyDescriptor = {
  enumerable: true, // so a spread copy of the context keeps its signal
  get(this: ContextWithLocal) {
    return this[LOCAL_JOB].signal
  },
}
const withSignal = (fields: Omit<ContextWithLocal, "signal">): JobContext =>
  Object.defineProperty(fields, "signal", lazySignal) as ContextWithLocal

export interface BullMqWorkerOptions {
  type: JobType
  handler: JobHandler
  concurrency: number
  connection: Redis
  prefix: string
  cancels: CancelRegistry
  keyLocks: KeyLocks
  slots: LimitSlots
  /** how long a job's lock lives without renewal: a killed worker's job is retried after about this */
  lockDurationMs: number
  /** how often this worker looks for jobs whose lock expired */
  stalledIntervalMs: number
  /** how soon a job blocked by its concurrency key looks again */
  keyRetryMs: number
  logger: Logger
  onClosed: (worker: JobWorker) => void
}

/**
 * A BullMQ Worker around a JobHandler. The processor translates our error model into BullMQ's:
 * non-retryable errors, cancels and a last attempt's failure become UnrecoverableError (BullMQ then
 * skips the remaining attempts); a start that cannot run (key busy, shutting down) is handed back to
 * delayed without counting as an attempt.
 */
export const startBullMqWorker = (options: BullMqWorkerOptions): JobWorker => {
  const { type, handler, cancels, logger, connection: client, prefix } = options

  // the jobs this worker runs, aborted with "shutdown" when closing outlasts its grace. Not BullMQ's
  // own signal: a processor declaring it makes BullMQ build an AbortController for every job
  const running = new Set<string>()
  const processor = async (job: Job, token: string | undefined) => {
    const jobId = job.id!
    const attempt = job.attemptsStarted || job.attemptsMade + 1
    const maxAttempts = job.opts.attempts ?? 1
    const key = keyOf(job)
    if (attempt > maxAttempts) {
      // the previous start never finished: its worker died and BullMQ moved the job back as stalled
      if (key !== undefined) await options.slots.forget(jobId).catch(() => {})
      throw new UnrecoverableError(
        `the worker running attempt ${maxAttempts} of ${maxAttempts} stopped without finishing (its lock expired); no attempts are left`,
      )
    }
    // the fair line: the job's key and limit slots, or back to delayed (uncounted) to wait its turn
    let admission: Admission | undefined
    let keyLock: KeyLock | undefined
    if (key !== undefined && token) {
      const answer = await options.slots.admit(jobId, token)
      if (answer === "unregistered") {
        keyLock = key ? await options.keyLocks.acquire(key, jobId, token) : undefined
        if (key && !keyLock) await deferKeyed(job, token)
      } else if (answer === "wait") {
        // cancelled while it was in a worker's hands for this check: out of line for good
        if (await cancels.readMarker(jobId).catch(() => undefined)) {
          await options.slots.forget(jobId).catch(() => {})
          throw new UnrecoverableError(CANCELLED_MESSAGE)
        }
        await deferKeyed(job, token)
      } else admission = answer
    }
    // true once the job will not run again: its line entry goes with its slots
    let ended = false
    // a cancel that raced this start was broadcast and is remembered by track(): no per-job round trip
    const local = cancels.track(jobId)
    running.add(jobId)
    const context = withSignal({
      jobId,
      type,
      data: job.data,
      attempt,
      maxAttempts,
      [LOCAL_JOB]: local,
      async progress(percent) {
        await job.updateProgress(Math.max(0, Math.min(100, percent)))
      },
    })
    try {
      const result = await handler(context)
      ended = true
      return result
    } catch (error) {
      ended = true
      if (local.stop === "shutdown" && token) {
        ended = false
        await handBack(client, { prefix, job, token, runAt: Date.now() })
        throw new DelayedError()
      }
      if (local.stop === "lease-lost") {
        ended = false
        throw new Error(`attempt ${attempt} lost its lock; another worker owns the job`)
      }
      if (local.stop === "cancel" || (await cancels.readMarker(jobId).catch(() => undefined)))
        throw new UnrecoverableError(CANCELLED_MESSAGE)
      const message = errorMessage(error)
      logger.info("job attempt failed", { jobId, attempt, retryable: isRetryable(error), error: message })
      if (!isRetryable(error) || attempt >= maxAttempts) throw new UnrecoverableError(message)
      ended = false
      throw error instanceof Error ? error : new Error(message)
    } finally {
      running.delete(jobId)
      cancels.untrack(jobId)
      if (keyLock) await keyLock.release().catch(() => {})
      if (admission) await admission.release(ended).catch(() => {})
    }
  }

  /** not this job's turn: back to delayed without counting the start */
  const deferKeyed = async (job: Job, token: string): Promise<never> => {
    await handBack(client, { prefix, job, token, runAt: Date.now() + options.keyRetryMs })
    throw new DelayedError()
  }

  const worker = new Worker(options.type, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    // attempts, not stalls, bound a job: the processor fails a job whose last attempt stalled
    maxStalledCount: 1_000,
  })
  worker.on("error", (error) => logger.warn("BullMQ worker error", { error: errorMessage(error) }))
  // fencing: a worker that lost a job's lock stops the handler; BullMQ refuses its result by token
  worker.on("lockRenewalFailed", (jobIds: string[]) => {
    for (const jobId of jobIds) {
      if (cancels.abortLocal(jobId, "lease-lost"))
        logger.warn("job lock lost; aborting the handler", { jobId })
    }
  })
  cancels.listen()

  let closing: Promise<void> | undefined
  const jobWorker: JobWorker = {
    close({ graceMs = 10_000 } = {}) {
      closing ??= (async () => {
        const closed = worker.close()
        if (!(await settles(closed, graceMs))) {
          logger.warn("jobs still running after the grace period; aborting them", { type })
          for (const jobId of running) cancels.abortLocal(jobId, "shutdown")
          if (!(await settles(closed, STOP_GRACE_MS))) {
            // handlers that ignore their signal: leave them; their locks expire and another worker retries
            logger.warn("handlers did not stop after abort; closing without them", { type })
            await worker.close(true)
          }
        }
        options.onClosed(jobWorker)
      })()
      return closing
    },
  }
  return jobWorker
}

const settles = async (promise: Promise<unknown>, ms: number): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined
  const done = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms)
    }),
  ])
  clearTimeout(timer)
  return done
}
