/**
 * The conversation of an earlier run, condensed for a run that continues it (`/prwright continue`):
 * the run's stored events (what the model said, the tools it called and what they answered, the test
 * results) become a transcript, and one model call with the condenser's instructions (context.ts)
 * writes the summary. When that call fails, a plain list of the calls made stands in, as in context.ts.
 */
import { generateText } from "ai"
import type { ModelHandle } from "#application/ports/model.js"
import type { RunEvent } from "#domain/run-event.js"
import { CONDENSER_SYSTEM } from "./context.js"
import { withModelRetries } from "./model-retry.js"
import { sideCallEvent, usageOf } from "./step-events.js"
import { truncateMiddle } from "./truncate.js"

const text = (value: unknown): string => (typeof value === "string" ? value : (JSON.stringify(value) ?? ""))

/** One line per thing that happened, cut to a readable size; the whole cut to `maxChars`. */
export const transcriptOfEvents = (events: readonly RunEvent[], maxChars = 120_000): string => {
  const lines: string[] = []
  for (const event of events) {
    if (event.type === "assistant-text") lines.push(`ASSISTANT: ${truncateMiddle(event.text, 2_000)}`)
    else if (event.type === "tool-call")
      lines.push(`ASSISTANT CALLS ${event.tool}: ${truncateMiddle(text(event.input), 1_000)}`)
    else if (event.type === "tool-result")
      lines.push(`RESULT OF ${event.tool}: ${truncateMiddle(event.output, 1_500)}`)
    else if (event.type === "test-result")
      lines.push(
        `TESTS (${event.phase}) \`${event.command}\` exit ${event.exitCode ?? "killed"}: ${truncateMiddle(event.output, 800)}`,
      )
    else if (event.type === "budget")
      lines.push(`BUDGET: ${event.resource ?? "limit"} ${event.used}/${event.limit} ${event.message ?? ""}`)
    else if (event.type === "diff")
      lines.push(`DIFF of ${event.files.join(", ")}: ${truncateMiddle(event.diff, 1_500)}`)
    else if (event.type === "log" && event.level !== "info")
      lines.push(`NOTE: ${truncateMiddle(event.message, 600)}`)
  }
  return truncateMiddle(lines.join("\n"), maxChars)
}

/** What the stopped run's tool calls were, when no summary could be written. */
const callList = (events: readonly RunEvent[]): string =>
  events
    .flatMap((event) =>
      event.type === "tool-call" ? [`- ${event.tool} ${truncateMiddle(text(event.input), 200)}`] : [],
    )
    .slice(-60)
    .join("\n")

/**
 * The summary of an earlier run's conversation. The model call's usage is recorded through `emit`
 * (a `model-call` event, so it counts to this run's cost).
 */
export const summariseRun = async (options: {
  model: ModelHandle
  events: readonly RunEvent[]
  signal: AbortSignal
  emit: (event: ReturnType<typeof sideCallEvent>) => Promise<void>
  now?: () => number
}): Promise<string> => {
  const now = options.now ?? Date.now
  const transcript = transcriptOfEvents(options.events)
  if (!transcript.trim()) return "The earlier run made no model calls worth summarising."
  const startedAt = now()
  try {
    const result = await withModelRetries(
      () =>
        generateText({
          model: options.model.model,
          system: CONDENSER_SYSTEM,
          prompt: `The agent's history so far, as data:\n\n${transcript}\n\nWrite the summary now.`,
          abortSignal: options.signal,
          maxRetries: 0,
        }),
      options.signal,
      { maxRetries: 3 },
    )
    await options.emit(sideCallEvent(usageOf(result.usage, options.model), options.model, now() - startedAt))
    const summary = result.text.trim()
    if (summary) return summary
  } catch (error) {
    if (options.signal.aborted) throw error
  }
  return `The model could not write a summary; the calls the earlier run made were:\n${callList(options.events)}`
}
