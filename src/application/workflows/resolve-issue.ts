import { branchNameFor } from "#domain/branch-name.js"
import { CancelledError, errorMessage, NonRetryableError } from "#domain/errors.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import type { Budget } from "../agent/budget.js"
import type { CodingAgentOptions, CodingResult } from "../agent/coding-agent.js"
import type { GitHub, GitHubRepository } from "../ports/github.js"
import type { Logger } from "../ports/logging.js"
import type { ModelHandle } from "../ports/model.js"
import type { PlanStore } from "../ports/plan-store.js"
import type { RunStore } from "../ports/run-store.js"
import type { Sandbox } from "../ports/sandbox.js"
import type { Workspace } from "../ports/workspace.js"
import { loadRepoConfig, type RepoConfig } from "../repo-config.js"
import type { RunContext, WorkflowOutcome } from "../run-job.js"
import { compareTestRuns, type TestRun } from "../test-results.js"
import type { Planner } from "./comment-on-issue.js"
import { findPlan } from "./find-plan.js"
import { publishChange } from "./publish-change.js"
import { describeTestRun, runTestCommand, testResultEvent } from "./repo-commands.js"
import { planMarker, upsertRunComment } from "./run-comment.js"
import { reportStop, type StopState } from "./stop-report.js"

export type { CodingResult }

/** The implementing agent, injected (runCodingAgent in production, a wrapper in tests). */
export type Coder = (options: CodingAgentOptions) => Promise<CodingResult>

export interface RunLimits {
  maxSteps: number
  maxCostUsd?: number
  maxInputTokens?: number
  maxOutputTokens?: number
  wallClockMs?: number
  idleMs?: number
  setupTimeoutMs: number
  testTimeoutMs: number
  planSteps: number
}

export interface ResolveIssueDeps {
  github: GitHub
  workspace: Workspace
  sandbox: () => Promise<Sandbox>
  model: ModelHandle | undefined
  planner: Planner
  coder: Coder
  runs: RunStore
  /** stored plan versions; a planId names one exactly */
  plans?: PlanStore
  logger: Logger
  author: { name: string; email: string }
  limits: RunLimits
  runUrl?: (runId: string) => string
  now?: () => number
}

interface ImplementOptions {
  plan?: string
  createPR: boolean
  /** agent rounds: the first implementation plus repairs after a failing verification */
  rounds: number
  /** auto-resolve plans first, in the same run */
  planFirst: boolean
  postPlan: boolean
  /** changes a maintainer asked for on the open PR (`/prwright fix …`): the first round's turn */
  instructions?: string
}

const requireModel = (model: ModelHandle | undefined): ModelHandle => {
  if (model) return model
  throw new NonRetryableError(
    "no LLM is configured: set LLM_PROVIDER, LLM_MODEL and the key (LLM_API_KEY, OPENAI_API_KEY or ANTHROPIC_API_KEY), then retry",
    { code: "config" },
  )
}

