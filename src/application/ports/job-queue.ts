/** The job queue: moves validated job DTOs (never a secret) to workers of one type. */
import type { JobType, Priority } from "#domain/workflow-run.js"
import type { JobData, JobResult } from "../job-data.js"
import type { RunStore } from "./run-store.js"

export interface EnqueueRequest {
  type: JobType
  /** = the run id; idempotency key */
  jobId: string
  /** validated job DTO; never holds a secret */
  data: JobData
  priority: Priority
  /** total tries including the first (seed default 3) */
  attempts: number
  /**
   * Jobs sharing a key never run at the same time (any type): a later one waits, neither dropped nor
   * failed, until the running one ends. prwright uses `owner/repo#issue`.
   */
  concurrencyKey?: string
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
  result?: JobResult
  error?: string
  createdAt: Date
  updatedAt: Date
}

export interface JobContext {
  jobId: string
  type: JobType
  /** the stored job data; handlers re-validate it (a job may predate an upgrade) */
  data: unknown
  /** 1-based */
  attempt: number
  maxAttempts: number
  /** fires on cancel, timeout or shutdown; everything the job starts must honour it */
  signal: AbortSignal
  progress(percent: number, message?: string): Promise<void>
}

/** Throw a non-retryable PrwrightError to fail at once; any other error is retried while attempts remain. */
export type JobHandler = (job: JobContext) => Promise<JobResult>

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
  close(): Promise<void>
}
