/**
 * The job queue: moves opaque JSON payloads to workers of one type, like BullMQ's `Processor<T>` or
 * graphile-worker's `Task`. What a payload means, and whether it is valid, is the application's
 * business (`job-data.ts` parses it before enqueueing and again in the worker); the queue stores and
 * returns it as it was given. A payload never holds a secret.
 */
import type { JobType, Priority } from "#domain/workflow-run.js"

/** Any JSON value (objects, arrays, strings, numbers, booleans, null); opaque to the queue. */
export type JobPayload = unknown

/**
 * JSON with object keys sorted at every level: two payloads are the same when these are equal,
 * whatever order their keys were built in. That is what "same job enqueued again" (and the
 * application's "same request sent again") means.
 */
export const stableJson = (value: JobPayload): string => JSON.stringify(sortKeys(value))

const sortKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const child = (value as Record<string, unknown>)[key]
      // JSON.stringify drops undefined members; drop them here too so {a: undefined} equals {}
      if (child !== undefined) sorted[key] = sortKeys(child)
    }
    return sorted
  }
  return value
}

export interface EnqueueRequest {
  type: JobType
  /** = the run id; idempotency key */
  jobId: string
  /** the job's payload, validated by the application before it gets here; never holds a secret */
  data: JobPayload
  priority: Priority
  /** total tries including the first (seed default 3) */
  attempts: number
  /**
   * Jobs sharing a key never run at the same time (any type): a later one waits, neither dropped nor
   * failed, until the running one ends. prwright uses `owner/repo#issue`.
   */
  concurrencyKey?: string
  /**
   * Counted slots: of the jobs naming a limit's key, at most `max` are active at once (any type).
   * Jobs beyond it wait in line (priority first, then arrival), never refused, and waiting does not
   * count as an attempt. A slot held by a worker that died is freed when its lease expires.
   */
  limits?: ConcurrencyLimit[]
}

export interface ConcurrencyLimit {
  /** e.g. "repo:octocat/hello-world"; 1 to 200 characters */
  key: string
  /** whole number ≥ 1 */
  max: number
}

/** What a waiting job waits for, most binding first. */
export type QueueWait =
  /** a job with the same concurrency key is active */
  | { kind: "key"; key: string }
  /** the limit's slots are all held */
  | { kind: "limit"; key: string; max: number }
  /** nothing blocks it: it starts when a worker of its type is free */
  | { kind: "workers" }

export interface QueuePlace {
  /** 1 = next to start once what it waits for frees up */
  place: number
  waitingFor: QueueWait
}

export interface EnqueueResult {
  jobId: string
  /** false when a job with this id and the same data already existed */
  created: boolean
}

/** Transport state of a job as the queue sees it; the run record in RunStore is the user-facing truth. */
export type QueueJobState = "waiting" | "delayed" | "active" | "completed" | "failed" | "cancelled"

export interface QueueJobInfo {
  jobId: string
  type: JobType
  state: QueueJobState
  /** 1-based number of the attempt that is running or ran last; 0 before the first start */
  attempt: number
  maxAttempts: number
  progress: number
  /** what the handler returned, as JSON */
  result?: JobPayload | undefined
  error?: string | undefined
  createdAt: Date
  updatedAt: Date
}

export interface JobContext {
  jobId: string
  type: JobType
  /** the stored payload; handlers validate it (a job may predate an upgrade) */
  data: JobPayload
  /** 1-based */
  attempt: number
  maxAttempts: number
  /** fires on cancel, timeout or shutdown; everything the job starts must honour it */
  signal: AbortSignal
  progress(percent: number, message?: string): Promise<void>
}

/** Throw a non-retryable PrwrightError to fail at once; any other error is retried while attempts remain. */
export type JobHandler = (job: JobContext) => Promise<JobPayload>

export interface JobWorker {
  /** stop taking jobs, wait for running ones up to graceMs, then abort them */
  close(options?: { graceMs?: number }): Promise<void>
}

/** How long a queue keeps finished jobs; undefined members keep everything. */
export interface KeepJobs {
  count?: number
  ageMs?: number
}

export interface JobTimeouts {
  /** an attempt running longer than this is aborted and fails, not retried (default: none) */
  wallMs?: number
  /** an attempt reporting no progress for this long is aborted and retried (default: none) */
  idleMs?: number
}

export interface ProcessOptions {
  concurrency: number
  /** enforced through the job's AbortSignal; the attempt fails with "timed out after …" */
  timeouts?: JobTimeouts
}

export interface JobQueue {
  /** Same id and same data → the existing job (created: false); same id, other data → ConflictError. */
  enqueue(request: EnqueueRequest): Promise<EnqueueResult>
  getJob(jobId: string): Promise<QueueJobInfo | undefined>
  /** Cancel a waiting or running job from any process. Returns false if unknown or already finished. */
  cancel(jobId: string): Promise<boolean>
  process(type: JobType, handler: JobHandler, options: ProcessOptions): JobWorker
  /**
   * After cancel() of a running job: true once the worker running it confirmed it is stopping it; false
   * when none did within waitMs (its worker is gone), so the caller may end the run itself.
   */
  confirmCancel?(jobId: string, waitMs: number): Promise<boolean>
  /**
   * Where a waiting job stands: its place among the jobs waiting for the same thing, in start order.
   * undefined when the job is not waiting (unknown, active, finished) or a retry's backoff is not over,
   * and with `heldOnly` also when nothing but a free worker is awaited (then nothing is counted: that
   * count grows with the backlog, and the webhook intake asks it for every new run).
   */
  placeInLine?(jobId: string, options?: { heldOnly?: boolean | undefined }): Promise<QueuePlace | undefined>
  /** Jobs waiting to start per type (delayed retries included) and the age of the oldest one. */
  waitingStats?(): Promise<Partial<Record<JobType, { waiting: number; oldestWaitingMs: number }>>>
  /** Throws an "unavailable" PrwrightError naming the fix when the queue cannot take a job within timeoutMs. */
  ping?(timeoutMs: number): Promise<void>
  /** Workers (in any process) whose heartbeat is recent, per job type; types without one are absent or 0. */
  liveWorkers?(): Promise<Partial<Record<JobType, number>>>
  /**
   * The workers with a recent heartbeat, by id (`host:pid:…`), so a process can tell that its own
   * workers are beating (`prwright healthcheck`, the image's HEALTHCHECK).
   */
  liveWorkerIds?(): Promise<Array<{ id: string; type: JobType; beatAt: number }>>
  close(): Promise<void>
}
