/**
 * The limits of one implementing run, counted outside the model: steps, tokens and money from the
 * provider's usage figures after every step, wall-clock time since the start, and idle time (the
 * model silent for too long). The tracker only counts and judges; the agent loop owns the timers
 * and the abort. Figures in every message so a stopped run can explain itself.
 */
import { addUsage, type Usage, ZERO_USAGE } from "#domain/workflow-run.js"

export interface Budget {
  /** model turns */
  maxSteps: number
  /** summed over all steps (each step re-sends the conversation, so this grows fast) */
  maxInputTokens?: number | undefined
  maxOutputTokens?: number | undefined
  maxCostUsd?: number | undefined
  /** from the start of the run */
  wallClockMs?: number | undefined
  /** the longest the model may go without finishing a step; time spent in tools does not count */
  idleMs?: number | undefined
}

export type BudgetLimit = "steps" | "inputTokens" | "outputTokens" | "costUsd" | "wallClock" | "idle"

export interface BudgetExhaustion {
  limit: BudgetLimit
  /** names the limit and the figures, e.g. "cost limit: spent $0.5210 of maxCostUsd $0.50" */
  detail: string
}

export interface BudgetTracker {
  readonly steps: number
  readonly usage: Usage
  recordStep(usage: Usage): void
  /** a model call that is not a step (condensing the conversation): counts its tokens and cost only */
  recordUsage(usage: Usage): void
  /** a tool started / finished: idle time is not counted while one runs (tools have their own timeouts) */
  toolStarted(): void
  toolFinished(): void
  /** the first limit used up at this moment, if any */
  exceeded(): BudgetExhaustion | undefined
  /** ms until a time limit could next run out (for a timer); undefined without time limits */
  msUntilTimeLimit(): number | undefined
  /** a note for the model the first time a limit passes 80% (during step `currentStep`, 1-based) */
  warning(currentStep: number): string | undefined
  /** what the model may still spend, one line per limit, for the system prompt */
  describe(): string
}

/** fraction of a limit after which the model is warned to wrap up */
export const BUDGET_WARNING_FRACTION = 0.8

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
const dollars = (usd: number): string => `$${usd.toFixed(4)}`

