import type { RunEventData } from "#domain/run-event.js"

const short = (value: unknown, max = 100): string => {
  const text = typeof value === "string" ? value : JSON.stringify(value)
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** One terminal line for a run event, or undefined for events not worth a line. */
export const formatEvent = (event: RunEventData): string | undefined => {
  switch (event.type) {
    case "status":
      return `● ${event.status}${event.attempt > 0 ? ` (attempt ${event.attempt})` : ""}${event.message ? `: ${event.message}` : ""}`
    case "progress":
      return `[${String(event.progress).padStart(3)}%] ${event.message ?? ""}`
    case "model-call":
      return `  model ${event.model}: ${event.inputTokens} in / ${event.outputTokens} out tokens${event.costUsd > 0 ? `, $${event.costUsd.toFixed(4)}` : ""}, ${event.latencyMs} ms`
    case "tool-call":
      return `  → ${event.tool} ${short(event.input)}`
    case "tool-result":
      return event.isError ? `  ✗ ${event.tool}: ${short(event.output)}` : undefined
    case "assistant-text":
      return `  ${short(event.text.replace(/\s+/g, " "), 160)}`
    case "error":
      return `  ! ${event.message}${event.retryable ? " (will retry)" : ""}`
    case "usage":
      return `  usage: ${event.usage.inputTokens} in / ${event.usage.outputTokens} out tokens, $${event.usage.costUsd.toFixed(4)}`
    case "log":
      return `  ${event.level}: ${event.message}`
    case "plan":
      return undefined
  }
}
