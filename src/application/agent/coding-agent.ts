/**
 * The implementing agent: the model explores, edits and tests the checkout with bash, the editor and
 * search, reviews its own diff, and hands the change in with `submit`. Runs on the shared step loop
 * (step-loop.ts: context control, retries, cache breakpoints); this file adds what must not be left
 * to the model: the budget (checked after every step, and by a timer that aborts a hung model call
 * or command), the repeat guard's stop, up to three nudges when the model stops talking without
 * submitting, run events and error mapping. Running out of budget is a result, not an error: the
 * caller still has the work to push.
 */
import type { GitHubIssue } from "#application/ports/github.js"
import type { ModelHandle } from "#application/ports/model.js"
import type { Sandbox } from "#application/ports/sandbox.js"
import type { Checkout } from "#application/ports/workspace.js"
import { CancelledError, NonRetryableError } from "#domain/errors.js"
import { unpricedRefusal } from "#domain/model-table.js"
import type { RunEventData } from "#domain/run-event.js"
import type { Usage } from "#domain/workflow-run.js"
import { changedPaths } from "../changed-paths.js"
import { type Budget, createBudgetTracker } from "./budget.js"
import { codingSystemPrompt, codingUserMessage, feedbackMessage } from "./coding-prompt.js"
import { createCodingTools, createScrubber, type Submission } from "./coding-tools.js"
import type { ContextOptions } from "./context.js"
import { toModelError } from "./model-errors.js"
import { abortableSleep, type RetryOptions } from "./model-retry.js"
import { createEventSink, sideCallEvent, stepEvents, stepUsage, usageOf } from "./step-events.js"
import { runAgentLoop } from "./step-loop.js"
import { contextSections, resolveTaskContext, sandboxFactsSection, type TaskContext } from "./task-context.js"

export interface CodingAgentOptions {
  model: ModelHandle
  checkout: Checkout
  sandbox: Sandbox
  repoFullName: string
  issue: GitHubIssue
  /** an implementation plan to follow (Markdown) */
  plan?: string | undefined
  /** summary of the test results before any edit */
  baseline?: string | undefined
  /** a failed verification of an earlier attempt: shown as a new user turn the agent continues from */
  feedback?: string | undefined
  budget: Budget
  /**
   * steps of a repair round (a run with `feedback`) at most, below budget.maxSteps; default
   * DEFAULT_REPAIR_STEPS. A repair that needs more is better started over by a person.
   */
  repairSteps?: number
  signal: AbortSignal
  /** events are awaited in order; if one fails the run stops with that error */
  onEvent: (event: RunEventData) => Promise<void> | void
  now?: () => number
  /** retries of one model call on 429/5xx/529 inside the agent (backoff, retry-after); default 9 */
  maxRetries?: number | undefined
  /** finer control of those retries (delays; tests) */
  retry?: Omit<RetryOptions, "maxRetries">
  /** values masked as [redacted] in anything a tool hands the model (defence in depth: the sandbox has none) */
  secrets?: readonly string[] | undefined
  /** what the model is told up front besides the issue (comments, map, instruction files, tests, sandbox) */
  taskContext?: TaskContext
  /** observation masking and condensation; default: the last 5 observations verbatim, condense at 70% of the window */
  contextControl?: ContextOptions
  /** syntax-check each edited file in the sandbox; default true */
  syntaxCheck?: boolean | undefined
  /** per-run persistent HOME and /tmp for every command; extra environment (e.g. PATH with a venv) */
  home?: string | undefined
  tmp?: string | undefined
  env?: Record<string, string> | undefined
}

export type CodingStopReason = "budget" | "repeat" | "no-submit"

interface CodingTotals {
  /** every path the run changed: the editor's edits plus what git status shows (bash edits, new files) */
  editedPaths: string[]
  usage: Usage
  steps: number
  /** false when the model has no price: usage.costUsd is then 0 and means "unknown" */
  costKnown: boolean
}

export type CodingResult =
  | ({ outcome: "submitted"; title: string; summary: string } & CodingTotals)
  | ({ outcome: "stopped"; reason: CodingStopReason; detail: string } & CodingTotals)

/** how often a model that ends its turn without submitting is asked to go on */
export const MAX_SUBMIT_NUDGES = 3
/** steps of a repair round at most (see CodingAgentOptions.repairSteps) */
export const DEFAULT_REPAIR_STEPS = 25

const submitNudge = (nudge: number): string =>
  nudge < MAX_SUBMIT_NUDGES
    ? "You ended your turn without calling submit, and nobody will answer questions during this run. If the change is done, call submit now; otherwise continue working with the tools."
    : `You ended your turn without calling submit again (reminder ${nudge} of ${MAX_SUBMIT_NUDGES}). This run only ends well with a submit: if the change is done, call submit now with a title and summary; otherwise use the tools to finish it. Another reply without a tool call ends the run.`

/** the shortest timer tick: a stalled clock (tests) must not make the watchdog spin */
const MIN_WATCH_MS = 25

/** Refuses a cost cap the run cannot enforce: the model has no price and the operator did not allow that. */
export const checkCostCap = (model: ModelHandle, budget: Budget): void => {
  if (budget.maxCostUsd === undefined || model.pricing || model.allowUnpriced) return
  throw new NonRetryableError(unpricedRefusal(model.modelId, budget.maxCostUsd), { code: "config" })
}

