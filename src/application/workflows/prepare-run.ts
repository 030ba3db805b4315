/**
 * Prepare: the issue, the model, the sandbox, the run's HOME and /tmp, the checkout on the run's
 * branch, and the repository's configuration (read from the default branch as checked out).
 */

import { branchNameFor } from "#domain/branch-name.js"
import { NonRetryableError } from "#domain/errors.js"
import type { ModelHandle } from "../ports/model.js"
import { loadRepoConfig } from "../repo-config.js"
import { checkOutDefaultBranch, readIssue } from "./issue-preamble.js"
import { effectiveCaps } from "./run-budget.js"
import { runSandbox } from "./run-environment.js"
import type { ResolveContext, ResolveIssueDeps, RunState } from "./run-state.js"

const requireModel = (model: ModelHandle | undefined): ModelHandle => {
  if (model) return model
  throw new NonRetryableError(
    "no LLM is configured: set LLM_PROVIDER, LLM_MODEL and the key (LLM_API_KEY, OPENAI_API_KEY or ANTHROPIC_API_KEY), then retry",
    { code: "config" },
  )
}

/** Reads the issue and opens the run's state; nothing to clean up yet if this throws. */
export const startRun = async (deps: ResolveIssueDeps, context: ResolveContext): Promise<RunState> => {
  const model = requireModel(deps.model)
  await context.progress(5, "reading the issue")
  const input = await readIssue(deps.github, context.data)
  const sandbox = await deps.sandbox()
  return {
    context,
    model,
    sandbox,
    ...input,
    issueNumber: input.issue.number,
    branch: branchNameFor("prwright/", input.issue.number, input.issue.title),
    startedAt: (deps.now ?? Date.now)(),
    setup: { refusedHosts: [] },
    verifyOutput: new Set(),
    steps: 0,
    rounds: 0,
    tried: [],
    lastErrors: [],
  }
}

/** The checkout on the run's branch (its prefix comes from the repository's config) and the run's dirs. */
export const checkOut = async (deps: ResolveIssueDeps, state: RunState): Promise<void> => {
  const { context } = state
  await context.progress(10, "checking out the repository")
  const run = { runId: context.run.id, signal: context.signal }
  state.checkout = await checkOutDefaultBranch(deps.workspace, state, { ...run, branch: state.branch })
  state.config = await loadRepoConfig(state.checkout)
  const branch = state.fixedBranch
    ? state.branch
    : branchNameFor(state.config.branchPrefix, state.issue.number, state.issue.title)
  if (branch !== state.branch) {
    await state.checkout.dispose()
    state.checkout = undefined
    state.branch = branch
    state.checkout = await checkOutDefaultBranch(deps.workspace, state, { ...run, branch })
    state.config = await loadRepoConfig(state.checkout)
  }
  await context.saveArtifacts({ branchName: state.branch })
  if (deps.runDirs) state.dirs = await deps.runDirs(context.run.id)
  state.sandbox = runSandbox(state.sandbox, state.dirs)

  const { config } = state
  const caps = effectiveCaps(deps.limits, config)
  const lowered =
    config.maxSteps !== undefined || config.maxCostUsd !== undefined
      ? `; caps: ${caps.maxSteps} steps${caps.maxCostUsd === undefined ? "" : `, $${caps.maxCostUsd}`} (the lower of the operator's and .prwright.yml's)`
      : ""
  await context.emit({
    type: "log",
    level: "info",
    message: `setup: ${config.setup ?? "(none)"} [${config.source.setup}]; test: ${config.test ?? "(none)"} [${config.source.test}]; detected: ${config.ecosystems.join(", ") || "nothing"}${lowered}`,
  })
}

/** Removes the run's checkout (kept for inspection after a failure) and its HOME and /tmp. */
export const release = async (deps: ResolveIssueDeps, state: RunState, keepCheckout: boolean) => {
  await state.checkout
    ?.dispose({ keepForInspection: keepCheckout })
    .catch((e: unknown) => deps.logger.warn("could not remove the run's checkout", { error: String(e) }))
  await state.dirs
    ?.dispose()
    .catch((e: unknown) => deps.logger.warn("could not remove the run's HOME and /tmp", { error: String(e) }))
}
