// Over ~300 lines: BullMQ's queue side with cancel, stalled-job handling, heartbeats and waiting statistics; the worker side is bullmq-worker.ts.
import { type KeepJobs as BullKeepJobs, type Job, Queue } from "bullmq"
import { Redis, type RedisOptions } from "ioredis"
import type {
  EnqueueRequest,
  EnqueueResult,
  JobQueue,
  JobWorker,
  KeepJobs,
  QueueJobInfo,
  QueueJobState,
} from "#application/ports/job-queue.js"
import type { Logger } from "#application/ports/logging.js"
import { silentLogger } from "#application/ports/logging.js"
import { errorMessage, PrwrightError, ValidationError } from "#domain/errors.js"
import { JOB_TYPES, type JobType, type Priority } from "#domain/workflow-run.js"
import { checkEnqueueRequest, jobIdConflict } from "../enqueue-checks.js"
import { withTimeouts } from "../job-timeouts.js"
import { dataHash } from "../stable-hash.js"
import {
  type HeartbeatStorage,
  redisWorkersKey,
  startHeartbeat,
  WORKER_LIVE_WINDOW_MS,
  withDeadline,
} from "../worker-heartbeats.js"
import { CANCELLED_MESSAGE, jobName, startBullMqWorker } from "./bullmq-worker.js"
import { type CancelMarker, createCancelRegistry } from "./cancel-registry.js"
import { createIdClaims } from "./id-claims.js"
import { createKeyLocks } from "./key-locks.js"
import { createLimitSlots } from "./limit-slots.js"

export interface BullMqJobQueueOptions {
  /** redis://… URL or ioredis options */
  connection: string | RedisOptions
  /** key prefix of every queue and helper key (default "prwright") */
  prefix?: string
  /** first retry delay; doubles each attempt (default 2000) */
  backoffBaseMs?: number
  logger?: Logger
  /** finished jobs kept in Redis; defaults: completed 24 h / 1000 jobs, failed 7 days / 5000 jobs */
  keepCompleted?: KeepJobs
  keepFailed?: KeepJobs
  /** how often running jobs re-check for a cancel whose pub/sub message was missed (default 5000) */
  cancelCheckMs?: number
  /** grace for running handlers when the queue is closed, before their signal fires (default 2000) */
  closeGraceMs?: number
  /** a job's lock lifetime: a killed worker's job is retried about this long after it died (default 30000) */
  lockDurationMs?: number
  /** how often workers look for jobs whose lock expired (default 15000) */
  stalledIntervalMs?: number
  /** how soon a job waiting for its concurrency key looks again (default 1000) */
  keyRetryMs?: number
  /** how long enqueue waits for Redis before answering "unavailable" (default 3000) */
  enqueueTimeoutMs?: number
  /** how often workers write their heartbeat (default 5000) */
  heartbeatMs?: number
}

const REDIS_FIX = "start Redis or fix REDIS_URL; nothing was queued"

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

const toBullKeep = (keep: KeepJobs): BullKeepJobs | false => {
  const age = keep.ageMs === undefined ? undefined : Math.max(1, Math.round(keep.ageMs / 1000))
  if (age !== undefined) return keep.count === undefined ? { age } : { age, count: keep.count }
  return keep.count === undefined ? false : { count: keep.count }
}

/** how long a PING answer stands for the connection that gave it (see ping below) */
const PING_FRESH_MS = 1_000