export const createResolveIssue = (deps: ResolveIssueDeps) => {
  const now = deps.now ?? Date.now

  const implement = async (
    context: RunContext<"resolve-issue" | "auto-resolve-issue">,
    options: ImplementOptions,
  ): Promise<WorkflowOutcome> => {
    const { data, signal } = context
    const startedAt = now()
    const model = requireModel(deps.model)
    const repo = parseRepoRef(data.repoFullName)
    await context.progress(5, "reading the issue")
    const repository: GitHubRepository = await deps.github.getRepository(repo)
    const issue = await deps.github.getIssue(repo, data.issueNumber)
    if (issue.isPullRequest) {
      throw new NonRetryableError(`#${data.issueNumber} is a pull request, not an issue`, {
        code: "invalid_input",
      })
    }
    const sandbox = await deps.sandbox()

    const state: StopState = {
      context,
      repo,
      issueNumber: data.issueNumber,
      branch: branchNameFor("prwright/", data.issueNumber, issue.title),
      tried: [],
      lastErrors: [],
      editedPaths: new Set(),
      residue: new Set(),
    }
    let keepCheckout = false
    const stopDeps = { github: deps.github, logger: deps.logger, author: deps.author, runUrl: deps.runUrl }

    try {
      await context.progress(10, "checking out the repository")
      let checkout = await deps.workspace.checkout({
        repo,
        cloneUrl: repository.cloneUrl,
        ref: repository.defaultBranch,
        runId: context.run.id,
        branch: state.branch,
        signal,
      })
      state.checkout = checkout
      let config: RepoConfig = await loadRepoConfig(checkout)
      const branch = branchNameFor(config.branchPrefix, data.issueNumber, issue.title)
      if (branch !== state.branch) {
        await checkout.dispose()
        state.branch = branch
        checkout = await deps.workspace.checkout({
          repo,
          cloneUrl: repository.cloneUrl,
          ref: repository.defaultBranch,
          runId: context.run.id,
          branch,
          signal,
        })
        state.checkout = checkout
        config = await loadRepoConfig(checkout)
      }
      await context.saveArtifacts({ branchName: state.branch })
      await context.emit({
        type: "log",
        level: "info",
        message: `setup: ${config.setup ?? "(none)"} [${config.source.setup}]; test: ${config.test ?? "(none)"} [${config.source.test}]`,
      })

      let plan = options.plan
      if (options.planFirst) {
        await context.progress(15, "planning")
        const planned = await deps.planner({
          model,
          checkout,
          repoFullName: repo.fullName,
          issue,
          signal,
          maxSteps: deps.limits.planSteps,
          onEvent: (event) => context.emit(event),
        })
        plan = planned.plan
        state.tried.push("wrote a plan")
        if (options.postPlan) {
          const body = `${planMarker(context.run.id)}\n## Implementation plan\n\n${plan.trim()}\n\n<sub>prwright is implementing this plan now (run \`${context.run.id}\`).</sub>`
          const comment = await upsertRunComment(
            deps.github,
            {
              repo,
              issueNumber: data.issueNumber,
              knownId: context.run.artifacts.planCommentId,
              marker: planMarker(context.run.id),
            },
            body,
          )
          await context.saveArtifacts({ planCommentId: comment.id, planCommentUrl: comment.htmlUrl })
        }
      }

      if (config.setup) {
        await context.progress(25, `setting up: ${config.setup}`)
        const setup = await sandbox.run({
          command: config.setup,
          root: checkout.root,
          mounts: checkout.mounts,
          network: "setup",
          timeoutMs: deps.limits.setupTimeoutMs,
          maxOutputBytes: 64 * 1024,
          signal,
        })
        if (signal.aborted) throw new CancelledError()
        state.tried.push(`ran setup \`${config.setup}\` (exit ${setup.exitCode})`)
        if (setup.exitCode !== 0) {
          throw new NonRetryableError(
            `the setup command \`${config.setup}\` failed (${setup.timedOut ? "timed out" : `exit ${setup.exitCode}`}): fix it, or set \`setup:\` in .prwright.yml.\n${setup.output.slice(-2000)}`,
          )
        }
      }

      const runTests = async (command: string) => {
        const run = await runTestCommand({
          sandbox,
          root: checkout.root,
          mounts: checkout.mounts,
          command,
          timeoutMs: deps.limits.testTimeoutMs,
          signal,
        })
        if (signal.aborted) throw new CancelledError()
        return run
      }
      let baseline: TestRun | undefined
      if (config.test) {
        await context.progress(35, `baseline tests: ${config.test}`)
        baseline = await runTests(config.test)
        state.baseline = baseline
        await context.emit(testResultEvent("baseline", baseline))
      }
      // Whatever setup and the baseline run left behind is not part of the change.
      for (const change of await checkout.status()) state.residue.add(change.path)

      let feedback: string | undefined = options.instructions
        ? `A maintainer asked for these changes on the open pull request (branch ${state.branch}); the branch already holds the earlier work. Make them:\n\n${options.instructions}`
        : undefined
      let after: TestRun | undefined
      let submitted: Extract<CodingResult, { outcome: "submitted" }> | undefined
      let steps = 0
      let rounds = 0
      for (let round = 1; round <= options.rounds; round++) {
        rounds = round
        await context.progress(
          40 + Math.round((round - 1) * (35 / options.rounds)),
          feedback ? "repairing" : "implementing",
        )
        const usage = context.usage()
        const budget: Budget = {
          maxSteps: Math.max(1, (config.maxSteps ?? deps.limits.maxSteps) - steps),
          ...(deps.limits.maxInputTokens
            ? { maxInputTokens: deps.limits.maxInputTokens - usage.inputTokens }
            : {}),
          ...(deps.limits.maxOutputTokens
            ? { maxOutputTokens: deps.limits.maxOutputTokens - usage.outputTokens }
            : {}),
          ...((config.maxCostUsd ?? deps.limits.maxCostUsd)
            ? { maxCostUsd: Math.max(0, (config.maxCostUsd ?? deps.limits.maxCostUsd ?? 0) - usage.costUsd) }
            : {}),
          ...(deps.limits.wallClockMs
            ? { wallClockMs: Math.max(1, deps.limits.wallClockMs - (now() - startedAt)) }
            : {}),
          ...(deps.limits.idleMs ? { idleMs: deps.limits.idleMs } : {}),
        }
        const result = await deps.coder({
          model,
          checkout,
          sandbox,
          repoFullName: repo.fullName,
          issue,
          ...(plan ? { plan } : {}),
          ...(baseline ? { baseline: describeTestRun(baseline, 3000) } : {}),
          ...(feedback ? { feedback } : {}),
          budget,
          signal,
          onEvent: (event) => context.emit(event),
        })
        steps += result.steps
        for (const path of result.editedPaths) state.editedPaths.add(path)
        if (result.outcome === "stopped") {
          state.tried.push(`round ${round}: stopped (${result.reason})`)
          await reportStop(stopDeps, state, `the agent stopped: ${result.detail}`)
          throw new NonRetryableError(`the agent stopped (${result.reason}): ${result.detail}`)
        }
        submitted = result
        state.tried.push(`round ${round}: submitted "${result.title}"`)
        if (!config.test) break
        await context.progress(80, `verifying: ${config.test}`)
        after = await runTests(config.test)
        state.after = after
        const comparison = compareTestRuns(baseline, after)
        await context.emit(testResultEvent("verify", after), {
          type: "log",
          level: comparison.regressed ? "warn" : "info",
          message: `verify (round ${round}): ${comparison.verdict}${
            comparison.newlyFailing.length > 0 ? `; newly failing: ${comparison.newlyFailing.join(", ")}` : ""
          }`,
        })
        if (!comparison.regressed) break
        state.lastErrors = [describeTestRun(after, 1500)]
        feedback = `Your change was verified by running \`${config.test}\`, and tests now fail that passed before (${comparison.newlyFailing.join(", ")}). Fix them without weakening the tests.\n\n${describeTestRun(after)}`
      }
      if (!submitted) throw new NonRetryableError("the agent did not submit a change")

      await context.progress(90, "publishing")
      return await publishChange(
        {
          github: deps.github,
          author: deps.author,
          ...(deps.runUrl ? { runUrl: deps.runUrl } : {}),
        },
        {
          context,
          repo,
          repository,
          issue,
          checkout,
          branch: state.branch,
          submitted,
          editedPaths: state.editedPaths,
          residue: state.residue,
          ...(baseline ? { baseline } : {}),
          ...(after ? { after } : {}),
          createPR: options.createPR,
          model: `${model.provider}/${model.modelId}`,
          steps,
          repairRounds: rounds - 1,
        },
      )
    } catch (error) {
      const cancelled = context.isCancelled(error)
      if (cancelled || context.isFinal(error)) {
        // a failed run's files stay for inspection (not a cancelled one: nobody asked for it)
        keepCheckout = !cancelled
        state.lastErrors.push(errorMessage(error))
        await reportStop(stopDeps, state, cancelled ? "the run was cancelled" : errorMessage(error)).catch(
          (e: unknown) => deps.logger.warn("could not report the stop on GitHub", { error: errorMessage(e) }),
        )
      }
      throw error
    } finally {
      await state.checkout
        ?.dispose({ keepForInspection: keepCheckout })
        .catch((e: unknown) =>
          deps.logger.warn("could not remove the run's checkout", { error: errorMessage(e) }),
        )
    }
  }

  return {
    resolve: (context: RunContext<"resolve-issue">) =>
      (async () => {
        const repo = parseRepoRef(context.data.repoFullName)
        const plan = await findPlan(
          deps.runs,
          repo,
          context.data.issueNumber,
          context.data.planId,
          deps.plans,
        )
        return implement(context, {
          ...(plan ? { plan } : {}),
          createPR: context.data.options.createPR,
          rounds: context.data.options.maxAttempts,
          planFirst: false,
          postPlan: false,
          ...(context.data.instructions ? { instructions: context.data.instructions } : {}),
        })
      })(),
    autoResolve: (context: RunContext<"auto-resolve-issue">) =>
      implement(context, {
        createPR: context.data.options.createPR,
        rounds: context.data.options.maxAttempts,
        planFirst: true,
        postPlan: context.data.options.postToGitHub,
      }),
  }
}
