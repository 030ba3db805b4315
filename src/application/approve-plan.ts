import { createHash } from "node:crypto"
import { ConflictError, NotFoundError, ValidationError } from "#domain/errors.js"
import type { Trigger, WorkflowRun } from "#domain/workflow-run.js"
import type { PlanStore, StoredPlan } from "./ports/plan-store.js"
import type { WorkflowRequester, WorkflowRequestResult } from "./request-workflow.js"

/**
 * Approving a plan: the one path shared by `/prwright approve`, `POST /api/plans/:id/approve` and
 * the UI's Approve button. It names one stored plan version, marks it approved and starts a
 * resolveIssue run whose `planId` is that version, so exactly the approved text is implemented
 * even if a newer plan is written while the run waits in the queue.
 */

export interface ApprovePlanRequest {
  /** the plan version to approve; without it, the newest plan of the issue */
  planId?: string
  repoFullName?: string
  issueNumber?: number
  /** the version the approver saw: refused (409) when it is not the plan's version */
  version?: number
  /** idempotency key of the implementing run; default derived from the plan id (approving twice starts one run) */
  jobId?: string
  trigger: Trigger
  options?: { createPR?: boolean; maxAttempts?: number; priority?: WorkflowRun["priority"] }
}

export interface ApprovePlanResult extends WorkflowRequestResult {
  plan: StoredPlan
}

/** A name-based UUID (version 5 layout) for "implement plan <id>", so a repeated approval maps to one run. */
export const approvalJobId = (planId: string): string => {
  const bytes = createHash("sha1").update(`prwright:approve-plan:${planId}`).digest().subarray(0, 16)
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80
  const hex = bytes.toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export type ApprovePlan = (request: ApprovePlanRequest) => Promise<ApprovePlanResult>

/**
 * Finds the plan version a request names (by id, else the issue's newest), checks the version the
 * approver read, and marks it approved (ConflictError when a newer plan superseded it). Callers that
 * start the implementing run themselves (the webhook intake) use this; the rest use createApprovePlan.
 */
export const approvePlanVersion = async (
  plans: PlanStore,
  request: Pick<ApprovePlanRequest, "planId" | "repoFullName" | "issueNumber" | "version">,
): Promise<StoredPlan> => {
  let plan: StoredPlan | undefined
  if (request.planId) {
    plan = await plans.getPlan(request.planId)
    if (!plan) {
      throw new NotFoundError(
        `no plan with id ${request.planId}: use the id of a plan version (the planning run's job id)`,
      )
    }
  } else {
    if (!request.repoFullName || !request.issueNumber) {
      throw new ValidationError("name the plan: planId, or repoFullName and issueNumber for the newest", [
        { field: "planId", message: "required unless repoFullName and issueNumber are given" },
      ])
    }
    plan = await plans.latestPlan(request.repoFullName, request.issueNumber)
    if (!plan) {
      throw new NotFoundError(
        `${request.repoFullName}#${request.issueNumber} has no plan yet: ask for one first (/prwright plan, prwright plan, or commentOnIssue)`,
      )
    }
  }
  if (request.version !== undefined && request.version !== plan.version) {
    throw new ConflictError(
      `plan ${plan.id} is version ${plan.version}, not version ${request.version}: reload the plan and approve the version you read`,
    )
  }
  // superseded → ConflictError from the store, naming the newer plan to approve instead
  return plans.approvePlan(plan.id)
}

export const createApprovePlan =
  (deps: { plans: PlanStore; requester: WorkflowRequester }): ApprovePlan =>
  async (request) => {
    const approved = await approvePlanVersion(deps.plans, request)
    const result = await deps.requester.enqueue(
      "resolve-issue",
      {
        repoFullName: approved.repoFullName,
        issueNumber: approved.issueNumber,
        planId: approved.id,
        jobId: request.jobId ?? approvalJobId(approved.id),
        ...(request.options ? { options: request.options } : {}),
      },
      request.trigger,
    )
    return { ...result, plan: approved }
  }
