/**
 * The read-only planning agent: the model explores the checkout with `view` and `search` and hands in
 * a Markdown plan with `submit_plan`. Runs on the shared step loop (step-loop.ts: context control,
 * retries, cache breakpoints); this file adds the bounds (steps, cancellation), the run events and
 * the error mapping. Models often write the plan as their answer instead of calling the tool: a
 * Markdown reply that looks like a plan is taken as the plan, and the last step forces `submit_plan`.
 */

import { tool } from "ai"
import { z } from "zod"
import type { GitHubIssue } from "#application/ports/github.js"
import type { ModelHandle } from "#application/ports/model.js"
import type { Checkout } from "#application/ports/workspace.js"
import { CancelledError, NonRetryableError } from "#domain/errors.js"
import type { RunEventData } from "#domain/run-event.js"
import { addUsage, type Usage, ZERO_USAGE } from "#domain/workflow-run.js"
import type { ContextOptions } from "./context.js"
import { toModelError } from "./model-errors.js"
import type { RetryOptions } from "./model-retry.js"
import { planningSystemPrompt, planningUserMessage } from "./planning-prompt.js"
import { createReadOnlyTools } from "./read-only-tools.js"
import { createEventSink, sideCallEvent, stepEvents, stepUsage, usageOf } from "./step-events.js"
import { runAgentLoop } from "./step-loop.js"
import { contextSections, resolveTaskContext, type TaskContext } from "./task-context.js"

export const DEFAULT_PLANNING_MAX_STEPS = 30
/**
 * replies without a tool call that are not a plan, answered with a reminder before the run fails;
 * 0: such a reply ends the run at once (a model that chats instead of planning rarely recovers, and
 * a Markdown plan written as text is already taken)
 */
export const MAX_PLAN_NUDGES = 0

export interface PlanningAgentOptions {
  model: ModelHandle
  checkout: Checkout
  repoFullName: string
  issue: GitHubIssue
  signal: AbortSignal
  /** model turns; default 30 (`.prwright.yml` maxSteps) */
  maxSteps?: number | undefined
  /** retries of one model call on 429/5xx/529 inside the agent (backoff, retry-after); default 9 */
  maxRetries?: number | undefined
  retry?: Omit<RetryOptions, "maxRetries">
  /** events are awaited in order; if one fails the run stops with that error */
  onEvent: (event: RunEventData) => Promise<void> | void
  now?: () => number
  /** what the model is told up front besides the issue (comments, map, instruction files, tests) */
  taskContext?: TaskContext
  contextControl?: ContextOptions
}

export interface PlanningResult {
  plan: string
  usage: Usage
  steps: number
  /** the plan came as a text reply rather than through submit_plan */
  fromText?: boolean
  /** false when the model has no price: usage.costUsd is then 0 and means "unknown" */
  costKnown: boolean
}

const submitPlanInput = z.strictObject({
  plan: z
    .string()
    .describe(
      "The implementation plan in Markdown: Summary, Files to change, Steps, Tests, Risks and open questions.",
    ),
})

/** A reply that reads as a plan: some length, and Markdown structure (headings or list items). */
export const looksLikePlan = (text: string): boolean => {
  const structured = (text.match(/^\s*(#{1,6}\s|[-*+]\s|\d+[.)]\s)/gm) ?? []).length
  return text.trim().length >= 40 && structured >= 2
}

const PLAN_NUDGE =
  "You answered without calling submit_plan, and nobody will answer questions during this run. Call submit_plan now with the full implementation plan in Markdown (Summary, Files to change, Steps, Tests, Risks), or keep exploring with the tools first."

export const runPlanningAgent = async (options: PlanningAgentOptions): Promise<PlanningResult> => {
  const { model, checkout, signal } = options
  const maxSteps = options.maxSteps ?? DEFAULT_PLANNING_MAX_STEPS
  const now = options.now ?? Date.now
  if (signal.aborted) throw new CancelledError()

  let submitted: string | undefined
  let fromText = false
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
        submitted = plan
        return "Plan received. The run ends here."
      },
    }),
  }

  // A failing event store must not silently lose the run's history: keep the first error, stop the run.
  const stop = new AbortController()
  const events = createEventSink(options.onEvent, () => stop.abort())
  const emit = events.emit

  const taskContext = options.taskContext ?? {}
  const resolved = await resolveTaskContext(checkout, taskContext)
  let usage: Usage = ZERO_USAGE
  let result: Awaited<ReturnType<typeof runAgentLoop<typeof tools>>>
  try {
    result = await runAgentLoop({
      model,
      system: planningSystemPrompt({ maxSteps }),
      task: [
        {
          role: "user",
          content: planningUserMessage({
            repoFullName: options.repoFullName,
            issue: options.issue,
            ref: checkout.ref,
            headSha: checkout.headSha,
            sections: contextSections(taskContext, resolved, { implementing: false }),
          }),
        },
      ],
      tools,
      signal: AbortSignal.any([signal, stop.signal]),
      maxSteps,
      context: options.contextControl,
      retry: { ...options.retry, maxRetries: options.maxRetries },
      now,
      // The last step may only hand in the plan (Anthropic refuses a forced tool while thinking).
      toolChoice: (number) =>
        number === maxSteps && maxSteps > 1 && !model.thinking
          ? { type: "tool", toolName: "submit_plan" }
          : undefined,
      stepNote: (number) =>
        number === maxSteps && maxSteps > 1
          ? "This is your last step: call submit_plan now with the full implementation plan, written from what you have found so far (state your assumptions where you could not check something)."
          : undefined,
      done: () => submitted !== undefined || events.failed,
      onStep: async ({ step, latencyMs }) => {
        usage = addUsage(usage, stepUsage(step, model))
        await emit(stepEvents(step, { model, latencyMs, sizes }))
      },
      onTextReply: (step, replies) => {
        if (looksLikePlan(step.text)) {
          submitted = step.text.trim()
          fromText = true
          return undefined
        }
        return replies <= MAX_PLAN_NUDGES ? PLAN_NUDGE : undefined
      },
      onSideCall: async (callUsage, latencyMs) => {
        const counted = usageOf(callUsage, model)
        usage = addUsage(usage, counted)
        await emit([sideCallEvent(counted, model, latencyMs)])
      },
      onNotice: (message) => emit([{ type: "log", level: "info", message }]),
    })
  } catch (error) {
    if (events.failed) throw events.error
    throw toModelError(error, { signal, provider: model.provider, modelId: model.modelId })
  }
  if (events.failed) throw events.error
  if (signal.aborted) throw new CancelledError()

  const plan = submitted
  if (plan === undefined) {
    const last = result.lastStep
    const usedAllSteps = result.steps >= maxSteps && last?.finishReason === "tool-calls"
    throw new NonRetryableError(
      usedAllSteps
        ? `the model used all ${maxSteps} steps without calling submit_plan: raise maxSteps in .prwright.yml, or try a stronger model (LLM_MODEL)`
        : `the model stopped (finish reason "${last?.finishReason ?? "unknown"}") without calling submit_plan or answering with a plan, so there is no plan: try a stronger model that supports tool calling (LLM_MODEL), or raise maxSteps in .prwright.yml if it ran out of room`,
    )
  }
  await emit([{ type: "plan", plan }])
  if (events.failed) throw events.error
  return {
    plan,
    usage,
    steps: result.steps,
    costKnown: model.pricing !== undefined,
    ...(fromText ? { fromText: true } : {}),
  }
}
