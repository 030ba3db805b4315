import { type Job, type JobsOptions, Queue } from "bullmq"
import { Redis, type RedisOptions } from "ioredis"
import type { JobQueue, JobWorker, Logger, QueueJobInfo, QueueJobState } from "#application/ports.js"
import { errorMessage, PrwrightError, ValidationError } from "#domain/errors.js"
import { JOB_TYPES, type JobType, type Priority } from "#domain/workflow-run.js"
import { checkEnqueueRequest, jobIdConflict } from "../enqueue-checks.js"
import { dataHash } from "../stable-hash.js"
import { CANCELLED_MESSAGE, startBullMqWorker } from "./bullmq-worker.js"
import { type CancelMarker, createCancelRegistry } from "./cancel-registry.js"

export interface BullMqJobQueueOptions {
  /** redis://… URL or ioredis options */
  connection: string | RedisOptions
  /** key prefix of every queue and helper key (default "prwright") */
  prefix?: string
  /** first retry delay; doubles each attempt (default 2000) */
  backoffBaseMs?: number
  logger?: Logger
  /** retention of finished jobs; defaults: completed 24 h / 1000 jobs, failed 7 days / 5000 jobs */
  defaultJobOptions?: Pick<JobsOptions, "removeOnComplete" | "removeOnFail">
  /** how often running jobs re-check for a cancel whose pub/sub message was missed (default 5000) */
  cancelCheckMs?: number
  /** grace for running handlers when the queue is closed, before their signal fires (default 2000) */
  closeGraceMs?: number
}

/**
 * BullMQ orders prioritized jobs by ascending number, FIFO within one number. 0 would mean "no
 * priority", which BullMQ keeps in a separate list served before every prioritized job — so every
 * level, urgent included, gets an explicit number.
 */
const BULLMQ_PRIORITY: Record<Priority, number> = { urgent: 1, high: 2, normal: 3, low: 4 }

const STATE: Record<string, QueueJobState> = {
  waiting: "waiting",
  prioritized: "waiting",
  "waiting-children": "waiting",
  delayed: "delayed",
  active: "active",
  completed: "completed",
  failed: "failed",
}

const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
}

