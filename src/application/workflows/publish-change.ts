/**
 * Publish: prove the fix (the change's tests on the old code), commit exactly the agent phase's
 * work, push the run's branch, and open or update its one pull request. A change that fails its
 * tests, or that the agent never submitted, becomes a draft that says why.
 */
import { NonRetryableError } from "#domain/errors.js"
import type { FileChange } from "../ports/workspace.js"
import type { WorkflowOutcome } from "../run-job.js"
import { compareTestRuns } from "../test-results.js"
import { type ChangeSet, changeSet } from "./change-set.js"
import type { RoundsOutcome } from "./implement-rounds.js"
import { pullRequestBody } from "./pull-request-body.js"
import { diffEvent, testResultEvent } from "./repo-commands.js"
import type { ResolveIssueDeps, RunState } from "./run-state.js"
import { proveFix } from "./verify-change.js"

type Publishable = Exclude<RoundsOutcome, { kind: "stopped" }>

const titleAndSummary = (state: RunState, outcome: Publishable) =>
  outcome.kind === "submitted"
    ? { title: outcome.submitted.title, summary: outcome.submitted.summary }
    : {
        title: `Fix #${state.issue.number}: ${state.issue.title}`.slice(0, 240),
        summary: `The agent stopped before submitting (${outcome.stopped.reason}: ${outcome.stopped.detail}). The change it left passes the repository's tests, so it is offered as a draft for review.`,
      }

const commitChange = async (deps: ResolveIssueDeps, state: RunState, change: ChangeSet, message: string) => {
  const checkout = state.checkout!
  if (change.paths.length === 0) return undefined
  const { signal } = state.context
  // read before committing: afterwards the working tree equals HEAD
  signal.throwIfAborted()
  const diff = await checkout.diff(change.paths)
  signal.throwIfAborted()
  const sha = await checkout.commit({ message, paths: change.paths, author: deps.author })
  // a run cancelled meanwhile (its cancel unacknowledged) publishes nothing
  if (sha) await state.context.ensureActive()
  if (sha) await checkout.push({ branch: state.branch, signal })
  await state.context.emit(diffEvent(diff, change.paths))
  return sha
}

export const publishChange = async (
  deps: ResolveIssueDeps,
  state: RunState,
  outcome: Publishable,
  createPR: boolean,
): Promise<WorkflowOutcome> => {
  const { context, issue } = state
  const checkout = state.checkout!
  const { title, summary } = titleAndSummary(state, outcome)
  await context.progress(88, "proving the fix")
  const verification = state.verification
  if (verification && !verification.proof) {
    verification.proof = await proveFix(state, verification, deps.limits.testTimeoutMs)
    if (verification.proof.before) await context.emit(testResultEvent("verify", verification.proof.before))
    await context.emit({
      type: "log",
      level: "info",
      message:
        verification.proof.kind === "shown"
          ? `proof: ${verification.proof.rows.length} test(s) fail on the old code and pass on the change`
          : `proof not shown: ${verification.proof.reason}`,
    })
  }
  await context.progress(90, "publishing")
  // a cancel stops publishing at the next step (the git steps before the push take no signal)
  context.signal.throwIfAborted()
  const change = await changeSet(checkout, state.snapshot ?? new Map(), state.verifyOutput)
  let commitHash = await commitChange(
    deps,
    state,
    change,
    `${title}\n\n${summary}\n\nCloses #${issue.number}`,
  )
  // The PR shows everything the branch changes, including an earlier attempt's pushed commits.
  const files: FileChange[] = await checkout.committedChanges()
  if (files.length === 0) {
    throw new NonRetryableError(
      "the agent submitted without changing any file: nothing to commit. Refine the issue (or its plan) and run again",
    )
  }
  // Nothing new this attempt: an earlier attempt already pushed the work (a retry after a crash).
  commitHash ??= checkout.headSha
  const artifacts = { branchName: state.branch, commitHash, filesChanged: files.length }
  await context.saveArtifacts(artifacts)
  if (!createPR) return { artifacts, summary }
  context.signal.throwIfAborted()

  const stopped = outcome.kind === "stopped-passing" ? outcome.stopped : undefined
  const failing = verification !== undefined && !verification.passed
  const draft = failing || stopped !== undefined
  const body = pullRequestBody({
    runId: context.run.id,
    issueNumber: issue.number,
    summary,
    files,
    before: state.baseline,
    after: verification?.after,
    comparison: compareTestRuns(state.baseline, verification?.after),
    usage: context.usage(),
    model: `${state.model.provider}/${state.model.modelId}`,
    steps: state.steps,
    repairRounds: Math.max(0, state.rounds - 1),
    draft,
    stoppedReason: stopped ? `${stopped.reason}: ${stopped.detail}` : undefined,
    proof: verification?.proof,
    editedTests: verification?.editedTests ?? [],
    alsoTouchedBySetup: change.alsoTouchedBySetup,
    leftOut: change.leftOut,
    refused: change.refused,
    setupFailure: state.setup.failure,
    refusedHosts: state.setup.refusedHosts,
    runUrl: deps.runUrl?.(context.run.id),
  })
  await context.ensureActive()
  // One PR per branch: a retried or repeated run updates the PR it finds.
  const existing = await deps.github.findPullRequest(state.repo, state.branch)
  const pr = existing
    ? await deps.github.updatePullRequest(state.repo, existing.number, { title, body })
    : await deps.github.createPullRequest(state.repo, {
        title,
        body,
        head: state.branch,
        base: state.repository.defaultBranch,
        draft,
      })
  const published = {
    ...artifacts,
    pullRequestUrl: pr.htmlUrl,
    pullRequestNumber: pr.number,
    pullRequestDraft: pr.draft,
  }
  await context.saveArtifacts(published)
  return { artifacts: published, summary }
}