export const runCodingAgent = async (options: CodingAgentOptions): Promise<CodingResult> => {
  const { model, checkout, signal } = options
  const now = options.now ?? Date.now
  if (signal.aborted) throw new CancelledError()
  checkCostCap(model, options.budget)

  const budget: Budget = options.feedback?.trim()
    ? {
        ...options.budget,
        maxSteps: Math.min(options.budget.maxSteps, options.repairSteps ?? DEFAULT_REPAIR_STEPS),
      }
    : options.budget
  const tracker = createBudgetTracker(budget, now)
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
    syntaxCheck: options.syntaxCheck,
    home: options.home,
    tmp: options.tmp,
    env: options.env,
  })

  // A failing event store must not silently lose the run's history: keep the first error, stop the run.
  const events = createEventSink(options.onEvent, () => halt.abort())
  const emit = events.emit

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

  const given = options.taskContext ?? {}
  // commands get the run's own /tmp when the caller passes one: say so unless told otherwise
  const taskContext: TaskContext =
    options.tmp && given.sandbox?.persistentTmp === undefined
      ? { ...given, sandbox: { ...given.sandbox, persistentTmp: true } }
      : given
  const resolved = await resolveTaskContext(checkout, taskContext)
  const task = [
    {
      role: "user" as const,
      content: codingUserMessage({
        repoFullName: options.repoFullName,
        issue: options.issue,
        ref: checkout.ref,
        headSha: checkout.headSha,
        plan: options.plan,
        baseline: options.baseline,
        sections: contextSections(taskContext, resolved, { implementing: true }),
      }),
    },
  ]
  if (options.feedback?.trim()) task.push({ role: "user", content: feedbackMessage(options.feedback) })
  if (!model.pricing)
    await emit([
      {
        type: "log",
        level: "warn",
        message: `the price of model ${model.modelId} is unknown: its cost is reported as unknown (counted as $0); set PRWRIGHT_MODEL_PRICES to price it`,
      },
    ])

  watch()
  try {
    await runAgentLoop({
      model,
      system: codingSystemPrompt({
        budget: tracker.describe(),
        sandbox: sandboxFactsSection(taskContext.sandbox),
      }),
      task,
      tools,
      signal: runSignal,
      maxSteps: budget.maxSteps,
      context: options.contextControl,
      retry: {
        ...options.retry,
        maxRetries: options.maxRetries,
        // waiting out an overload is not the model being idle: the idle limit must not end the run
        sleep: async (ms, sleepSignal) => {
          tracker.toolStarted()
          try {
            await (options.retry?.sleep ?? abortableSleep)(ms, sleepSignal)
          } finally {
            tracker.toolFinished()
          }
        },
      },
      now,
      done: () => {
        if (events.failed || submission() !== undefined || stopped !== undefined) return true
        const exhausted = tracker.exceeded()
        if (exhausted) stop("budget", exhausted.detail)
        return exhausted !== undefined
      },
      onStep: async ({ step, latencyMs }) => {
        tracker.recordStep(stepUsage(step, model))
        await emit(stepEvents(step, { model, latencyMs, sizes }))
      },
      onTextReply: (step, replies) => {
        if (events.failed || submission() !== undefined || stopped !== undefined) return undefined
        const exhausted = tracker.exceeded()
        if (exhausted) {
          stop("budget", exhausted.detail)
          return undefined
        }
        if (replies > MAX_SUBMIT_NUDGES) {
          stop(
            "no-submit",
            `the model ended its turn without calling submit (finish reason "${step.finishReason}"), also after ${MAX_SUBMIT_NUDGES} reminders: try a stronger model that supports tool calling (LLM_MODEL)`,
          )
          return undefined
        }
        return submitNudge(replies)
      },
      onSideCall: async (usage, latencyMs) => {
        const counted = usageOf(usage, model)
        tracker.recordUsage(counted)
        await emit([sideCallEvent(counted, model, latencyMs)])
      },
      onNotice: (message) => emit([{ type: "log", level: "info", message }]),
    })
  } catch (error) {
    if (events.failed) throw events.error
    if (signal.aborted) throw new CancelledError()
    // our own abort (a time limit) surfaces as an abort error: that is a stop, not a failure
    if (stopped === undefined)
      throw toModelError(error, { signal, provider: model.provider, modelId: model.modelId })
  } finally {
    clearTimeout(timer)
  }
  if (events.failed) throw events.error
  if (signal.aborted) throw new CancelledError()

  const changes = await checkout.status().catch(() => [])
  const totals: CodingTotals = {
    editedPaths: changedPaths(changes, editedPaths()),
    usage: tracker.usage,
    steps: tracker.steps,
    costKnown: model.pricing !== undefined,
  }
  const submitted: Submission | undefined = submission()
  if (submitted) return { outcome: "submitted", ...submitted, ...totals }
  if (stopped === undefined) {
    // the loop ended on its own: the step limit
    const exhausted = tracker.exceeded()
    stop(exhausted ? "budget" : "no-submit", exhausted?.detail ?? "the run ended without submit")
  }
  const { reason, detail } = stopped ?? {
    reason: "no-submit" as const,
    detail: "the run ended without submit",
  }
  await emit([{ type: "log", level: "warn", message: `the agent stopped (${reason}): ${detail}` }])
  if (events.failed) throw events.error
  return { outcome: "stopped", reason, detail, ...totals }
}
