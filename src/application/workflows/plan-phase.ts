/** Plan: autoResolveIssue first explores read-only and writes a plan, posted on the issue when asked. */
import { planMarker, upsertRunComment } from "./run-comment.js"
import type { ImplementOptions, ResolveIssueDeps, RunState } from "./run-state.js"

export const planPhase = async (
  deps: ResolveIssueDeps,
  state: RunState,
  options: Pick<ImplementOptions, "postPlan">,
): Promise<void> => {
  const { context } = state
  await context.progress(15, "planning")
  const planned = await deps.planner({
    model: state.model,
    checkout: state.checkout!,
    repoFullName: state.repo.fullName,
    issue: state.issue,
    signal: context.signal,
    maxSteps: deps.limits.planSteps,
    onEvent: (event) => context.emit(event),
  })
  state.plan = planned.plan
  state.tried.push("wrote a plan")
  if (!options.postPlan) return
  const body = `${planMarker(context.run.id)}\n## Implementation plan\n\n${planned.plan.trim()}\n\n<sub>prwright is implementing this plan now (run \`${context.run.id}\`).</sub>`
  await context.ensureActive()
  const comment = await upsertRunComment(
    deps.github,
    {
      repo: state.repo,
      issueNumber: state.issue.number,
      knownId: context.run.artifacts.planCommentId,
      marker: planMarker(context.run.id),
    },
    body,
  )
  await context.saveArtifacts({ planCommentId: comment.id, planCommentUrl: comment.htmlUrl })
}
