export { formatCost, formatTokens, unknownCostHint } from "../../src/entrypoints/cli/transcript.ts"

export const WORKFLOW_NAMES: Record<string, string> = {
  "auto-resolve-issue": "auto-resolve",
  "comment-on-issue": "plan",
  "resolve-issue": "resolve",
  "answer-question": "answer",
}

export const formatDuration = (ms: number | undefined): string => {
  if (ms === undefined) return "—"
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${s % 60} s`
  return `${Math.floor(m / 60)} h ${m % 60} min`
}

export const formatTime = (iso: string | undefined): string => {
  if (!iso) return "—"
  const date = new Date(iso)
  const today = new Date().toDateString() === date.toDateString()
  return today
    ? date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : date.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })
}

export const isTerminal = (status: string) =>
  status === "completed" || status === "failed" || status === "cancelled"
