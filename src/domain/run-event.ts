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
      /** false: the model has no price, costUsd (0) means "unknown" */
      costKnown?: boolean
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
  | {
      type: "diff"
      /** unified diff, head+tail truncated when large */
      diff: string
      files: string[]
      truncated: boolean
      /** size of the full diff before truncation */
      bytes?: number
    }
  | {
      type: "test-result"
      /** baseline: before the change; verify: after it */
      phase: "baseline" | "verify"
      command: string
      /** null when the command was killed (timeout, abort) */
      exitCode: number | null
      passed?: number
      failed?: number
      durationMs: number
      /** head+tail of the output */
      output: string
      /** size of the full output */
      bytes: number
      truncated?: boolean
    }
  | {
      type: "budget"
      /** which bound, e.g. steps, tokens, costUsd, wallMs */
      resource?: string
      limit: number
      used: number
      message?: string
    }

export type RunEventType = RunEventData["type"]

export type RunEvent = RunEventData & {
  runId: string
  seq: number
  at: Date
}
