/**
 * The transcript as terminal text: `prwright logs` (full) and the live `--wait` / `--follow` views
 * (compact). Both print phases as they open, each tool call once its result is in, test counts
 * before/after, the diff, the plan and errors with their fix.
 */
import {
  createTranscript,
  formatCost,
  formatTokens,
  formatUsageCost,
  type Phase,
  type TestRun,
  type Transcript,
  type TranscriptItem,
  testCounts,
  type WireEvent,
} from "./transcript.js"

export type Detail = "full" | "compact"

const indent = (text: string, prefix: string, maxLines?: number): string[] => {
  const lines = text.replace(/\s+$/, "").split("\n")
  if (maxLines === undefined || lines.length <= maxLines) return lines.map((line) => `${prefix}${line}`)
  const head = lines.slice(0, maxLines - 1).map((line) => `${prefix}${line}`)
  return [
    ...head,
    `${prefix}… (${lines.length - head.length} more lines; \`prwright logs <jobId>\` shows all)`,
  ]
}

const oneLine = (value: unknown, max = 120): string => {
  const text = (typeof value === "string" ? value : (JSON.stringify(value) ?? "")).replace(/\s+/g, " ")
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** the argument a person wants to see first: the command, the path, the pattern */
export const toolSummary = (tool: string, input: unknown): string => {
  const args = (input && typeof input === "object" ? input : {}) as Record<string, unknown>
  if (typeof args.command === "string" && tool === "bash") return oneLine(args.command)
  if (tool === "str_replace_based_edit_tool")
    return oneLine(`${args.command ?? ""} ${args.path ?? ""}`.trim())
  if (tool === "search") return oneLine(`${args.pattern ?? ""}${args.path ? ` in ${args.path}` : ""}`)
  if (tool === "submit" || tool === "submit_plan") return oneLine(args.title ?? args.summary ?? "", 80)
  return oneLine(input)
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

const testLine = (run: TestRun, baseline?: TestRun): string =>
  `  tests ${run.phase === "baseline" ? "before" : "after"}: ${run.command} → ${testCounts(run)} (${seconds(run.durationMs)})${baseline ? `, before: ${testCounts(baseline)}` : ""}`

export const itemLines = (item: TranscriptItem, detail: Detail): string[] => {
  const compact = detail === "compact"
  switch (item.kind) {
    case "status":
      return [
        `● ${item.status}${item.attempt > 0 ? ` (attempt ${item.attempt})` : ""}${item.message ? `: ${item.message}` : ""}`,
      ]
    case "turn":
      return [
        `  model ${item.model}: ${formatTokens(item.inputTokens)} in / ${formatTokens(item.outputTokens)} out${item.costKnown ? (item.costUsd > 0 ? `, ${formatCost(item.costUsd)}` : "") : ", cost unknown (no price)"}, ${item.latencyMs} ms`,
      ]
    case "text":
      return indent(item.text, "  │ ", compact ? 3 : undefined)
    case "tool": {
      const lines = [`  → ${item.tool} ${toolSummary(item.tool, item.input)}`]
      if (!compact && item.tool !== "bash")
        lines.push(...indent(JSON.stringify(item.input, null, 2), "      "))
      if (item.result) {
        const mark = item.result.isError ? "✗" : "✓"
        const size = `${item.result.bytes} bytes${item.result.truncated ? ", truncated" : ""}`
        lines.push(`    ${mark} ${size}`)
        lines.push(
          ...indent(item.result.output, "    │ ", compact ? (item.result.isError ? 6 : 3) : undefined),
        )
      }
      return lines
    }
    case "diff":
      return [
        `  diff: ${item.files.join(", ")} (${item.files.length} file${item.files.length === 1 ? "" : "s"}${item.truncated ? ", truncated" : ""})`,
        ...(compact ? [] : indent(item.diff, "    ")),
      ]
    case "tests":
      return [testLine(item.run, item.baseline), ...(compact ? [] : indent(item.run.output, "    │ ", 40))]
    case "plan":
      return ["  plan:", ...indent(item.plan, "    ", compact ? 12 : undefined)]
    case "error":
      return [`  ! ${item.message}${item.retryable ? " (will retry)" : ""}`]
    case "log":
      return [`  ${item.level}: ${item.message}`]
    case "budget":
      return [
        `  budget${item.resource ? ` ${item.resource}` : ""}: ${item.used} of ${item.limit}${item.message ? ` — ${item.message}` : ""}`,
      ]
  }
}

export const progressLine = (transcript: Transcript, phase: Phase): string =>
  `[${String(Math.round(phase.progress)).padStart(3)}%] ${phase.title} · ${transcript.steps} step${transcript.steps === 1 ? "" : "s"} · ${formatTokens(transcript.usage.inputTokens + transcript.usage.outputTokens)} tokens · ${formatUsageCost(transcript.usage)}`

/**
 * Prints a transcript as events arrive. A tool call waits for its result (or for anything after it)
 * so call and result stay together; `flush()` prints what is left at the end.
 */
export const createTranscriptPrinter = (write: (line: string) => void, detail: Detail) => {
  const transcript = createTranscript()
  let phaseIndex = 0
  let itemIndex = 0
  let headerShown = false
  const advance = (final: boolean) => {
    for (;;) {
      const phase = transcript.phases[phaseIndex]
      if (!phase) return
      if (!headerShown && (phase.items.length > 0 || phaseIndex > 0)) {
        if (phaseIndex > 0) write(progressLine(transcript, phase))
        headerShown = true
      }
      const item = phase.items[itemIndex]
      if (item) {
        const isLast = phaseIndex === transcript.phases.length - 1 && itemIndex === phase.items.length - 1
        if (item.kind === "tool" && !item.result && isLast && !final) return
        for (const line of itemLines(item, detail)) write(line)
        itemIndex += 1
        continue
      }
      if (phaseIndex >= transcript.phases.length - 1) return
      phaseIndex += 1
      itemIndex = 0
      headerShown = false
    }
  }
  return {
    transcript,
    add(event: WireEvent) {
      if (transcript.add(event)) advance(false)
    },
    flush() {
      advance(true)
    },
  }
}
