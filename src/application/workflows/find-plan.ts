import { ValidationError } from "#domain/errors.js"
import type { RepoRef } from "#domain/repo-ref.js"
import type { PlanStore } from "../ports/plan-store.js"
import type { RunStore } from "../ports/run-store.js"

/**
 * The plan a resolveIssue run implements. Plans are stored versions (PlanStore): `planId` names one
 * version exactly (its id is the planning run's job id), and without it the issue's newest version is
 * used. Plans written before versions existed are still found as a completed planning run's summary.
 */
export const findPlan = async (
  runs: RunStore,
  repo: RepoRef,
  issueNumber: number,
  planId: string | undefined,
  plans?: PlanStore,
): Promise<string | undefined> => {
  if (planId) {
    const stored = await plans?.getPlan(planId)
    if (stored) {
      if (stored.repoFullName !== repo.fullName || stored.issueNumber !== issueNumber) {
        throw new ValidationError(
          `planId ${planId} is a plan of ${stored.repoFullName}#${stored.issueNumber}, not of ${repo.fullName}#${issueNumber}: use a plan of this issue, or omit planId`,
          [{ field: "planId", message: "not a plan of this issue" }],
        )
      }
      return stored.body
    }
    const run = await runs.getRun(planId)
    if (
      run?.type !== "comment-on-issue" ||
      run.repoFullName !== repo.fullName ||
      run.issueNumber !== issueNumber
    ) {
      throw new ValidationError(
        `planId ${planId} is not a plan of ${repo.fullName}#${issueNumber}: use the jobId of a commentOnIssue run for this issue, or omit planId`,
        [{ field: "planId", message: "not a plan of this issue" }],
      )
    }
    if (run.status !== "completed" || !run.summary) {
      throw new ValidationError(
        `plan ${planId} has not completed (status ${run.status}): wait for it or omit planId`,
        [{ field: "planId", message: "plan not completed" }],
      )
    }
    return run.summary
  }
  const latest = await plans?.latestPlan(repo.fullName, issueNumber)
  if (latest) return latest.body
  const page = await runs.listRuns({
    repoFullName: repo.fullName,
    issueNumber,
    type: "comment-on-issue",
    status: "completed",
    limit: 1,
  })
  return page.runs[0]?.summary
}
