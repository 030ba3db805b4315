/**
 * answerQuestion (`/prwright ask <question>`): a fresh read-only checkout of the default branch (or the
 * pull request's branch), the answering agent, and one comment with the answer. No branch, no commit, no
 * pull request. A retried attempt edits the same comment (found by its marker), never posts a second.
 */
import { ConfigError, errorMessage } from "#domain/errors.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import type { Answerer } from "../agent/answering-agent.js"
import type { GitHub } from "../ports/github.js"
import type { Logger } from "../ports/logging.js"
import type { ModelHandle } from "../ports/model.js"
import type { Workspace } from "../ports/workspace.js"
import type { RunContext, WorkflowOutcome } from "../run-job.js"
import { formatUsage } from "./pull-request-body.js"
import { upsertRunComment } from "./run-comment.js"

export const answerMarker = (runId: string) => `<!-- prwright:answer ${runId} -->`

export interface AnswerQuestionDeps {
  github: GitHub
  workspace: Workspace
  model: ModelHandle | undefined
  answerer: Answerer
  logger: Logger
  runUrl?: ((runId: string) => string) | undefined
  maxSteps?: number | undefined
}

/** The question as a Markdown quote, so the answer reads in context. */
const quoted = (question: string) =>
  question
    .split("\n")
    .map((line) => `> ${line}`)
    .join("\n")

export const createAnswerQuestion =
  (deps: AnswerQuestionDeps) =>
  async (context: RunContext<"answer-question">): Promise<WorkflowOutcome> => {
    const { data, signal } = context
    const model = deps.model
    if (!model)
      throw new ConfigError(
        "no LLM is configured: set LLM_PROVIDER, LLM_MODEL and the key (LLM_API_KEY, OPENAI_API_KEY or ANTHROPIC_API_KEY), then retry",
      )
    const repo = parseRepoRef(data.repoFullName)
    const marker = answerMarker(context.run.id)
    const asker = context.run.trigger.actor ?? "someone"
    const footer = () => {
      const link = deps.runUrl
        ? `[run ${context.run.id}](${deps.runUrl(context.run.id)})`
        : `run \`${context.run.id}\``
      return `\n\n---\n<sub>prwright · ${model.provider}/${model.modelId} · read-only · ${formatUsage(context.usage())} · ${link}</sub>`
    }
    const post = (body: string) =>
      upsertRunComment(
        deps.github,
        { repo, issueNumber: data.issueNumber, knownId: context.run.artifacts.planCommentId, marker },
        `${marker}\n${quoted(data.question)}\n\n${body}${footer()}`,
      )

    await context.progress(5, "reading the issue")
    const repository = await deps.github.getRepository(repo)
    const issue = await deps.github.getIssue(repo, data.issueNumber)
    // on a pull request the question is about its branch when it lives in this repository
    const ref = issue.isPullRequest
      ? ((await deps.github.getPullRequest(repo, data.issueNumber).catch(() => undefined))?.head ??
        repository.defaultBranch)
      : repository.defaultBranch
    await context.progress(15, "checking out the repository")
    const checkoutAt = (at: string) =>
      deps.workspace.checkout({ repo, cloneUrl: repository.cloneUrl, ref: at, runId: context.run.id, signal })
    // a fork's branch is not in this repository: the default branch is the next best view
    const checkout = await checkoutAt(ref).catch((error: unknown) => {
      if (ref === repository.defaultBranch || signal.aborted) throw error
      deps.logger.warn("could not check out the pull request's branch; answering from the default branch", {
        ref,
        error: errorMessage(error),
      })
      return checkoutAt(repository.defaultBranch)
    })
    try {
      await context.progress(30, "reading the code")
      const result = await deps.answerer({
        model,
        checkout,
        repoFullName: repo.fullName,
        issue,
        question: data.question,
        asker,
        signal,
        maxSteps: deps.maxSteps,
        onEvent: (event) => context.emit(event),
      })
      await context.progress(90, "posting the answer")
      const comment = await post(`@${asker} ${result.answer.trim()}`)
      return {
        artifacts: { planCommentId: comment.id, planCommentUrl: comment.htmlUrl },
        summary: result.answer,
      }
    } catch (error) {
      if (context.isFinal(error) && !context.isCancelled(error)) {
        await post(`⚠️ prwright could not answer this: ${errorMessage(error)}`).catch((e: unknown) =>
          deps.logger.warn("could not post the failure of a question", { error: errorMessage(e) }),
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
