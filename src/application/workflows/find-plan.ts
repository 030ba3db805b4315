import { ValidationError } from "#domain/errors.js"
import type { RepoRef } from "#domain/repo-ref.js"
import type { RunStore } from "../ports/run-store.js"

/** The plan a resolveIssue run implements: the one named by planId, else the latest completed plan run. */
export const findPlan = async (
  runs: RunStore,
  repo: RepoRef,
  issueNumber: number,
  planId: string | undefined,
): Promise<string | undefined> => {
  if (planId) {
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
  const page = await runs.listRuns({
    repoFullName: repo.fullName,
    issueNumber,
    type: "comment-on-issue",
    status: "completed",
    limit: 1,
  })
  return page.runs[0]?.summary
}
