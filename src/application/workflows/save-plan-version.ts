import type { PlanStore, StoredPlan } from "../ports/plan-store.js"

/**
 * Stores a planning run's plan as the issue's next version (earlier ones become superseded). The
 * version's id is the run's id, so a retried attempt revises its own version instead of adding one,
 * and `planId` (a planning run's job id) names that version everywhere.
 */
export const savePlanVersion = async (
  plans: PlanStore,
  plan: { runId: string; repoFullName: string; issueNumber: number; body: string },
): Promise<StoredPlan> => {
  const existing = await plans.getPlan(plan.runId)
  if (existing) return plans.updatePlan(existing.id, { body: plan.body })
  return plans.savePlan({
    id: plan.runId,
    runId: plan.runId,
    repoFullName: plan.repoFullName,
    issueNumber: plan.issueNumber,
    body: plan.body,
  })
}

/** The heading and the approval hint of a plan comment, which name the version. */
export const planHeading = (plan: StoredPlan | undefined): string =>
  plan ? `## Implementation plan · version ${plan.version}` : "## Implementation plan"

export const approvalHint = (plan: StoredPlan | undefined): string =>
  plan
    ? `\n\n> Reply \`/prwright approve\` to implement version ${plan.version} of this plan (plan id \`${plan.id}\`).`
    : ""
