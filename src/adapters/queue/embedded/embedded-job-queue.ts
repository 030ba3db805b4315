import { mkdirSync } from "node:fs"
import path from "node:path"
import Database from "better-sqlite3"
import type { Clock } from "#application/ports/clock.js"
import { type JobQueue, type KeepJobs, stableJson } from "#application/ports/job-queue.js"
import type { Logger } from "#application/ports/logging.js"
import { silentLogger } from "#application/ports/logging.js"
import { PrwrightError } from "#domain/errors.js"
import type { JobType } from "#domain/workflow-run.js"
import { checkEnqueueRequest, jobIdConflict } from "../enqueue-checks.js"
import { withTimeouts } from "../job-timeouts.js"
import { dataHash } from "../stable-hash.js"
import {
  type HeartbeatStorage,
  startHeartbeat,
  WORKER_LIVE_WINDOW_MS,
  WORKERS_TABLE_SQL,
} from "../worker-heartbeats.js"
import { createCancelAcks } from "./cancel-acks.js"
import { type EmbeddedWorker, startEmbeddedWorker } from "./embedded-worker.js"
import { createJobTable, toJobInfo } from "./job-table.js"

export interface EmbeddedJobQueueOptions {
  /** SQLite file shared with the run store; the queue's tables are prefixed `queue_` */
  databasePath: string
  /**
   * The run store's open connection to that file, to share instead of opening a second one: one page
   * cache (a write on one connection made the other drop its cache) and no lock between the two.
   * Safe because the store's write transactions never span an await (decisions/0010). The queue
   * neither sets its pragmas nor closes it.
   */
  connection?: Database.Database
  /** first retry delay; doubles each attempt (default 2000) */
  backoffBaseMs?: number
  /** how often idle workers look for jobs enqueued by other processes (default 1000) */
  pollIntervalMs?: number
  /** how long a claimed job stays owned without a heartbeat before another process may retry it (default 30000) */
  leaseMs?: number
  /** grace for running handlers when the queue is closed, before their signal fires (default 2000) */
  closeGraceMs?: number
  /** finished jobs kept; defaults: completed 24 h / 1000 jobs, failed and cancelled 7 days / 5000 jobs */
  keepCompleted?: KeepJobs
  keepFailed?: KeepJobs
  /** how often a process with workers prunes finished jobs (default 60000) */
  pruneIntervalMs?: number
  clock?: Clock
  random?: () => number
  logger?: Logger
}

/**
 * The zero-dependency JobQueue: jobs live in SQLite next to the runs, so `npm start` needs no Redis.
 * Several processes may share the file (e.g. `prwright serve --no-workers` plus `prwright worker`):
 * claims are atomic UPDATEs, ownership is a lease, and cancels of jobs running elsewhere travel
 * through a `cancel_requested` flag that the owner sees at its next tick and acknowledges
 * (cancel-acks.ts), so `confirmCancel` tells a live owner from a dead one without waiting for the lease.
 */
