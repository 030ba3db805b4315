/**
 * The implementing agent: the model explores, edits and tests the checkout with bash, the editor and
 * search, reviews its own diff, and hands the change in with `submit`. Built on the AI SDK's
 * `generateText` tool loop; this file adds what must not be left to the model: the budget (checked
 * after every step, and by a timer that aborts a hung model call or command), the repeat guard's
 * stop, one nudge when the model stops talking without submitting, run events and error mapping.
 * Running out of budget is a result, not an error: the caller still has the work to push.
 */
import { generateText, type ModelMessage, type StopCondition } from "ai"
import type { GitHubIssue } from "#application/ports/github.js"
import type { ModelHandle } from "#application/ports/model.js"
import type { Sandbox } from "#application/ports/sandbox.js"
import type { Checkout } from "#application/ports/workspace.js"
import { CancelledError } from "#domain/errors.js"
import type { RunEventData } from "#domain/run-event.js"
import type { Usage } from "#domain/workflow-run.js"
import { changedPaths } from "../changed-paths.js"
import { type Budget, createBudgetTracker } from "./budget.js"
import { codingSystemPrompt, codingUserMessage, feedbackMessage } from "./coding-prompt.js"
import { createCodingTools, createScrubber, type Submission } from "./coding-tools.js"
import { toModelError } from "./model-errors.js"
import { cachedPrompt } from "./prompt-cache.js"
import { stepEvents, stepUsage } from "./step-events.js"

export interface CodingAgentOptions {
  model: ModelHandle
  checkout: Checkout
  sandbox: Sandbox
  repoFullName: string
  issue: GitHubIssue
  /** an implementation plan to follow (Markdown) */
  plan?: string
  /** summary of the test results before any edit */
  baseline?: string
  /** a failed verification of an earlier attempt: shown as a new user turn the agent continues from */
  feedback?: string
  budget: Budget
  signal: AbortSignal
  /** events are awaited in order; if one fails the run stops with that error */
  onEvent: (event: RunEventData) => Promise<void> | void
  now?: () => number
  /** the AI SDK's own retries of one model call on 429/5xx; default 2 */
  maxRetries?: number
  /** values masked as [redacted] in anything a tool hands the model (defence in depth: the sandbox has none) */
  secrets?: readonly string[]
}

export type CodingStopReason = "budget" | "repeat" | "no-submit"

interface CodingTotals {
  /** every path the run changed: the editor's edits plus what git status shows (bash edits, new files) */
  editedPaths: string[]
  usage: Usage
  steps: number
}

export type CodingResult =
  | ({ outcome: "submitted"; title: string; summary: string } & CodingTotals)
  | ({ outcome: "stopped"; reason: CodingStopReason; detail: string } & CodingTotals)

/** how often a model that ends its turn without submitting is asked to go on */
export const MAX_SUBMIT_NUDGES = 1

const SUBMIT_NUDGE =
  "You ended your turn without calling submit, and nobody will answer questions during this run. If the change is done, call submit now; otherwise continue working with the tools."

/** the shortest timer tick: a stalled clock (tests) must not make the watchdog spin */
const MIN_WATCH_MS = 25

