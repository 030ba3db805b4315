/**
 * Turns one finished AI SDK step into run events, in the order things happened: the model call,
 * what the model said, the tool calls it made, and what each tool answered.
 */
import type { LanguageModelUsage, StepResult, ToolSet } from "ai"
import type { ModelHandle } from "#application/ports/model.js"
import { errorMessage } from "#domain/errors.js"
import type { RunEventData } from "#domain/run-event.js"
import { costOf } from "./pricing.js"
import { truncateMiddle } from "./truncate.js"

/** tool output kept in an event; the model itself saw up to MAX_TOOL_OUTPUT_CHARS */
export const EVENT_OUTPUT_CHARS = 4_000

export interface StepUsage {
  inputTokens: number
  outputTokens: number
  costUsd: number
}

/** Tokens and cost of one model call: cache reads and writes priced at their own rates. */
export const usageOf = (usage: LanguageModelUsage, model: ModelHandle): StepUsage => {
  const inputTokens = usage.inputTokens ?? 0
  const outputTokens = usage.outputTokens ?? 0
  const cacheReadTokens = usage.inputTokenDetails?.cacheReadTokens ?? usage.cachedInputTokens ?? 0
  const cacheWriteTokens = usage.inputTokenDetails?.cacheWriteTokens ?? 0
  return {
    inputTokens,
    outputTokens,
    costUsd: costOf(model.pricing, { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens }),
  }
}

export const stepUsage = <TOOLS extends ToolSet>(step: StepResult<TOOLS>, model: ModelHandle): StepUsage =>
  usageOf(step.usage, model)

const asText = (value: unknown): string => (typeof value === "string" ? value : (JSON.stringify(value) ?? ""))

export const stepEvents = <TOOLS extends ToolSet>(
  step: StepResult<TOOLS>,
  options: {
    model: ModelHandle
    latencyMs: number
    /** full output size per tool call id, before truncation for the model */
    sizes: ReadonlyMap<string, number>
  },
): RunEventData[] => {
  const usage = stepUsage(step, options.model)
  const events: RunEventData[] = [
    {
      type: "model-call",
      model: options.model.modelId,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      costUsd: usage.costUsd,
      ...(options.model.pricing ? {} : { costKnown: false }),
      latencyMs: Math.max(0, Math.round(options.latencyMs)),
      finishReason: step.finishReason,
    },
  ]
  if (step.text.trim().length > 0) events.push({ type: "assistant-text", text: step.text })
  for (const part of step.content) {
    if (part.type === "tool-call") {
      events.push({ type: "tool-call", toolCallId: part.toolCallId, tool: part.toolName, input: part.input })
    } else if (part.type === "tool-result" || part.type === "tool-error") {
      const isError = part.type === "tool-error"
      const full = isError ? errorMessage(part.error) : asText(part.output)
      const output = truncateMiddle(full, EVENT_OUTPUT_CHARS)
      const bytes = options.sizes.get(part.toolCallId) ?? Buffer.byteLength(full)
      events.push({
        type: "tool-result",
        toolCallId: part.toolCallId,
        tool: part.toolName,
        output,
        bytes,
        truncated: bytes > Buffer.byteLength(output),
        ...(isError ? { isError: true } : {}),
      })
    }
  }
  return events
}

/** The model-call event of a call made for context control (the condenser), not a step. */
export const sideCallEvent = (usage: StepUsage, model: ModelHandle, latencyMs: number): RunEventData => ({
  type: "model-call",
  model: model.modelId,
  inputTokens: usage.inputTokens,
  outputTokens: usage.outputTokens,
  costUsd: usage.costUsd,
  ...(model.pricing ? {} : { costKnown: false }),
  latencyMs: Math.max(0, Math.round(latencyMs)),
  finishReason: "condense",
})

export interface EventSink {
  /** emits in order; after a failure, emits nothing more */
  emit(events: RunEventData[]): Promise<void>
  /** the first error an event handler threw, if any: the run stops with it */
  readonly error: unknown
  readonly failed: boolean
}

/**
 * Emits run events in order. A failing event store must not silently lose the run's history: the
 * first error is kept (the run stops with it) and `onFail` aborts what is running.
 */
export const createEventSink = (
  onEvent: (event: RunEventData) => Promise<void> | void,
  onFail: () => void,
): EventSink => {
  let failure: { error: unknown } | undefined
  return {
    async emit(events) {
      if (failure) return
      try {
        for (const event of events) await onEvent(event)
      } catch (error) {
        failure = { error }
        onFail()
      }
    },
    get error() {
      return failure?.error
    },
    get failed() {
      return failure !== undefined
    },
  }
}
