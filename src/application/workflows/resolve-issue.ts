/**
 * resolveIssue and autoResolveIssue: one run, as named phases over one state (run-state.ts).
 *
 *   prepare          read the issue, check out the run's branch, read the repository's config
 *   plan             (autoResolve) explore read-only and write a plan
 *   set up, baseline setup on the setup network, tests before any edit, snapshot of the tree
 *   implement        agent rounds, each verified by the repository's tests
 *   publish | stop   prove the fix, commit the agent's work, open the PR — or explain the stop
 */
import { errorMessage, NonRetryableError } from "#domain/errors.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import { type RunContext, RunEndedError, type WorkflowOutcome } from "../run-job.js"
import { findPlan } from "./find-plan.js"
import { implementRounds } from "./implement-rounds.js"
import { planPhase } from "./plan-phase.js"
import { checkOut, release, startRun } from "./prepare-run.js"
import { publishChange } from "./publish-change.js"
import type { ImplementOptions, ResolveContext, ResolveIssueDeps } from "./run-state.js"
import { setUpAndBaseline } from "./set-up-phase.js"
import { reportStop } from "./stop-report.js"

export type { Coder, CodingResult, ResolveIssueDeps, RunLimits } from "./run-state.js"

export const createResolveIssue = (deps: ResolveIssueDeps) => {
  const stopDeps = { github: deps.github, logger: deps.logger, author: deps.author, runUrl: deps.runUrl }

  const implement = async (context: ResolveContext, options: ImplementOptions): Promise<WorkflowOutcome> => {
    const state = await startRun(deps, context)
    if (options.plan) state.plan = options.plan
    let keepCheckout = false
    let releaseLater = false
    try {
      await checkOut(deps, state)
      if (options.planFirst) await planPhase(deps, state, options)
      await setUpAndBaseline(deps, state)
      const outcome = await implementRounds(deps, state, options)
      if (outcome.kind === "stopped") {
        const { reason, detail } = outcome.stopped
        await reportStop(stopDeps, state, `the agent stopped: ${detail}`)
        throw new NonRetryableError(`the agent stopped (${reason}): ${detail}`)
      }
      return await publishChange(deps, state, outcome, options.createPR)
    } catch (error) {
      // ended elsewhere (a cancel this worker did not hear of): nothing more reaches GitHub
      if (error instanceof RunEndedError) throw error
      const cancelled = context.isCancelled(error)
      if (cancelled || context.isFinal(error)) {
        // a failed run's files stay for inspection (not a cancelled one: nobody asked for it)
        keepCheckout = !cancelled
        state.lastErrors.push(errorMessage(error))
        const report = () =>
          reportStop(stopDeps, state, cancelled ? "the run was cancelled" : errorMessage(error)).catch(
            (e: unknown) =>
              deps.logger.warn("could not report the stop on GitHub", { error: errorMessage(e) }),
          )
        if (cancelled && context.afterEnd) {
          // a cancel ends the run at once (within 2 s): the work in progress is pushed and the stop
          // explained right after `cancelled` is recorded, then the checkout goes
          releaseLater = true
          context.afterEnd(async () => {
            await report()
            await release(deps, state, false)
          })
        } else await report()
      }
      throw error
    } finally {
      if (!releaseLater) await release(deps, state, keepCheckout)
    }
  }

  return {
    resolve: async (context: RunContext<"resolve-issue">) => {
      const repo = parseRepoRef(context.data.repoFullName)
      const plan = await findPlan(deps.runs, repo, context.data.issueNumber, context.data.planId, deps.plans)
      return implement(context, {
        plan,
        createPR: context.data.options.createPR,
        rounds: context.data.options.maxAttempts,
        planFirst: false,
        postPlan: false,
        instructions: context.data.instructions,
      })
    },
    autoResolve: (context: RunContext<"auto-resolve-issue">) =>
      implement(context, {
        createPR: context.data.options.createPR,
        rounds: context.data.options.maxAttempts,
        planFirst: true,
        postPlan: context.data.options.postToGitHub,
      }),
  }
}
