/** Plans as versions per issue (draft, approved, superseded). */

export type PlanStatus = "draft" | "approved" | "superseded"

/** One version of the plan for an issue; the newest non-superseded one is what `/prwright approve` implements. */
export interface StoredPlan {
  id: string
  repoFullName: string
  issueNumber: number
  /** 1, 2, 3 … per (repository, issue) */
  version: number
  status: PlanStatus
  body: string
  /** the run that wrote it */
  runId?: string
  /** the issue comment the plan lives in */
  commentId?: number
  commentUrl?: string
  createdAt: Date
  updatedAt: Date
}

export interface NewPlan {
  id: string
  repoFullName: string
  issueNumber: number
  body: string
  /** default draft */
  status?: "draft" | "approved"
  runId?: string
  commentId?: number
  commentUrl?: string
}

export interface PlanStore {
  /** Stores the next version for the issue; every earlier draft or approved version becomes superseded. */
  savePlan(plan: NewPlan): Promise<StoredPlan>
  /** Approves a draft (idempotent for an approved one). NotFoundError if absent, ConflictError if superseded. */
  approvePlan(id: string): Promise<StoredPlan>
  /** Records where the plan is shown (it is edited in place) or a revised body. NotFoundError if absent. */
  updatePlan(
    id: string,
    patch: { body?: string; commentId?: number; commentUrl?: string },
  ): Promise<StoredPlan>
  getPlan(id: string): Promise<StoredPlan | undefined>
  /** the highest version for the issue, optionally only among plans with this status */
  latestPlan(
    repoFullName: string,
    issueNumber: number,
    options?: { status?: PlanStatus },
  ): Promise<StoredPlan | undefined>
}
