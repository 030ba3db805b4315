/**
 * Glossary
 * - Job type: which workflow a run executes; also the name of its queue (the seed note's queue names).
 * - Workflow run ("run"): one execution of a workflow for one issue. Its id is the job id: one run, one job.
 * - Attempt: one try of a run by a worker; a crashed or failed attempt may be retried by the queue.
 * - Artifacts: what a run leaves on GitHub (plan comment, branch, commit, pull request).
 * - Usage: tokens and money the model calls of a run consumed.
 */

export const JOB_TYPES = [
  "comment-on-issue",
  "auto-resolve-issue",
  "resolve-issue",
  "answer-question",
] as const
export type JobType = (typeof JOB_TYPES)[number]

/** Worker kinds as the seed's `WORKER_TYPE` names them, and the queue each one serves. */
export const WORKER_TYPES = {
  comment: "comment-on-issue",
  "auto-resolve": "auto-resolve-issue",
  resolve: "resolve-issue",
  /** `/prwright ask`: a read-only run that answers in one comment */
  ask: "answer-question",
} as const satisfies Record<string, JobType>
export type WorkerType = keyof typeof WORKER_TYPES

export const RUN_STATUSES = ["pending", "running", "completed", "failed", "cancelled"] as const
export type RunStatus = (typeof RUN_STATUSES)[number]

export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set(["completed", "failed", "cancelled"])
export const isTerminal = (status: RunStatus): boolean => TERMINAL_STATUSES.has(status)

export const PRIORITIES = ["low", "normal", "high", "urgent"] as const
export type Priority = (typeof PRIORITIES)[number]

export interface Usage {
  inputTokens: number
  outputTokens: number
  /** what the priced calls cost; with `unpricedModel` set, the total is unknown (a lower bound) */
  costUsd: number
  /** a model without a price took part: the cost is shown as unknown, never as a made-up $0 */
  unpricedModel?: string
}
export const ZERO_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0, costUsd: 0 })
export const addUsage = (a: Usage, b: Partial<Usage>): Usage => {
  const unpricedModel = a.unpricedModel ?? b.unpricedModel
  return {
    inputTokens: a.inputTokens + (b.inputTokens ?? 0),
    outputTokens: a.outputTokens + (b.outputTokens ?? 0),
    costUsd: Math.round((a.costUsd + (b.costUsd ?? 0)) * 1e6) / 1e6,
    ...(unpricedModel === undefined ? {} : { unpricedModel }),
  }
}

export interface Artifacts {
  planCommentId?: number
  planCommentUrl?: string
  pullRequestUrl?: string
  pullRequestNumber?: number
  branchName?: string
  commitHash?: string
  filesChanged?: number
  /** the one comment a stopped or failed run leaves on the issue (edited, never repeated) */
  failureCommentId?: number
  failureCommentUrl?: string
  pullRequestDraft?: boolean
  /** the "waiting in line" comment of a run that was queued behind a limit or its issue's active run */
  queuedCommentId?: number
  /** what that comment shows: `place|waitingFor|limit` (queued-comments.ts edits it when this changes) */
  queuedCommentPlace?: string
}

/** Who or what started a run. */
export interface Trigger {
  source: "api" | "cli" | "webhook" | "ui"
  /** GitHub login or API token label, when known */
  actor?: string
  /** X-GitHub-Delivery id for webhook-triggered runs */
  deliveryId?: string
  /**
   * ISO time: the run waits for a spending limit's reset and is queued only after it
   * (PRWRIGHT_SPEND_LIMIT_ACTION=wait; see spending-limits.ts and sweep-runs.ts)
   */
  waitUntil?: string
}

export interface WorkflowRun {
  id: string
  type: JobType
  status: RunStatus
  repoFullName: string
  issueNumber: number
  priority: Priority
  /** the validated job data, never holding a secret */
  input: Record<string, unknown>
  trigger: Trigger
  attempts: number
  maxAttempts: number
  progress: number
  progressMessage?: string
  artifacts: Artifacts
  usage: Usage
  /** human-readable summary of the outcome; the plan text for a planning run */
  summary?: string
  error?: string
  createdAt: Date
  updatedAt: Date
  startedAt?: Date
  finishedAt?: Date
}

/** Status transitions a run may take. Terminal states are final. */
const NEXT: Record<RunStatus, readonly RunStatus[]> = {
  pending: ["running", "cancelled", "failed"],
  running: ["completed", "failed", "cancelled", "pending"],
  completed: [],
  failed: [],
  cancelled: [],
}
export const canTransition = (from: RunStatus, to: RunStatus): boolean => NEXT[from].includes(to)