export const createBudgetTracker = (budget: Budget, now: () => number = Date.now): BudgetTracker => {
  if (!Number.isInteger(budget.maxSteps) || budget.maxSteps < 1) {
    throw new RangeError(`budget.maxSteps must be a positive integer, got ${budget.maxSteps}`)
  }
  const startedAt = now()
  let lastActivityAt = startedAt
  let toolsRunning = 0
  let steps = 0
  let usage: Usage = ZERO_USAGE
  const warned = new Set<BudgetLimit>()

  const idleFor = (at: number): number => (toolsRunning > 0 ? 0 : at - lastActivityAt)

  const exceeded = (): BudgetExhaustion | undefined => {
    const at = now()
    const { maxInputTokens, maxOutputTokens, maxCostUsd, wallClockMs, idleMs } = budget
    if (steps >= budget.maxSteps)
      return { limit: "steps", detail: `step limit: used all ${steps} of maxSteps ${budget.maxSteps}` }
    if (maxInputTokens !== undefined && usage.inputTokens >= maxInputTokens)
      return {
        limit: "inputTokens",
        detail: `input token limit: used ${usage.inputTokens} of maxInputTokens ${maxInputTokens}`,
      }
    if (maxOutputTokens !== undefined && usage.outputTokens >= maxOutputTokens)
      return {
        limit: "outputTokens",
        detail: `output token limit: used ${usage.outputTokens} of maxOutputTokens ${maxOutputTokens}`,
      }
    if (maxCostUsd !== undefined && usage.costUsd >= maxCostUsd)
      return {
        limit: "costUsd",
        detail: `cost limit: spent ${dollars(usage.costUsd)} of maxCostUsd ${dollars(maxCostUsd)}`,
      }
    if (wallClockMs !== undefined && at - startedAt >= wallClockMs)
      return {
        limit: "wallClock",
        detail: `wall-clock limit: ran ${seconds(at - startedAt)} of wallClockMs ${seconds(wallClockMs)}`,
      }
    if (idleMs !== undefined && idleFor(at) >= idleMs)
      return {
        limit: "idle",
        detail: `idle limit: the model finished no step for ${seconds(idleFor(at))} (idleMs ${seconds(idleMs)})`,
      }
    return undefined
  }

  const fractions = (currentStep: number): Array<[BudgetLimit, number, string]> => {
    const at = now()
    const list: Array<[BudgetLimit, number, string]> = [
      ["steps", currentStep / budget.maxSteps, `this is step ${currentStep} of ${budget.maxSteps}`],
    ]
    if (budget.maxInputTokens !== undefined)
      list.push([
        "inputTokens",
        usage.inputTokens / budget.maxInputTokens,
        `${usage.inputTokens} of ${budget.maxInputTokens} input tokens used`,
      ])
    if (budget.maxOutputTokens !== undefined)
      list.push([
        "outputTokens",
        usage.outputTokens / budget.maxOutputTokens,
        `${usage.outputTokens} of ${budget.maxOutputTokens} output tokens used`,
      ])
    if (budget.maxCostUsd !== undefined)
      list.push([
        "costUsd",
        usage.costUsd / budget.maxCostUsd,
        `${dollars(usage.costUsd)} of ${dollars(budget.maxCostUsd)} spent`,
      ])
    if (budget.wallClockMs !== undefined)
      list.push([
        "wallClock",
        (at - startedAt) / budget.wallClockMs,
        `${seconds(at - startedAt)} of ${seconds(budget.wallClockMs)} used`,
      ])
    return list
  }

  return {
    get steps() {
      return steps
    },
    get usage() {
      return usage
    },
    recordStep(step) {
      steps += 1
      usage = addUsage(usage, step)
      lastActivityAt = now()
    },
    recordUsage(extra) {
      usage = addUsage(usage, extra)
      lastActivityAt = now()
    },
    toolStarted() {
      toolsRunning += 1
    },
    toolFinished() {
      toolsRunning = Math.max(0, toolsRunning - 1)
      lastActivityAt = now()
    },
    exceeded,
    msUntilTimeLimit() {
      const at = now()
      const left: number[] = []
      if (budget.wallClockMs !== undefined) left.push(startedAt + budget.wallClockMs - at)
      if (budget.idleMs !== undefined)
        left.push(toolsRunning > 0 ? budget.idleMs : lastActivityAt + budget.idleMs - at)
      return left.length === 0 ? undefined : Math.max(0, Math.min(...left))
    },
    warning(currentStep) {
      const crossed = fractions(currentStep).filter(
        ([limit, fraction]) => fraction >= BUDGET_WARNING_FRACTION && !warned.has(limit),
      )
      if (crossed.length === 0) return undefined
      for (const [limit] of crossed) warned.add(limit)
      return `Budget warning: ${crossed.map(([, , text]) => text).join("; ")}. The run is stopped when a limit is reached, and unsubmitted work is handed over as it is: finish the change, run the tests, and call submit soon.`
    },
    describe() {
      const lines = [`- at most ${budget.maxSteps} steps (model turns)`]
      if (budget.maxCostUsd !== undefined)
        lines.push(`- at most ${dollars(budget.maxCostUsd)} of model usage`)
      if (budget.maxInputTokens !== undefined)
        lines.push(
          `- at most ${budget.maxInputTokens} input tokens in all (every step re-sends the conversation: keep tool output small)`,
        )
      if (budget.maxOutputTokens !== undefined)
        lines.push(`- at most ${budget.maxOutputTokens} output tokens in all`)
      if (budget.wallClockMs !== undefined)
        lines.push(
          `- at most ${Math.max(1, Math.round(budget.wallClockMs / 60_000))} minutes of wall-clock time, commands included`,
        )
      return lines.join("\n")
    },
  }
}
