import type { RunStatus, Usage } from "./workflow-run.js"

/**
 * The append-only log of a run: everything needed to explain it afterwards.
 * `seq` orders events within a run (1, 2, 3 …) and is the SSE event id.
 */
export type RunEventData =
  | { type: "status"; status: RunStatus; attempt: number; message?: string }
  | { type: "progress"; progress: number; message?: string }
  | {
      type: "model-call"
      model: string
      inputTokens: number
      outputTokens: number
      costUsd: number
      latencyMs: number
      finishReason?: string
    }
  | { type: "assistant-text"; text: string }
  | { type: "tool-call"; toolCallId: string; tool: string; input: unknown }
  | {
      type: "tool-result"
      toolCallId: string
      tool: string
      output: string
      /** size of the full output before truncation */
      bytes: number
      truncated: boolean
      isError?: boolean
    }
  | { type: "plan"; plan: string }
  | { type: "log"; level: "info" | "warn" | "error"; message: string }
  | { type: "error"; message: string; retryable: boolean }
  | { type: "usage"; usage: Usage }

export type RunEventType = RunEventData["type"]

export type RunEvent = RunEventData & {
  runId: string
  seq: number
  at: Date
}
