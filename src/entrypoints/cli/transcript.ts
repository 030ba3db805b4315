/**
 * A run's transcript: its events folded into phases (checkout, planning, setup, baseline, agent
 * rounds, verify, publish) holding model turns, tool calls paired with their results, diffs, test
 * runs, the plan and errors. One model for both readers: the web UI's timeline and the CLI's `logs`
 * and `--wait` views. Pure TypeScript without Node imports, so the browser bundle can use it.
 *
 * Events are added one at a time in any mix of pages and live messages; an event whose seq was seen
 * already is ignored, so a reconnect that overlaps never shows a step twice.
 */

/** The JSON form of a run event (dates as ISO strings), as the API sends it. */
export interface WireEvent {
  runId: string
  seq: number
  type: string
  at: string
  [field: string]: unknown
}

export interface ToolResult {
  output: string
  bytes: number
  truncated: boolean
  isError: boolean
}

export interface TestRun {
  phase: "baseline" | "verify"
  command: string
  exitCode: number | null
  passed?: number
  failed?: number
  durationMs: number
  output: string
  bytes: number
  truncated: boolean
}

export type TranscriptItem =
  | { kind: "status"; seq: number; at: string; status: string; attempt: number; message?: string }
  | {
      kind: "turn"
      seq: number
      at: string
      model: string
      inputTokens: number
      outputTokens: number
      costUsd: number
      /** false: the model has no price, its cost is unknown */
      costKnown: boolean
      latencyMs: number
      finishReason?: string
    }
  | { kind: "text"; seq: number; at: string; text: string }
  | {
      kind: "tool"
      seq: number
      at: string
      toolCallId: string
      tool: string
      input: unknown
      result?: ToolResult
    }
  | {
      kind: "diff"
      seq: number
      at: string
      diff: string
      files: string[]
      truncated: boolean
      bytes?: number | undefined
    }
  | { kind: "tests"; seq: number; at: string; run: TestRun; baseline?: TestRun | undefined }
  | { kind: "plan"; seq: number; at: string; plan: string }
  | { kind: "error"; seq: number; at: string; message: string; retryable: boolean }
  | { kind: "log"; seq: number; at: string; level: string; message: string }
  | {
      kind: "budget"
      seq: number
      at: string
      resource?: string
      limit: number
      used: number
      message?: string
    }

export interface Phase {
  /** seq of the event that opened it (0 for the run's start) */
  seq: number
  title: string
  progress: number
  at?: string
  items: TranscriptItem[]
}

export interface Transcript {
  phases: Phase[]
  /** the highest seq added: resume from here */
  lastSeq: number
  /** changes on every accepted event */
  version: number
  steps: number
  /** unpricedModel: a model without a price took part, so the cost is unknown */
  usage: { inputTokens: number; outputTokens: number; costUsd: number; unpricedModel?: string }
  status?: string
  /** adds one event; false when its seq was already seen (a duplicate) */
  add(event: WireEvent): boolean
}

const str = (value: unknown, fallback = ""): string => (typeof value === "string" ? value : fallback)
const num = (value: unknown, fallback = 0): number => (typeof value === "number" ? value : fallback)
const optNum = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined)

/** A phase name from a progress message: "baseline tests: npm test" → "baseline tests". */
export const phaseTitle = (message: string): string => message.split(":")[0]?.trim() || message

