/** The run store: runs and their append-only events, the user-facing truth. */
import type { RunEvent, RunEventData } from "#domain/run-event.js"
import type {
  Artifacts,
  JobType,
  Priority,
  RunStatus,
  Trigger,
  Usage,
  WorkflowRun,
} from "#domain/workflow-run.js"

export interface NewRun {
  id: string
  type: JobType
  repoFullName: string
  issueNumber: number
  priority: Priority
  input: Record<string, unknown>
  trigger: Trigger
  maxAttempts: number
}

export interface RunPatch {
  status?: RunStatus
  attempts?: number
  progress?: number
  progressMessage?: string | null
  artifacts?: Artifacts
  usage?: Usage
  summary?: string | null
  error?: string | null
  startedAt?: Date
  finishedAt?: Date | null | undefined
}

export interface RunFilter {
  status?: RunStatus | undefined
  /** any of these (with `status`, both must hold) */
  statuses?: readonly RunStatus[] | undefined
  repoFullName?: string | undefined
  type?: JobType | undefined
  issueNumber?: number | undefined
  /** 1..200, default 50 */
  limit?: number | undefined
  /** opaque, from a previous page's nextCursor */
  cursor?: string | undefined
}

export interface RunPage {
  runs: WorkflowRun[]
  nextCursor?: string
}

/** Whose spending a SpentCostQuery sums: one repository, or every repository of one owner (installation). */
export type SpendingSubject =
  /** exactly this full name (case as stored, like RunFilter.repoFullName) */
  | { repoFullName: string }
  /** every run whose repository's owner (the part before the first "/") is this, in any ASCII case */
  | { owner: string }

export interface SpentCostQuery {
  subject: SpendingSubject
  /** runs created at or after this count for `monthUsd` (the spending guard passes the UTC month's start) */
  monthStart: Date
  /** …and at or after this for `dayUsd` (the UTC day's start; not before monthStart) */
  dayStart: Date
}

/** The summed `usage.costUsd` of the runs a SpentCostQuery selects, of any status. */
export interface SpentCost {
  dayUsd: number
  monthUsd: number
}

export interface RunStore {
  /** Inserts a pending run. A run with this id already existing → ConflictError. */
  createRun(run: NewRun): Promise<WorkflowRun>
  getRun(id: string): Promise<WorkflowRun | undefined>
  /** Merges `artifacts` into the stored ones; other fields replace. NotFoundError if absent. */
  updateRun(id: string, patch: RunPatch): Promise<WorkflowRun>
  /**
   * updateRun, but only while the run has not ended (status pending or running), checked and written
   * in one step: undefined when it had already ended (completed, failed or cancelled), and nothing
   * was written. A run ends exactly once: a late worker cannot overwrite a cancel, nor a cancel a
   * finished run. NotFoundError if absent.
   */
  updateActiveRun(id: string, patch: RunPatch): Promise<WorkflowRun | undefined>
  /** newest first */
  listRuns(filter: RunFilter): Promise<RunPage>
  /**
   * What the subject's runs created since `monthStart` cost, and those since `dayStart`: one aggregate
   * in the store (the spending guard asks before every run request), not a walk over the runs.
   */
  spentCost(query: SpentCostQuery): Promise<SpentCost>
  /**
   * Appends in order, assigning seq = last + 1 … ; returns the stored events. All or nothing. The
   * events come validated (run-journal.ts parses them with run-event-schema.ts); a store keeps them as given.
   */
  appendEvents(runId: string, events: RunEventData[]): Promise<RunEvent[]>
  listEvents(runId: string, options?: { afterSeq?: number; limit?: number }): Promise<RunEvent[]>
  close(): Promise<void>
}