export const createEmbeddedJobQueue = (options: EmbeddedJobQueueOptions): JobQueue => {
  const clock = options.clock ?? { now: () => new Date() }
  const now = () => clock.now().getTime()
  const logger = (options.logger ?? silentLogger).child({ component: "embedded-job-queue" })
  const closeGraceMs = options.closeGraceMs ?? 2_000

  const shared = options.connection
  if (!shared && options.databasePath !== ":memory:")
    mkdirSync(path.dirname(options.databasePath), { recursive: true })
  const db = shared ?? new Database(options.databasePath)
  if (!shared) {
    db.pragma("journal_mode = WAL")
    db.pragma("busy_timeout = 5000")
    db.pragma("synchronous = NORMAL")
  }
  const table = createJobTable(db)
  const acks = createCancelAcks(db)
  // workers of every process on this file beat here (see worker-heartbeats.ts)
  db.exec(WORKERS_TABLE_SQL)
  const beatStatement = db.prepare(
    "INSERT INTO queue_workers (id, type, beat_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at",
  )
  const removeStatement = db.prepare("DELETE FROM queue_workers WHERE id = ?")
  const countStatement = db.prepare(
    "SELECT type, count(*) AS live FROM queue_workers WHERE beat_at >= ? GROUP BY type",
  )
  const pruneWorkers = db.prepare("DELETE FROM queue_workers WHERE beat_at < ?")
  const heartbeats: HeartbeatStorage = {
    async beat(type, workerId, at) {
      beatStatement.run(workerId, type, at)
    },
    async remove(_type, workerId) {
      if (db.open) removeStatement.run(workerId)
    },
    async count(since) {
      pruneWorkers.run(since - 4 * WORKER_LIVE_WINDOW_MS)
      const rows = countStatement.all(since) as Array<{ type: JobType; live: number }>
      return Object.fromEntries(rows.map((row) => [row.type, row.live]))
    },
  }

  const workers = new Set<EmbeddedWorker>()
  let closed: Promise<void> | undefined

  const keep = {
    completed: options.keepCompleted ?? { ageMs: 24 * 3_600_000, count: 1_000 },
    failed: options.keepFailed ?? { ageMs: 7 * 24 * 3_600_000, count: 5_000 },
  }
  // pruning is a worker's chore: a process that only enqueues (serve --no-workers) never deletes
  let pruneTimer: NodeJS.Timeout | undefined
  const prune = () => {
    try {
      const removed = table.prune(now(), keep) + acks.prune(now() - 24 * 3_600_000)
      if (removed > 0) logger.debug("pruned finished jobs", { removed })
    } catch (error) {
      logger.warn("could not prune finished jobs; trying again later", { error: String(error) })
    }
  }

  const assertOpen = () => {
    if (closed)
      throw new PrwrightError(
        "unavailable",
        "the embedded job queue is closed: create a new one (the process is probably shutting down)",
      )
  }

  return {
    async enqueue(request) {
      assertOpen()
      checkEnqueueRequest(request)
      const hash = dataHash(request.data)
      const { created, row } = table.insert({
        id: request.jobId,
        type: request.type,
        data: stableJson(request.data),
        dataHash: hash,
        priority: request.priority,
        maxAttempts: request.attempts,
        concurrencyKey: request.concurrencyKey,
        limits: request.limits,
        now: now(),
      })
      if (!created && (row.type !== request.type || row.data_hash !== hash))
        throw jobIdConflict(request.jobId, row.type)
      if (created) {
        logger.debug("job enqueued", { jobId: request.jobId, type: request.type })
        for (const worker of workers) if (worker.type === request.type) worker.wake()
      }
      return { jobId: request.jobId, created }
    },

    async getJob(jobId) {
      assertOpen()
      const row = table.get(jobId)
      return row && toJobInfo(row, now())
    },

    async cancel(jobId) {
      assertOpen()
      const outcome = table.cancel(jobId, now())
      if (outcome === "none") return false
      if (outcome === "requested") {
        // running here: abort now; running elsewhere: its owner sees the flag at its next tick
        for (const worker of workers) if (worker.cancelLocal(jobId)) break
      }
      logger.info("job cancelled", { jobId, running: outcome === "requested" })
      return true
    },

    process(type, handler, { concurrency, timeouts }) {
      assertOpen()
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new PrwrightError("invalid_input", `concurrency must be a whole number ≥ 1, got ${concurrency}`)
      if (!pruneTimer) {
        prune()
        pruneTimer = setInterval(prune, options.pruneIntervalMs ?? 60_000)
        pruneTimer.unref()
      }
      const workerLogger = logger.child({ type })
      const worker = startEmbeddedWorker({
        table,
        type,
        handler: withTimeouts(handler, timeouts, workerLogger),
        concurrency,
        now,
        pollIntervalMs: options.pollIntervalMs ?? 1_000,
        leaseMs: options.leaseMs ?? 30_000,
        backoffBaseMs: options.backoffBaseMs ?? 2_000,
        random: options.random ?? Math.random,
        logger: workerLogger,
        onClosed: (closedWorker) => workers.delete(closedWorker),
        onJobEnded: () => {
          for (const other of workers) if (other.type !== type) other.wake()
        },
        acks,
      })
      const heartbeat = startHeartbeat({ storage: heartbeats, type, now, logger: workerLogger })
      const close = worker.close.bind(worker)
      worker.close = async (closeOptions) => {
        await heartbeat.stop()
        await close(closeOptions)
      }
      workers.add(worker)
      return worker
    },

    async confirmCancel(jobId, waitMs) {
      assertOpen()
      const deadline = now() + waitMs
      for (;;) {
        if (acks.acknowledged(jobId)) return true
        if (now() >= deadline || closed) return false
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },

    async ping() {
      assertOpen()
      db.prepare("SELECT 1").get()
    },

    async placeInLine(jobId, options) {
      assertOpen()
      return table.placeInLine(jobId, now(), options?.heldOnly === true)
    },

    async waitingStats() {
      assertOpen()
      const rows = db
        .prepare(
          "SELECT type, count(*) AS waiting, min(created_at) AS oldest FROM queue_jobs WHERE state IN ('waiting', 'delayed') GROUP BY type",
        )
        .all() as Array<{ type: JobType; waiting: number; oldest: number }>
      const at = now()
      return Object.fromEntries(
        rows.map((row) => [
          row.type,
          { waiting: row.waiting, oldestWaitingMs: Math.max(0, at - row.oldest) },
        ]),
      )
    },

    async liveWorkers() {
      assertOpen()
      return heartbeats.count(now() - WORKER_LIVE_WINDOW_MS)
    },

    async liveWorkerIds() {
      assertOpen()
      const rows = db
        .prepare("SELECT id, type, beat_at AS beatAt FROM queue_workers WHERE beat_at >= ?")
        .all(now() - WORKER_LIVE_WINDOW_MS) as Array<{ id: string; type: JobType; beatAt: number }>
      return rows
    },

    close() {
      closed ??= (async () => {
        clearInterval(pruneTimer)
        await Promise.all([...workers].map((worker) => worker.close({ graceMs: closeGraceMs })))
        if (!shared) db.close()
      })()
      return closed
    },
  }
}
