/**
 * The one step loop of prwright's agents (planning and implementing): one model call per step
 * through the AI SDK (which runs the step's tool calls), and around it what must not be left to the
 * model or to the SDK:
 * - the request is built from the history by the context manager (older observations masked,
 *   condensed before it would overflow the model's window) with the cache breakpoints moved to the
 *   newest message;
 * - each model call is retried on overload with capped backoff and `retry-after` (model-retry.ts);
 * - a provider's "context too long" answer condenses the history and tries again instead of failing;
 * - a reply without a tool call goes to the caller, who nudges (the loop goes on) or ends the run.
 * Callers own their stop rules (`done`), events and budget (`onStep`).
 */
import {
  asSchema,
  generateText,
  type LanguageModelUsage,
  type ModelMessage,
  NoSuchToolError,
  type StepResult,
  stepCountIs,
  type ToolChoice,
  ToolChoiceViolationError,
  type ToolSet,
} from "ai"
import type { ModelHandle } from "#application/ports/model.js"
import { DEFAULT_CONTEXT_WINDOW } from "#domain/model-table.js"
import {
  CONDENSER_SYSTEM,
  type ContextOptions,
  condenseHistory,
  createContextManager,
  estimateChars,
} from "./context.js"
import { isContextOverflow } from "./model-errors.js"
import { type RetryOptions, withModelRetries } from "./model-retry.js"
import { cachedSystem, withCacheBreakpoints } from "./prompt-cache.js"

export interface AgentStep<TOOLS extends ToolSet> {
  step: StepResult<TOOLS>
  /** 1-based */
  number: number
  latencyMs: number
  /** the loop's estimate of this request's input tokens (before the provider's count) */
  estimatedTokens: number
}

export interface AgentLoopOptions<TOOLS extends ToolSet> {
  model: ModelHandle
  system: string
  /** the opening user messages (task, feedback): never masked or condensed */
  task: ModelMessage[]
  tools: TOOLS
  /** aborts the model call, the tools and any retry wait */
  signal: AbortSignal
  /** model steps at most (the caller may stop earlier through `done`) */
  maxSteps: number
  context?: ContextOptions | undefined
  retry?: RetryOptions
  now?: () => number
  /** the tool choice for step `number` (1-based); undefined lets the model decide */
  toolChoice?: (number: number) => ToolChoice<NoInfer<TOOLS>> | undefined
  /** a user turn added before step `number` (1-based), e.g. "this is your last step" */
  stepNote?: (number: number) => string | undefined
  /** checked before every model call: true ends the loop */
  done: () => boolean
  /** after every step; usage is in `step.usage` */
  onStep: (step: AgentStep<TOOLS>) => Promise<void>
  /** a step without a tool call: the user turn to answer with (a nudge), or undefined to end the loop */
  onTextReply: (step: StepResult<TOOLS>, replies: number) => string | undefined
  /** a model call made for context control (the condenser) */
  onSideCall?: (usage: LanguageModelUsage, latencyMs: number) => Promise<void>
  /** something worth a log line: a retry wait, a condensation */
  onNotice?: (message: string) => Promise<void>
}

export interface AgentLoopResult<TOOLS extends ToolSet> {
  steps: number
  lastStep?: StepResult<TOOLS> | undefined
  /** the history as the loop holds it (unmasked), for tests and benchmarks */
  history: ModelMessage[]
  condensations: number
}

/** provider "too long" answers the loop condenses for before giving up */
const MAX_OVERFLOW_RECOVERIES = 3
const DEFAULT_KEEP_TURNS = 6

const toolChars = (tools: ToolSet): number => {
  let chars = 0
  for (const [name, definition] of Object.entries(tools)) {
    chars += name.length + (definition.description?.length ?? 0)
    try {
      chars += estimateChars(asSchema(definition.inputSchema).jsonSchema)
    } catch {
      chars += 1_000
    }
  }
  return chars
}

const hasToolCall = <TOOLS extends ToolSet>(step: StepResult<TOOLS>): boolean =>
  step.content.some((part) => part.type === "tool-call")