export const runCodingAgent = async (options: CodingAgentOptions): Promise<CodingResult> => {
  const { model, checkout, signal } = options
  const now = options.now ?? Date.now
  if (signal.aborted) throw new CancelledError()

  const tracker = createBudgetTracker(options.budget, now)
  const halt = new AbortController()
  const runSignal = AbortSignal.any([signal, halt.signal])
  let stopped: { reason: CodingStopReason; detail: string } | undefined
  const stop = (reason: CodingStopReason, detail: string) => {
    stopped ??= { reason, detail }
  }

  const sizes = new Map<string, number>()
  const { tools, submission, editedPaths } = createCodingTools({
    checkout,
    sandbox: options.sandbox,
    signal: runSignal,
    tracker,
    sizes,
    scrub: createScrubber(options.secrets),
    onStop: (toolStop) => stop(toolStop.reason, toolStop.detail),
  })

  // The AI SDK swallows errors thrown by step callbacks; keep the first and stop the run with it.
  let eventError: unknown
  const emit = async (events: RunEventData[]): Promise<void> => {
    if (eventError !== undefined) return
    try {
      for (const event of events) await options.onEvent(event)
    } catch (error) {
      eventError = error
      halt.abort()
    }
  }

  // Time limits are watched from outside the loop, so a hung model call or command is cut off too.
  let timer: ReturnType<typeof setTimeout> | undefined
  const watch = () => {
    const ms = tracker.msUntilTimeLimit()
    if (ms === undefined || halt.signal.aborted) return
    timer = setTimeout(
      () => {
        const exhausted = tracker.exceeded()
        if (exhausted && (exhausted.limit === "wallClock" || exhausted.limit === "idle")) {
          stop("budget", exhausted.detail)
          halt.abort()
        } else watch()
      },
      Math.max(MIN_WATCH_MS, ms),
    )
    timer.unref?.()
  }

  const finished: StopCondition<typeof tools> = () => {
    if (submission() !== undefined || stopped !== undefined) return true
    const exhausted = tracker.exceeded()
    if (exhausted) stop("budget", exhausted.detail)
    return exhausted !== undefined
  }

  const prompt = cachedPrompt(
    model,
    codingSystemPrompt({ budget: tracker.describe() }),
    codingUserMessage({
      repoFullName: options.repoFullName,
      issue: options.issue,
      ref: checkout.ref,
      headSha: checkout.headSha,
      plan: options.plan,
      baseline: options.baseline,
    }),
  )
  let messages: ModelMessage[] = prompt.messages
  if (options.feedback?.trim()) messages.push({ role: "user", content: feedbackMessage(options.feedback) })

  let stepStartedAt = now()
  let modelAnsweredAt: number | undefined
  watch()
  try {
    for (let nudges = 0; ; nudges += 1) {
      const result = await generateText({
        model: model.model,
        system: prompt.system,
        messages,
        // the issue text and tool outputs are untrusted: a system message may only come from us
        allowSystemInMessages: false,
        tools,
        stopWhen: finished,
        abortSignal: runSignal,
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
          tracker.recordStep(stepUsage(step, model))
          await emit(stepEvents(step, { model, latencyMs, sizes }))
        },
      })
      if (eventError !== undefined || submission() !== undefined || stopped !== undefined) break
      // The model answered without a tool call: its turn ended, but the run has not.
      const exhausted = tracker.exceeded()
      if (exhausted) {
        stop("budget", exhausted.detail)
        break
      }
      const last = result.steps.at(-1)
      if (nudges >= MAX_SUBMIT_NUDGES) {
        stop(
          "no-submit",
          `the model ended its turn without calling submit (finish reason "${last?.finishReason ?? "unknown"}"), also after being asked to submit: try a stronger model that supports tool calling (LLM_MODEL)`,
        )
        break
      }
      messages = [...messages, ...result.response.messages, { role: "user", content: SUBMIT_NUDGE }]
    }
  } catch (error) {
    if (eventError !== undefined) throw eventError
    if (signal.aborted) throw new CancelledError()
    // our own abort (a time limit) surfaces as an abort error: that is a stop, not a failure
    if (stopped === undefined)
      throw toModelError(error, { signal, provider: model.provider, modelId: model.modelId })
  } finally {
    clearTimeout(timer)
  }
  if (eventError !== undefined) throw eventError
  if (signal.aborted) throw new CancelledError()

  const changes = await checkout.status().catch(() => [])
  const totals: CodingTotals = {
    editedPaths: changedPaths(changes, editedPaths()),
    usage: tracker.usage,
    steps: tracker.steps,
  }
  const submitted: Submission | undefined = submission()
  if (submitted) return { outcome: "submitted", ...submitted, ...totals }
  const { reason, detail } = stopped ?? {
    reason: "no-submit" as const,
    detail: "the run ended without submit",
  }
  await emit([{ type: "log", level: "warn", message: `the agent stopped (${reason}): ${detail}` }])
  if (eventError !== undefined) throw eventError
  return { outcome: "stopped", reason, detail, ...totals }
}
