import { CancelledError, ConfigError, errorMessage } from "#domain/errors.js"
import { postsToGitHub } from "../job-data.js"
import type { GitHub } from "../ports/github.js"
import type { Logger } from "../ports/logging.js"
import type { ModelHandle } from "../ports/model.js"
import type { PlanStore, StoredPlan } from "../ports/plan-store.js"
import type { Workspace } from "../ports/workspace.js"
import type { RunContext, WorkflowOutcome } from "../run-job.js"
import { checkOutDefaultBranch, type Planner, readIssue } from "./issue-preamble.js"
import { formatUsage } from "./pull-request-body.js"
import { planMarker, upsertRunComment } from "./run-comment.js"
import { approvalHint, planHeading, savePlanVersion } from "./save-plan-version.js"

export type { Planner }

export interface CommentOnIssueDeps {
  github: GitHub
  workspace: Workspace
  /** undefined when no LLM is configured */
  model: ModelHandle | undefined
  planner: Planner
  logger: Logger
  /** link to the run in the UI/API, for the comment footer */
  runUrl?: ((runId: string) => string) | undefined
  maxSteps?: number | undefined
  /** stores each plan as a version (draft until approved); the comment names the version */
  plans?: PlanStore
}

const footer = (deps: CommentOnIssueDeps, context: RunContext, model?: ModelHandle): string => {
  const link = deps.runUrl
    ? ` · [run ${context.run.id}](${deps.runUrl(context.run.id)})`
    : ` · run \`${context.run.id}\``
  const modelText = model ? ` · ${model.provider}/${model.modelId}` : ""
  return `\n\n---\n<sub>prwright${modelText} · ${formatUsage(context.usage())}${link}</sub>`
}

/**
 * commentOnIssue: read the issue, explore a fresh checkout read-only with the model, and leave the
 * plan as one comment that is edited in place (a retried attempt edits the same comment).
 */
export const createCommentOnIssue =
  (deps: CommentOnIssueDeps) =>
  async (context: RunContext<"comment-on-issue">): Promise<WorkflowOutcome> => {
    const { data, signal } = context
    const model = deps.model
    if (!model) {
      throw new ConfigError(
        "no LLM is configured: set LLM_PROVIDER (openai, anthropic or openai-compatible), LLM_MODEL and the key (LLM_API_KEY, OPENAI_API_KEY or ANTHROPIC_API_KEY), then retry",
      )
    }
    await context.progress(5, "reading the issue")
    const input = await readIssue(deps.github, data)
    const { repo, issue } = input

    let commentId = context.run.artifacts.planCommentId
    const postComment = async (body: string) => {
      const full = `${planMarker(context.run.id)}\n${body}${footer(deps, context, model)}`
      await context.ensureActive()
      const comment = await upsertRunComment(
        deps.github,
        { repo, issueNumber: data.issueNumber, knownId: commentId, marker: planMarker(context.run.id) },
        full,
      )
      if (comment.id !== commentId) {
        commentId = comment.id
        await context.saveArtifacts({ planCommentId: comment.id, planCommentUrl: comment.htmlUrl })
      }
      return comment
    }

    if (postsToGitHub(data)) {
      await postComment(
        "🤖 **prwright is planning this issue.** This comment will hold the plan when it is ready.",
      )
    }

    await context.progress(15, "checking out the repository")
    const checkout = await checkOutDefaultBranch(deps.workspace, input, { runId: context.run.id, signal })
    try {
      await context.progress(30, "exploring the code")
      const result = await deps.planner({
        model,
        checkout,
        repoFullName: repo.fullName,
        issue,
        signal,
        maxSteps: deps.maxSteps,
        onEvent: (event) => context.emit(event),
      })
      if (signal.aborted) throw new CancelledError()
      await context.progress(90, "posting the plan")
      let artifacts = context.run.artifacts
      let version: StoredPlan | undefined
      if (deps.plans) {
        version = await savePlanVersion(deps.plans, {
          runId: context.run.id,
          repoFullName: repo.fullName,
          issueNumber: data.issueNumber,
          body: result.plan,
        })
      }
      if (postsToGitHub(data)) {
        const comment = await postComment(
          `${planHeading(version)}\n\n${result.plan.trim()}${approvalHint(version)}`,
        )
        artifacts = { ...artifacts, planCommentId: comment.id, planCommentUrl: comment.htmlUrl }
        if (deps.plans && version)
          await deps.plans.updatePlan(version.id, { commentId: comment.id, commentUrl: comment.htmlUrl })
      }
      return { artifacts, summary: result.plan }
    } catch (error) {
      // The placeholder comment must not promise a plan that will never come.
      if (postsToGitHub(data) && commentId && context.isFinal(error)) {
        const reason = context.isCancelled(error) ? "the run was cancelled" : errorMessage(error)
        await postComment(`⚠️ **prwright could not finish this plan:** ${reason}`).catch((e: unknown) =>
          deps.logger.warn("could not update the plan comment after a failure", { error: errorMessage(e) }),
        )
      }
      throw error
    } finally {
      await checkout
        .dispose()
        .catch((e: unknown) =>
          deps.logger.warn("could not remove the run's checkout", { error: errorMessage(e) }),
        )
    }
  }