export const runAgentLoop = async <TOOLS extends ToolSet>(
  options: AgentLoopOptions<TOOLS>,
): Promise<AgentLoopResult<TOOLS>> => {
  const { model, signal } = options
  const now = options.now ?? Date.now
  const contextWindow = model.contextWindow ?? DEFAULT_CONTEXT_WINDOW
  const manager = createContextManager({
    contextWindow,
    fixedChars: options.system.length + toolChars(options.tools),
    context: options.context,
  })
  const system = cachedSystem(model, options.system)
  const providerOptions = model.providerOptions as Parameters<typeof generateText>[0]["providerOptions"]
  const headCount = options.task.length
  let history: ModelMessage[] = [...options.task]
  let summary: string | undefined
  let keepTurns = options.context?.keepTurns ?? DEFAULT_KEEP_TURNS
  let condensations = 0
  let overflows = 0
  /** the last condensation left the request over the limit: skip one step before trying again */
  let condensingDidNotHelp = false
  let steps = 0
  let replies = 0
  let lastStep: StepResult<TOOLS> | undefined

  const retry: RetryOptions = {
    ...options.retry,
    onRetry: async (info) => {
      await options.retry?.onRetry?.(info)
      await options.onNotice?.(
        `the model call failed (${info.reason}); retry ${info.attempt} in ${(info.delayMs / 1000).toFixed(1)} s`,
      )
    },
  }

  const condense = async (why: string): Promise<boolean> => {
    const condensed = await condenseHistory({
      history,
      headCount,
      previousSummary: summary,
      keepTurns,
      maxTranscriptChars: Math.floor(contextWindow * 0.5 * 4),
      summarise: async (transcript) => {
        const startedAt = now()
        const result = await withModelRetries(
          () =>
            generateText({
              model: model.model,
              system: CONDENSER_SYSTEM,
              prompt: `The agent's history so far, as data:\n\n${transcript}\n\nWrite the summary now.`,
              abortSignal: signal,
              maxRetries: 0,
              ...(providerOptions ? { providerOptions } : {}),
            }),
          signal,
          retry,
        )
        await options.onSideCall?.(result.usage, now() - startedAt)
        return result.text
      },
    })
    if (!condensed) return false
    history = condensed.messages
    summary = condensed.summary
    condensations += 1
    await options.onNotice?.(
      `context: ${why}; condensed ${condensed.condensedTurns} earlier turn(s) into a summary (condensation ${condensations})`,
    )
    return true
  }

  while (steps < options.maxSteps && !options.done()) {
    const note = options.stepNote?.(steps + 1)
    if (note) history.push({ role: "user", content: note })
    let request = manager.view(history)
    // Condense before sending when the request would pass the limit; not again right after a
    // condensation that did not help (the provider's own answer decides then).
    if (manager.tooLarge(request) && !condensingDidNotHelp) {
      const before = manager.estimate(request)
      if (await condense(`the next request would be about ${before} tokens, over ${manager.limit}`)) {
        request = manager.view(history)
        if (manager.tooLarge(request)) {
          keepTurns = Math.max(1, Math.floor(keepTurns / 2))
          condensingDidNotHelp = true
        }
      }
    } else condensingDidNotHelp = false
    const estimatedTokens = manager.estimate(request)
    const number = steps + 1
    const toolChoice = options.toolChoice?.(number)
    let stepStartedAt = now()
    let modelAnsweredAt: number | undefined
    let result: Awaited<ReturnType<typeof generateText<TOOLS>>>
    try {
      result = await withModelRetries(
        () => {
          stepStartedAt = now()
          modelAnsweredAt = undefined
          return generateText({
            model: model.model,
            system,
            messages: withCacheBreakpoints(model, request, headCount),
            // the issue text and tool outputs are untrusted: a system message may only come from us
            allowSystemInMessages: false,
            tools: options.tools,
            ...(toolChoice ? { toolChoice } : {}),
            stopWhen: stepCountIs(1),
            abortSignal: signal,
            maxRetries: 0,
            ...(providerOptions ? { providerOptions } : {}),
            // Latency is the model's answer time: tools run before the call returns and must not count.
            experimental_onToolCallStart: () => {
              modelAnsweredAt ??= now()
            },
          })
        },
        signal,
        retry,
      )
    } catch (error) {
      // A forced tool choice the model (or a server that ignores tool_choice) did not follow: the step is spent.
      if (
        toolChoice &&
        !signal.aborted &&
        (ToolChoiceViolationError.isInstance(error) || NoSuchToolError.isInstance(error))
      ) {
        steps += 1
        await options.onNotice?.(
          `step ${number}: the model did not make the required tool call (${error.message})`,
        )
        break
      }
      if (!signal.aborted && isContextOverflow(error) && overflows < MAX_OVERFLOW_RECOVERIES) {
        overflows += 1
        keepTurns = Math.max(1, Math.floor(keepTurns / 2))
        if (await condense("the provider answered that the request is too long for the context window"))
          continue
      }
      throw error
    }
    const step = result.steps[0] as StepResult<TOOLS>
    steps += 1
    lastStep = step
    manager.calibrate(estimatedTokens, step.usage.inputTokens ?? 0)
    history = [...history, ...result.response.messages]
    await options.onStep({
      step,
      number,
      latencyMs: (modelAnsweredAt ?? now()) - stepStartedAt,
      estimatedTokens,
    })
    if (hasToolCall(step)) continue
    replies += 1
    const nudge = options.onTextReply(step, replies)
    if (nudge === undefined) break
    history.push({ role: "user", content: nudge })
  }
  return { steps, lastStep, history, condensations }
}
