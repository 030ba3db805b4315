/**
 * The budget of each agent round: the operator's limits, lowered (never raised) by the
 * repository's `.prwright.yml`, minus what the run has already spent.
 */
import type { Budget } from "../agent/budget.js"
import type { RepoConfig } from "../repo-config.js"
import type { RunLimits } from "./run-state.js"

/** min(operator, repository): a repository may only lower the operator's caps. */
export const effectiveCaps = (
  limits: Pick<RunLimits, "maxSteps" | "maxCostUsd">,
  config: Pick<RepoConfig, "maxSteps" | "maxCostUsd"> | undefined,
): { maxSteps: number; maxCostUsd?: number | undefined } => {
  const maxSteps = Math.min(limits.maxSteps, config?.maxSteps ?? Number.POSITIVE_INFINITY)
  const costs = [limits.maxCostUsd, config?.maxCostUsd].filter((c): c is number => c !== undefined)
  return { maxSteps, maxCostUsd: costs.length > 0 ? Math.min(...costs) : undefined }
}

/** What one round may still spend. */
export const roundBudget = (input: {
  limits: RunLimits
  config: RepoConfig | undefined
  stepsUsed: number
  spent: { inputTokens: number; outputTokens: number; costUsd: number }
  elapsedMs: number
}): Budget => {
  const { limits, spent } = input
  const caps = effectiveCaps(limits, input.config)
  return {
    maxSteps: Math.max(1, caps.maxSteps - input.stepsUsed),
    maxInputTokens: limits.maxInputTokens ? limits.maxInputTokens - spent.inputTokens : undefined,
    maxOutputTokens: limits.maxOutputTokens ? limits.maxOutputTokens - spent.outputTokens : undefined,
    maxCostUsd: caps.maxCostUsd ? Math.max(0, caps.maxCostUsd - spent.costUsd) : undefined,
    wallClockMs: limits.wallClockMs ? Math.max(1, limits.wallClockMs - input.elapsedMs) : undefined,
    idleMs: limits.idleMs || undefined,
  }
}