export const createTranscript = (): Transcript => {
  const seen = new Set<number>()
  const tools = new Map<string, Extract<TranscriptItem, { kind: "tool" }>>()
  const baselines = new Map<string, TestRun>()
  const transcript: Transcript = {
    phases: [{ seq: 0, title: "queued", progress: 0, items: [] }],
    lastSeq: 0,
    version: 0,
    steps: 0,
    usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
    add(event) {
      if (seen.has(event.seq)) return false
      seen.add(event.seq)
      transcript.lastSeq = Math.max(transcript.lastSeq, event.seq)
      transcript.version += 1
      const phase = () => transcript.phases[transcript.phases.length - 1] as Phase
      const push = (item: TranscriptItem) => phase().items.push(item)
      const { seq, at } = event
      switch (event.type) {
        case "progress": {
          const title = phaseTitle(str(event.message, `${num(event.progress)}%`))
          const current = phase()
          if (current.title === title) current.progress = num(event.progress)
          else
            transcript.phases.push({
              seq,
              at,
              title,
              progress: num(event.progress),
              items: [],
            })
          break
        }
        case "status": {
          transcript.status = str(event.status)
          const message = typeof event.message === "string" ? event.message : undefined
          push({
            kind: "status",
            seq,
            at,
            status: str(event.status),
            attempt: num(event.attempt),
            ...(message ? { message } : {}),
          })
          break
        }
        case "model-call": {
          const finishReason = typeof event.finishReason === "string" ? event.finishReason : undefined
          const costKnown = event.costKnown !== false
          const unpricedModel = transcript.usage.unpricedModel ?? (costKnown ? undefined : str(event.model))
          transcript.usage = {
            inputTokens: transcript.usage.inputTokens + num(event.inputTokens),
            outputTokens: transcript.usage.outputTokens + num(event.outputTokens),
            costUsd: transcript.usage.costUsd + num(event.costUsd),
            ...(unpricedModel === undefined ? {} : { unpricedModel }),
          }
          push({
            kind: "turn",
            seq,
            at,
            model: str(event.model),
            inputTokens: num(event.inputTokens),
            outputTokens: num(event.outputTokens),
            costUsd: num(event.costUsd),
            costKnown,
            latencyMs: num(event.latencyMs),
            ...(finishReason ? { finishReason } : {}),
          })
          break
        }
        case "assistant-text":
          push({ kind: "text", seq, at, text: str(event.text) })
          break
        case "tool-call": {
          const item = {
            kind: "tool" as const,
            seq,
            at,
            toolCallId: str(event.toolCallId),
            tool: str(event.tool),
            input: event.input,
          }
          tools.set(item.toolCallId, item)
          transcript.steps += 1
          push(item)
          break
        }
        case "tool-result": {
          const result: ToolResult = {
            output: str(event.output),
            bytes: num(event.bytes),
            truncated: event.truncated === true,
            isError: event.isError === true,
          }
          const call = tools.get(str(event.toolCallId))
          if (call) call.result = result
          else
            push({
              kind: "tool",
              seq,
              at,
              toolCallId: str(event.toolCallId),
              tool: str(event.tool),
              input: {},
              result,
            })
          break
        }
        case "diff": {
          const bytes = optNum(event.bytes)
          push({
            kind: "diff",
            seq,
            at,
            diff: str(event.diff),
            files: Array.isArray(event.files) ? event.files.map(String) : [],
            truncated: event.truncated === true,
            bytes,
          })
          break
        }
        case "test-result": {
          const run: TestRun = {
            phase: event.phase === "verify" ? "verify" : "baseline",
            command: str(event.command),
            exitCode: typeof event.exitCode === "number" ? event.exitCode : null,
            durationMs: num(event.durationMs),
            output: str(event.output),
            bytes: num(event.bytes),
            truncated: event.truncated === true,
          }
          const passed = optNum(event.passed)
          const failed = optNum(event.failed)
          if (passed !== undefined) run.passed = passed
          if (failed !== undefined) run.failed = failed
          const baseline = run.phase === "verify" ? baselines.get(run.command) : undefined
          if (run.phase === "baseline") baselines.set(run.command, run)
          push({ kind: "tests", seq, at, run, baseline })
          break
        }
        case "plan":
          push({ kind: "plan", seq, at, plan: str(event.plan) })
          break
        case "error":
          push({ kind: "error", seq, at, message: str(event.message), retryable: event.retryable === true })
          break
        case "log":
          push({ kind: "log", seq, at, level: str(event.level, "info"), message: str(event.message) })
          break
        case "budget": {
          const resource = typeof event.resource === "string" ? event.resource : undefined
          const message = typeof event.message === "string" ? event.message : undefined
          push({
            kind: "budget",
            seq,
            at,
            limit: num(event.limit),
            used: num(event.used),
            ...(resource ? { resource } : {}),
            ...(message ? { message } : {}),
          })
          break
        }
        default:
          // usage totals and event types from newer servers: nothing to show on their own
          break
      }
      return true
    },
  }
  return transcript
}

/** "1 failed, 2 passed" or the exit code when the runner's counts are unknown. */
export const testCounts = (run: TestRun): string =>
  run.passed !== undefined || run.failed !== undefined
    ? `${run.failed ?? 0} failed, ${run.passed ?? 0} passed`
    : run.exitCode === null
      ? "killed"
      : `exit ${run.exitCode}`

export const formatTokens = (n: number): string =>
  n >= 1_000_000 ? `${(n / 1_000_000).toFixed(1)}M` : n >= 1_000 ? `${(n / 1_000).toFixed(1)}k` : String(n)

export const formatCost = (usd: number): string => `$${usd.toFixed(usd >= 1 ? 2 : 4)}`

/** A run's cost for people: "$0.0123", or "cost unknown" when a model without a price took part. */
export const formatUsageCost = (usage: { costUsd: number; unpricedModel?: string | undefined }): string =>
  usage.unpricedModel === undefined ? formatCost(usage.costUsd) : "cost unknown"

/** Why the cost is unknown and the fix, for a status line or a tooltip; undefined when it is known. */
export const unknownCostHint = (usage: { unpricedModel?: string | undefined }): string | undefined =>
  usage.unpricedModel === undefined
    ? undefined
    : `model ${usage.unpricedModel} has no price; set PRWRIGHT_MODEL_PRICES`
