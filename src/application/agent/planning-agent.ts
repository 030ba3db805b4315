/**
 * The read-only planning agent: the model explores the checkout with `view` and `search` and hands in
 * a Markdown plan with `submit_plan`. Built directly on the AI SDK's `generateText` tool loop; this
 * file adds the bounds (steps, cancellation), the run events and the error mapping.
 */

import { generateText, type StepResult, type StopCondition, stepCountIs, type ToolSet, tool } from "ai"
import { z } from "zod"
import type { GitHubIssue } from "#application/ports/github.js"
import type { ModelHandle } from "#application/ports/model.js"
import type { Checkout } from "#application/ports/workspace.js"
import { CancelledError, NonRetryableError } from "#domain/errors.js"
import type { RunEventData } from "#domain/run-event.js"
import { addUsage, type Usage, ZERO_USAGE } from "#domain/workflow-run.js"
import { toModelError } from "./model-errors.js"
import { planningSystemPrompt, planningUserMessage } from "./planning-prompt.js"
import { cachedPrompt } from "./prompt-cache.js"
import { createReadOnlyTools } from "./read-only-tools.js"
import { stepEvents, stepUsage } from "./step-events.js"

export const DEFAULT_PLANNING_MAX_STEPS = 30

export interface PlanningAgentOptions {
  model: ModelHandle
  checkout: Checkout
  repoFullName: string
  issue: GitHubIssue
  signal: AbortSignal
  /** model turns; default 30 (`.prwright.yml` maxSteps) */
  maxSteps?: number
  /** the AI SDK's own retries of one model call on 429/5xx, before the job queue's retry; default 2 */
  maxRetries?: number
  /** events are awaited in order; if one fails the run stops with that error */
  onEvent: (event: RunEventData) => Promise<void> | void
  now?: () => number
}

export interface PlanningResult {
  plan: string
  usage: Usage
  steps: number
}

const submitPlanInput = z.strictObject({
  plan: z
    .string()
    .describe(
      "The implementation plan in Markdown: Summary, Files to change, Steps, Tests, Risks and open questions.",
    ),
})

/** The plan from the last successful submit_plan call, if any. */
const submittedPlan = <T extends ToolSet>(steps: ReadonlyArray<StepResult<T>>): string | undefined => {
  for (const step of [...steps].reverse()) {
    const result = [...step.toolResults].reverse().find((r) => r.toolName === "submit_plan")
    if (result) return (result.input as { plan: string }).plan
  }
  return undefined
}

/**
 * Stop once submit_plan has *succeeded*. The SDK's `hasToolCall('submit_plan')` would also stop on a
 * call whose input failed validation, leaving no plan and no chance for the model to correct it.
 */
const planSubmitted =
  <T extends ToolSet>(): StopCondition<T> =>
  ({ steps }) =>
    steps.at(-1)?.toolResults.some((result) => result.toolName === "submit_plan") ?? false

export const runPlanningAgent = async (options: PlanningAgentOptions): Promise<PlanningResult> => {
  const { model, checkout, signal } = options
  const maxSteps = options.maxSteps ?? DEFAULT_PLANNING_MAX_STEPS
  const now = options.now ?? Date.now
  if (signal.aborted) throw new CancelledError()

  const sizes = new Map<string, number>()
  const tools = {
    ...createReadOnlyTools({ checkout, sizes }),
    submit_plan: tool({
      description:
        "Hand in the finished implementation plan (Markdown). Ends the run: call it once, after exploring.",
      inputSchema: submitPlanInput,
      execute: async ({ plan }, { toolCallId }) => {
        sizes.set(toolCallId, 0)
        if (plan.trim().length === 0)
          throw new Error("the plan is empty: call submit_plan with the full Markdown plan")
        return "Plan received. The run ends here."
      },
    }),
  }

  // The AI SDK swallows errors thrown by step callbacks; keep the first one and stop the run with it,
  // so a failing event store cannot silently lose the run's history.
  const stop = new AbortController()
  let eventError: unknown
  const emit = async (events: RunEventData[]): Promise<void> => {
    if (eventError !== undefined) return
    try {
      for (const event of events) await options.onEvent(event)
    } catch (error) {
      eventError = error
      stop.abort()
    }
  }

  let usage: Usage = ZERO_USAGE
  let stepStartedAt = now()
  let modelAnsweredAt: number | undefined
  let result: Awaited<ReturnType<typeof generateText<typeof tools>>>
  try {
    result = await generateText({
      model: model.model,
      ...cachedPrompt(
        model,
        planningSystemPrompt({ maxSteps }),
        planningUserMessage({
          repoFullName: options.repoFullName,
          issue: options.issue,
          ref: checkout.ref,
          headSha: checkout.headSha,
        }),
      ),
      // the issue text is untrusted: a system message may only come from us
      allowSystemInMessages: false,
      tools,
      stopWhen: [planSubmitted(), stepCountIs(maxSteps)],
      abortSignal: AbortSignal.any([signal, stop.signal]),
      maxRetries: options.maxRetries ?? 2,
      experimental_onStepStart: () => {
        stepStartedAt = now()
        modelAnsweredAt = undefined
      },
      // Latency is the model's answer time: tools run before onStepFinish and must not count.
      experimental_onToolCallStart: () => {
        modelAnsweredAt ??= now()
      },
      onStepFinish: async (step) => {
        const latencyMs = (modelAnsweredAt ?? now()) - stepStartedAt
        usage = addUsage(usage, stepUsage(step, model))
        await emit(stepEvents(step, { model, latencyMs, sizes }))
      },
    })
  } catch (error) {
    if (eventError !== undefined) throw eventError
    throw toModelError(error, { signal, provider: model.provider, modelId: model.modelId })
  }
  if (eventError !== undefined) throw eventError
  if (signal.aborted) throw new CancelledError()

  const plan = submittedPlan(result.steps)
  if (plan === undefined) {
    const last = result.steps.at(-1)
    const usedAllSteps = result.steps.length >= maxSteps && last?.finishReason === "tool-calls"
    throw new NonRetryableError(
      usedAllSteps
        ? `the model used all ${maxSteps} steps without calling submit_plan: raise maxSteps in .prwright.yml, or try a stronger model (LLM_MODEL)`
        : `the model stopped (finish reason "${last?.finishReason ?? "unknown"}") without calling submit_plan, so there is no plan: try a stronger model that supports tool calling (LLM_MODEL), or raise maxSteps in .prwright.yml if it ran out of room`,
    )
  }
  await emit([{ type: "plan", plan }])
  if (eventError !== undefined) throw eventError
  return { plan, usage, steps: result.steps.length }
}
