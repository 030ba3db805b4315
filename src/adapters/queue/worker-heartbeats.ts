/**
 * Worker heartbeats, so readiness, enqueue and `doctor` can tell whether some process is taking jobs
 * of a type. Every worker writes (type, its id, now) every HEARTBEAT_INTERVAL_MS into the queue's own
 * storage (a Redis sorted set, or a SQLite table beside the jobs); a worker whose last beat is older
 * than WORKER_LIVE_WINDOW_MS counts as gone. A worker that stops cleanly removes its entry at once.
 */
import { randomUUID } from "node:crypto"
import { hostname } from "node:os"
import type { Logger } from "#application/ports/logging.js"
import { errorMessage, PrwrightError } from "#domain/errors.js"
import type { JobType } from "#domain/workflow-run.js"

export const HEARTBEAT_INTERVAL_MS = 5_000
export const WORKER_LIVE_WINDOW_MS = 15_000

export interface HeartbeatStorage {
  beat(type: JobType, workerId: string, at: number): Promise<void>
  remove(type: JobType, workerId: string): Promise<void>
  /** workers per type whose last beat is at or after `since` */
  count(since: number): Promise<Partial<Record<JobType, number>>>
}

/** The Redis sorted set of one job type's workers: member = worker id, score = its last beat (ms). */
export const redisWorkersKey = (prefix: string, type: JobType) => `${prefix}:_workers:${type}`

/** The embedded queue's table of workers, in the queue's SQLite file. */
export const WORKERS_TABLE_SQL =
  "CREATE TABLE IF NOT EXISTS queue_workers (id TEXT PRIMARY KEY, type TEXT NOT NULL, beat_at INTEGER NOT NULL)"

export const newWorkerId = () => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`

/** Starts beating for one worker; `stop` removes its entry. Failures are logged, never thrown. */
export const startHeartbeat = (options: {
  storage: HeartbeatStorage
  type: JobType
  now?: () => number
  intervalMs?: number
  logger: Logger
}): { stop(): Promise<void> } => {
  const { storage, type, logger } = options
  const now = options.now ?? Date.now
  const id = newWorkerId()
  const beat = () =>
    storage
      .beat(type, id, now())
      .catch((error: unknown) =>
        logger.debug("worker heartbeat failed; retrying at the next beat", { error: errorMessage(error) }),
      )
  void beat()
  const timer = setInterval(beat, options.intervalMs ?? HEARTBEAT_INTERVAL_MS)
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      // bounded: with the queue's storage down, a stopping worker must not hang on its goodbye
      await withDeadline(storage.remove(type, id), 1_000, "the queue", "its entry expires by itself").catch(
        () => {},
      )
    },
  }
}

/** `work` within `ms`, else an "unavailable" error saying what timed out and the fix. */
export const withDeadline = <T>(work: Promise<T>, ms: number, what: string, fix: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new PrwrightError("unavailable", `${what} did not answer within ${ms} ms: ${fix}`, {
            retryable: true,
          }),
        ),
      ms,
    )
  })
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}