/** The JobQueue on BullMQ: one queue per job type (named after it), workers in any number of processes. */
export const createBullMqJobQueue = (options: BullMqJobQueueOptions): JobQueue => {
  const prefix = options.prefix ?? "prwright"
  const backoffBaseMs = options.backoffBaseMs ?? 2_000
  const logger = (options.logger ?? silentLogger).child({ component: "bullmq-job-queue" })
  const keepCompleted = options.keepCompleted ?? { ageMs: 24 * 3_600_000, count: 1_000 }
  const keepFailed = options.keepFailed ?? { ageMs: 7 * 24 * 3_600_000, count: 5_000 }
  const removeOnComplete = toBullKeep(keepCompleted)
  const removeOnFail = toBullKeep(keepFailed)
  // id registry entries and cancel markers live as long as a failed job would (30 days if kept by count)
  const retentionSeconds = Math.round((keepFailed.ageMs ?? 30 * 24 * 3_600_000) / 1000)
  const lockDurationMs = options.lockDurationMs ?? 30_000

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
  const idClaims = createIdClaims(client, retentionSeconds)
  const keyLocks = createKeyLocks({ client, prefix, lockMs: lockDurationMs })
  const keyRetryMs = options.keyRetryMs ?? 1_000
  const slots = createLimitSlots({
    client,
    prefix,
    lockMs: lockDurationMs,
    // a deferred job is fetched again about every keyRetryMs: a few misses mean no worker takes it now
    liveMs: 4 * keyRetryMs + 1_000,
    retentionSeconds,
  })
  const queues = new Map<JobType, Queue>()
  const workers = new Set<JobWorker>()
  let closed: Promise<void> | undefined

  const workersKey = (type: JobType) => redisWorkersKey(prefix, type)
  const heartbeats: HeartbeatStorage = {
    async beat(type, workerId, at) {
      await client.zadd(workersKey(type), at, workerId)
    },
    async remove(type, workerId) {
      await client.zrem(workersKey(type), workerId)
    },
    async count(since) {
      const pipeline = client.pipeline()
      for (const type of JOB_TYPES) {
        pipeline.zremrangebyscore(workersKey(type), "-inf", since - 4 * WORKER_LIVE_WINDOW_MS)
        pipeline.zcount(workersKey(type), since, "+inf")
      }
      const results = (await pipeline.exec()) ?? []
      return Object.fromEntries(
        JOB_TYPES.map((type, index) => [type, Number(results[index * 2 + 1]?.[1] ?? 0)]),
      )
    },
  }
  const enqueueTimeoutMs = options.enqueueTimeoutMs ?? 3_000

  // A PING answered this recently on a connection that stayed up is answer enough: every request checks
  // the queue before it stores its run, and a round trip each was a third of an enqueue's Redis traffic.
  // Any close of the connection forgets it, so a request after Redis went away still asks (and is refused).
  let pingedAt = Number.NEGATIVE_INFINITY
  for (const event of ["close", "end", "reconnecting", "error"])
    client.on(event, () => {
      pingedAt = Number.NEGATIVE_INFINITY
    })

  /** Resolves once Redis answers, or fails with the fix after timeoutMs (never waits forever). */
  const ping = async (timeoutMs: number) => {
    if (client.status === "ready" && Date.now() - pingedAt < PING_FRESH_MS) return
    if (client.status !== "ready") {
      let onReady: (() => void) | undefined
      await withDeadline(
        new Promise<void>((resolve) => {
          onReady = resolve
          client.once("ready", resolve)
        }),
        timeoutMs,
        "Redis (REDIS_URL)",
        REDIS_FIX,
      ).finally(() => {
        if (onReady) client.off("ready", onReady)
      })
    }
    await withDeadline(client.ping(), timeoutMs, "Redis (REDIS_URL)", REDIS_FIX)
    pingedAt = Date.now()
  }

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

  /**
   * Which job type an id belongs to and its data hash (`type hash`), written with SET NX before the job
   * is added: one atomic step decides "new job" versus "same id again", across all queues, and keeps
   * answering after the job itself was removed by retention or a cancel.
   */
  const registryKey = (jobId: string) => `${prefix}:_ids:${jobId}`
  const readRegistry = async (jobId: string): Promise<{ type: JobType; hash: string } | undefined> => {
    const raw = await client.get(registryKey(jobId))
    if (raw === null) return undefined
    const [type, hash] = raw.split(" ") as [JobType, string]
    return { type, hash }
  }

  const findJob = async (jobId: string): Promise<{ type: JobType; job: Job } | undefined> => {
    const registered = await readRegistry(jobId)
    const types = registered ? [registered.type] : JOB_TYPES
    const found = await Promise.all(types.map((type) => queueFor(type).getJob(jobId)))
    const index = found.findIndex((job) => job !== undefined)
    return index < 0 ? undefined : { type: types[index]!, job: found[index] as Job }
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
      error,
      createdAt: new Date(job.timestamp),
      updatedAt: new Date(touched),
    }
  }

  const fromMarker = (marker: CancelMarker): QueueJobInfo => ({
    ...marker.info,
    createdAt: new Date(marker.info.createdAt),
    updatedAt: new Date(marker.info.updatedAt),
  })

  /**
   * An id's claim without its BullMQ job, older than any enqueue in flight could be (the claim and the
   * add are milliseconds apart, bounded by enqueueTimeoutMs): the job was lost, not still on its way.
   * A job cancelled or finished and pruned leaves a cancel marker or a run that ended, and only a
   * pending run's sweep (or the same request) enqueues an id again.
   */
  const lostJob = async (jobId: string): Promise<boolean> => {
    const ttl = await client.ttl(registryKey(jobId))
    const claimedForMs = (retentionSeconds - ttl) * 1000
    if (ttl < 0 || claimedForMs < Math.max(10_000, 3 * enqueueTimeoutMs)) return false
    if (await findJob(jobId)) return false
    return (await cancels.readMarker(jobId)) === undefined
  }

  const add = async (request: EnqueueRequest): Promise<EnqueueResult> => {
    const hash = dataHash(request.data)
    const claim = { key: registryKey(request.jobId), value: `${request.type} ${hash}` }
    const inLine = request.concurrencyKey !== undefined || (request.limits?.length ?? 0) > 0
    // in line before BullMQ has it, so no worker fetches the job without its entry; the id's claim and
    // the line entry are one script, so a job in line costs one round trip before BullMQ's own
    const claimed = inLine
      ? await slots.register(request, claim).catch(async (error: unknown) => {
          // the script may have claimed the id before it failed: free both, so a retry can enqueue
          await client.del(claim.key).catch(() => {})
          await slots.forget(request.jobId).catch(() => {})
          throw error
        })
      : await idClaims.claim(claim.key, claim.value)
    if (!claimed) {
      const registered = await readRegistry(request.jobId)
      if (registered && (registered.type !== request.type || registered.hash !== hash))
        throw jobIdConflict(request.jobId, registered.type)
      if (!(await lostJob(request.jobId))) return { jobId: request.jobId, created: false }
      // claimed long ago, yet BullMQ has no such job: it was lost (Redis killed and restarted from an
      // AOF that missed its last second kept the claim, not the job). The same request takes it over.
      logger.warn("re-adding a job whose id was claimed but which BullMQ does not have", {
        jobId: request.jobId,
      })
      await client.expire(claim.key, retentionSeconds)
      if (inLine) await slots.register(request)
    }
    try {
      await queueFor(request.type).add(jobName(request.type, request.concurrencyKey, inLine), request.data, {
        jobId: request.jobId,
        priority: BULLMQ_PRIORITY[request.priority],
        attempts: request.attempts,
        backoff: { type: "exponential", delay: backoffBaseMs, jitter: 0.2 },
        removeOnComplete,
        removeOnFail,
      })
    } catch (error) {
      // nothing was added: free the id so the caller can retry the same request
      await client.del(registryKey(request.jobId)).catch(() => {})
      if (inLine) await slots.forget(request.jobId).catch(() => {})
      if (/Custom Id/i.test(errorMessage(error)))
        throw new ValidationError(`invalid jobId "${request.jobId}": ${errorMessage(error)}; use a UUID`, [
          { field: "jobId", message: errorMessage(error) },
        ])
      throw error
    }
    return { jobId: request.jobId, created: true }
  }

  return {
    async enqueue(request) {
      assertOpen()
      checkEnqueueRequest(request)
      await ping(enqueueTimeoutMs)
      return withDeadline(add(request), enqueueTimeoutMs, "Redis (REDIS_URL)", REDIS_FIX)
    },

    async waitingStats() {
      assertOpen()
      const stats = await withDeadline(
        Promise.all(
          JOB_TYPES.map(async (type) => {
            const queue = queueFor(type)
            const counts = await queue.getJobCounts("waiting", "prioritized", "delayed")
            const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0)
            // prioritized jobs are ordered by priority, not age: look at the first few of each list
            const oldest = waiting
              ? Math.min(
                  ...(await queue.getJobs(["waiting", "prioritized", "delayed"], 0, 49, true)).map(
                    (job) => job.timestamp,
                  ),
                )
              : Date.now()
            return [type, { waiting, oldestWaitingMs: Math.max(0, Date.now() - oldest) }] as const
          }),
        ),
        enqueueTimeoutMs,
        "Redis (REDIS_URL)",
        "start Redis or fix REDIS_URL",
      )
      return Object.fromEntries(stats)
    },

    async placeInLine(jobId, options) {
      assertOpen()
      return withDeadline(
        slots.place(jobId, options?.heldOnly === true),
        enqueueTimeoutMs,
        "Redis (REDIS_URL)",
        "start Redis or fix REDIS_URL",
      )
    },

    async confirmCancel(jobId, waitMs) {
      assertOpen()
      return cancels.waitForAck(jobId, waitMs)
    },

    ping: (timeoutMs) => {
      assertOpen()
      return ping(timeoutMs)
    },

    async liveWorkers() {
      assertOpen()
      return withDeadline(
        heartbeats.count(Date.now() - WORKER_LIVE_WINDOW_MS),
        enqueueTimeoutMs,
        "Redis (REDIS_URL)",
        "start Redis or fix REDIS_URL",
      )
    },

    async liveWorkerIds() {
      assertOpen()
      const read = async () => {
        const pipeline = client.pipeline()
        for (const type of JOB_TYPES)
          pipeline.zrangebyscore(workersKey(type), Date.now() - WORKER_LIVE_WINDOW_MS, "+inf", "WITHSCORES")
        const results = (await pipeline.exec()) ?? []
        return JOB_TYPES.flatMap((type, index) => {
          const flat = (results[index]?.[1] ?? []) as string[]
          const beats: Array<{ id: string; type: JobType; beatAt: number }> = []
          for (let i = 0; i + 1 < flat.length; i += 2)
            beats.push({ id: flat[i]!, type, beatAt: Number(flat[i + 1]) })
          return beats
        })
      }
      return withDeadline(read(), enqueueTimeoutMs, "Redis (REDIS_URL)", "start Redis or fix REDIS_URL")
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
      let job = found.job
      // the job finished between reading it and reading its state: read it again for result and reason
      if ((state === "completed" || state === "failed") && !job.finishedOn) {
        const fresh = await queueFor(found.type).getJob(jobId)
        if (!fresh) return undefined
        job = fresh
      }
      const cancelled = state === "failed" && (await cancels.readMarker(jobId)) !== undefined
      return toInfo(found.type, job, state, cancelled)
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
          await slots.forget(jobId)
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

    process(type, handler, { concurrency, timeouts }) {
      assertOpen()
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new PrwrightError("invalid_input", `concurrency must be a whole number ≥ 1, got ${concurrency}`)
      const workerLogger = logger.child({ type })
      const worker = startBullMqWorker({
        type,
        handler: withTimeouts(handler, timeouts, workerLogger),
        concurrency,
        connection: client,
        prefix,
        cancels,
        keyLocks,
        slots,
        lockDurationMs,
        // a dead worker's job moves back within lock + this interval (≤ 15 s with the default 10 s lock)
        stalledIntervalMs: options.stalledIntervalMs ?? Math.min(5_000, lockDurationMs),
        keyRetryMs,
        logger: workerLogger,
        onClosed: (closedWorker) => workers.delete(closedWorker),
      })
      const heartbeat = startHeartbeat({
        storage: heartbeats,
        type,
        logger: workerLogger,
        ...(options.heartbeatMs ? { intervalMs: options.heartbeatMs } : {}),
      })
      const close = worker.close.bind(worker)
      worker.close = async (closeOptions) => {
        await heartbeat.stop()
        await close(closeOptions)
      }
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