/** The JobQueue on BullMQ: one queue per job type (named after it), workers in any number of processes. */
export const createBullMqJobQueue = (options: BullMqJobQueueOptions): JobQueue => {
  const prefix = options.prefix ?? "prwright"
  const backoffBaseMs = options.backoffBaseMs ?? 2_000
  const logger = (options.logger ?? silentLogger).child({ component: "bullmq-job-queue" })
  const removeOnComplete = options.defaultJobOptions?.removeOnComplete ?? { age: 24 * 3600, count: 1000 }
  const removeOnFail = options.defaultJobOptions?.removeOnFail ?? { age: 7 * 24 * 3600, count: 5000 }
  // a cancel marker lives as long as a failed job would, so getJob can still say "cancelled"
  const retentionSeconds =
    typeof removeOnFail === "object" && "age" in removeOnFail ? removeOnFail.age : 7 * 24 * 3600

  // one shared connection for queues and helper keys; each worker duplicates it for its blocking reads
  // named, so `CLIENT LIST` shows whose connections these are
  const connectionName = `${prefix}:prwright`
  const client =
    typeof options.connection === "string"
      ? new Redis(options.connection, { maxRetriesPerRequest: null, connectionName })
      : new Redis({ connectionName, ...options.connection, maxRetriesPerRequest: null })
  client.on("error", (error) => logger.debug("redis connection error", { error: errorMessage(error) }))

  const cancels = createCancelRegistry({
    client,
    prefix,
    retentionSeconds,
    checkIntervalMs: options.cancelCheckMs ?? 5_000,
    logger,
  })
  const queues = new Map<JobType, Queue>()
  const workers = new Set<JobWorker>()
  let closed: Promise<void> | undefined

  const queueFor = (type: JobType): Queue => {
    let queue = queues.get(type)
    if (!queue) {
      queue = new Queue(type, { connection: client, prefix })
      queue.on("error", (error) => logger.warn("BullMQ queue error", { type, error: errorMessage(error) }))
      queues.set(type, queue)
    }
    return queue
  }

  const assertOpen = () => {
    if (closed)
      throw new PrwrightError(
        "unavailable",
        "the BullMQ job queue is closed: create a new one (shutting down?)",
      )
  }

  const findJob = async (jobId: string): Promise<{ type: JobType; job: Job } | undefined> => {
    const found = await Promise.all(JOB_TYPES.map((type) => queueFor(type).getJob(jobId)))
    const index = found.findIndex((job) => job !== undefined)
    return index < 0 ? undefined : { type: JOB_TYPES[index]!, job: found[index] as Job }
  }

  const toInfo = (type: JobType, job: Job, state: QueueJobState, cancelled: boolean): QueueJobInfo => {
    const touched = Math.max(job.timestamp, job.processedOn ?? 0, job.finishedOn ?? 0)
    const error = cancelled ? CANCELLED_MESSAGE : job.failedReason || undefined
    return {
      jobId: job.id!,
      type,
      state: cancelled ? "cancelled" : state,
      attempt: job.attemptsStarted ?? 0,
      maxAttempts: job.opts.attempts ?? 1,
      progress: state === "completed" ? 100 : typeof job.progress === "number" ? job.progress : 0,
      ...(state === "completed" && job.returnvalue != null ? { result: job.returnvalue } : {}),
      ...(error ? { error } : {}),
      createdAt: new Date(job.timestamp),
      updatedAt: new Date(touched),
    }
  }

  const fromMarker = (marker: CancelMarker): QueueJobInfo => ({
    ...marker.info,
    createdAt: new Date(marker.info.createdAt),
    updatedAt: new Date(marker.info.updatedAt),
  })

  return {
    async enqueue(request) {
      assertOpen()
      checkEnqueueRequest(request)
      const hash = dataHash(request.data)
      const compare = (type: JobType, storedHash: string) => {
        if (type !== request.type || storedHash !== hash) throw jobIdConflict(request.jobId, type)
        return { jobId: request.jobId, created: false }
      }
      const existing = await findJob(request.jobId)
      if (existing) return compare(existing.type, dataHash(existing.job.data))
      const marker = await cancels.readMarker(request.jobId)
      if (marker) return compare(marker.type, marker.dataHash)

      const queue = queueFor(request.type)
      try {
        await queue.add(request.type, request.data, {
          jobId: request.jobId,
          priority: BULLMQ_PRIORITY[request.priority],
          attempts: request.attempts,
          backoff: { type: "exponential", delay: backoffBaseMs, jitter: 0.2 },
          removeOnComplete,
          removeOnFail,
        })
      } catch (error) {
        if (/Custom Id/i.test(errorMessage(error)))
          throw new ValidationError(`invalid jobId "${request.jobId}": ${errorMessage(error)}; use a UUID`, [
            { field: "jobId", message: errorMessage(error) },
          ])
        throw error
      }
      // BullMQ keeps the first job for a duplicate id; a concurrent enqueue with other data loses here
      const stored = await queue.getJob(request.jobId)
      if (stored && dataHash(stored.data) !== hash) throw jobIdConflict(request.jobId, request.type)
      logger.debug("job enqueued", { jobId: request.jobId, type: request.type })
      return { jobId: request.jobId, created: true }
    },

    async getJob(jobId) {
      assertOpen()
      const found = await findJob(jobId)
      if (!found) {
        const marker = await cancels.readMarker(jobId)
        return marker && fromMarker(marker)
      }
      const state = STATE[await found.job.getState()]
      if (!state) return undefined // removed between the two reads
      const cancelled = state === "failed" && (await cancels.readMarker(jobId)) !== undefined
      return toInfo(found.type, found.job, state, cancelled)
    },

    async cancel(jobId) {
      assertOpen()
      const found = await findJob(jobId)
      if (!found) return false
      const state = STATE[await found.job.getState()]
      if (!state || state === "completed" || state === "failed") return false
      const info = toInfo(found.type, found.job, state, true)
      const now = new Date().toISOString()
      // marker first: a worker that picks the job up from here on sees it and refuses to run it
      await cancels.writeMarker(jobId, {
        type: found.type,
        dataHash: dataHash(found.job.data),
        info: { ...info, createdAt: info.createdAt.toISOString(), updatedAt: now },
      })
      if (state !== "active") {
        try {
          await found.job.remove()
          logger.info("waiting job cancelled", { jobId })
          return true
        } catch {
          // it became active in the meantime: fall through to the running-job path
        }
      }
      await cancels.broadcast(jobId)
      cancels.abortLocal(jobId, "cancel")
      logger.info("cancel requested for a running job", { jobId })
      return true
    },

    process(type, handler, { concurrency }) {
      assertOpen()
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new PrwrightError("invalid_input", `concurrency must be a whole number ≥ 1, got ${concurrency}`)
      const worker = startBullMqWorker({
        type,
        handler,
        concurrency,
        connection: client,
        prefix,
        cancels,
        logger: logger.child({ type }),
        onClosed: (closedWorker) => workers.delete(closedWorker),
      })
      workers.add(worker)
      return worker
    },

    close() {
      closed ??= (async () => {
        await Promise.all(
          [...workers].map((worker) => worker.close({ graceMs: options.closeGraceMs ?? 2_000 })),
        )
        await Promise.all([...queues.values()].map((queue) => queue.close()))
        await cancels.close()
        await client.quit().catch(() => client.disconnect())
      })()
      return closed
    },
  }
}
