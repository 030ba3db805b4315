/**
 * Implement and verify: the coding agent works in rounds; after each submit the repository's tests
 * decide. A regression sends the failures back for a repair round. An agent that stops (budget, no
 * submit) with a change that passes verification still gets a draft pull request; any other stop
 * pushes the work in progress and explains itself on the issue.
 */
import { CancelledError, NonRetryableError } from "#domain/errors.js"
import { changeSet } from "./change-set.js"
import { describeTestRun, testResultEvent } from "./repo-commands.js"
import { roundBudget } from "./run-budget.js"
import type { ImplementOptions, ResolveIssueDeps, RunState, Stopped, Submitted } from "./run-state.js"
import { environmentNote } from "./set-up-phase.js"
import { verifyChange } from "./verify-change.js"

export type RoundsOutcome =
  | { kind: "submitted"; submitted: Submitted }
  /** stopped without submitting, but the change passes verification: published as a draft */
  | { kind: "stopped-passing"; stopped: Stopped }
  /** stopped without a change worth a pull request: the caller reports the stop */
  | { kind: "stopped"; stopped: Stopped }

const verify = async (deps: ResolveIssueDeps, state: RunState, round: number) => {
  const { context, config } = state
  await context.progress(80, `verifying: ${config!.test}`)
  const verification = await verifyChange(state, deps.limits.testTimeoutMs)
  if (context.signal.aborted) throw new CancelledError()
  state.verification = verification
  const { comparison, editedTests } = verification
  await context.emit(testResultEvent("verify", verification.after), {
    type: "log",
    level: comparison.regressed || editedTests.length > 0 ? "warn" : "info",
    message: `verify (round ${round}): ${comparison.verdict}${
      comparison.newlyFailing.length > 0 ? `; newly failing: ${comparison.newlyFailing.join(", ")}` : ""
    }${editedTests.length > 0 ? `; the change edits existing tests (verified as they were): ${editedTests.join(", ")}` : ""}`,
  })
  return verification
}

/** A stopped agent's change, verified: worth a draft pull request when the tests pass on it. */
const stoppedWithPassingChange = async (deps: ResolveIssueDeps, state: RunState): Promise<boolean> => {
  if (!state.config?.test || !state.snapshot) return false
  const { paths } = await changeSet(state.checkout!, state.snapshot, state.verifyOutput)
  if (paths.length === 0) return false
  const verification = await verify(deps, state, state.rounds)
  return verification.passed && verification.editedTests.length === 0
}

export const implementRounds = async (
  deps: ResolveIssueDeps,
  state: RunState,
  options: ImplementOptions,
): Promise<RoundsOutcome> => {
  const { context } = state
  const now = deps.now ?? Date.now
  let feedback: string | undefined = options.instructions
    ? `A maintainer asked for these changes on the open pull request (branch ${state.branch}); the branch already holds the earlier work. Make them:\n\n${options.instructions}`
    : undefined
  let submitted: Submitted | undefined
  for (let round = 1; round <= options.rounds; round++) {
    state.rounds = round
    await context.progress(
      40 + Math.round((round - 1) * (35 / options.rounds)),
      feedback ? "repairing" : "implementing",
    )
    const note = environmentNote(state)
    const result = await deps.coder({
      model: state.model,
      checkout: state.checkout!,
      sandbox: state.sandbox,
      repoFullName: state.repo.fullName,
      issue: state.issue,
      plan: state.plan,
      baseline: note,
      feedback,
      budget: roundBudget({
        limits: deps.limits,
        config: state.config,
        stepsUsed: state.steps,
        spent: context.usage(),
        elapsedMs: now() - state.startedAt,
      }),
      signal: context.signal,
      onEvent: (event) => context.emit(event),
    })
    state.steps += result.steps
    if (result.outcome === "stopped") {
      state.tried.push(`round ${round}: stopped (${result.reason})`)
      const publishable = result.reason !== "repeat" && (await stoppedWithPassingChange(deps, state))
      return { kind: publishable ? "stopped-passing" : "stopped", stopped: result }
    }
    submitted = result
    state.tried.push(`round ${round}: submitted "${result.title}"`)
    if (!state.config?.test) break
    const verification = await verify(deps, state, round)
    if (!verification.comparison.regressed) break
    state.lastErrors = [describeTestRun(verification.after, 1500)]
    feedback = `Your change was verified by running \`${state.config.test}\`, and tests now fail that passed before (${verification.comparison.newlyFailing.join(", ")}). Fix them without weakening the tests.\n\n${describeTestRun(verification.after)}`
  }
  if (!submitted) throw new NonRetryableError("the agent did not submit a change")
  return { kind: "submitted", submitted }
}
