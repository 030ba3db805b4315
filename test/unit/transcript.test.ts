/** The transcript model shared by the web UI's timeline and the CLI's logs / --wait views. */
import { describe, expect, it } from "vitest"
import { createTranscript, type WireEvent } from "#entrypoints/cli/transcript.js"
import { createTranscriptPrinter } from "#entrypoints/cli/transcript-text.js"

let seq = 0
const at = "2026-12-06T08:00:00.000Z"
const ev = (data: Record<string, unknown>): WireEvent => ({
  runId: "r",
  seq: ++seq,
  at,
  type: "log",
  ...data,
})

const run = (): WireEvent[] => {
  seq = 0
  return [
    ev({ type: "status", status: "pending", attempt: 0, message: "queued" }),
    ev({ type: "status", status: "running", attempt: 1 }),
    ev({ type: "progress", progress: 10, message: "checking out the repository" }),
    ev({ type: "progress", progress: 35, message: "baseline tests: npm test" }),
    ev({
      type: "test-result",
      phase: "baseline",
      command: "npm test",
      exitCode: 1,
      passed: 2,
      failed: 1,
      durationMs: 800,
      output: "# fail 1",
      bytes: 8,
    }),
    ev({ type: "progress", progress: 40, message: "implementing" }),
    ev({
      type: "model-call",
      model: "m",
      inputTokens: 1200,
      outputTokens: 30,
      costUsd: 0.01,
      latencyMs: 900,
    }),
    ev({ type: "assistant-text", text: "Let me run the tests." }),
    ev({ type: "tool-call", toolCallId: "c1", tool: "bash", input: { command: "npm test" } }),
    ev({
      type: "tool-result",
      toolCallId: "c1",
      tool: "bash",
      output: "line 1\nline 2\nline 3\nline 4\nline 5",
      bytes: 34,
      truncated: false,
    }),
    ev({ type: "progress", progress: 80, message: "verifying: npm test" }),
    ev({
      type: "test-result",
      phase: "verify",
      command: "npm test",
      exitCode: 0,
      passed: 3,
      failed: 0,
      durationMs: 700,
      output: "# pass 3",
      bytes: 8,
    }),
    ev({ type: "diff", diff: "--- a/x\n+++ b/x\n-old\n+new", files: ["x"], truncated: false }),
    ev({ type: "error", message: "push refused: check the token's contents:write", retryable: false }),
  ]
}

describe("transcript", () => {
  it("folds events into phases, pairs tool calls with results, and pairs tests with their baseline", () => {
    const t = createTranscript()
    for (const e of run()) t.add(e)
    expect(t.phases.map((p) => p.title)).toEqual([
      "queued",
      "checking out the repository",
      "baseline tests",
      "implementing",
      "verifying",
    ])
    const tool = t.phases[3]?.items.find((i) => i.kind === "tool")
    expect(tool).toMatchObject({ tool: "bash", result: { bytes: 34, isError: false } })
    const verify = t.phases[4]?.items.find((i) => i.kind === "tests")
    expect(verify).toMatchObject({ run: { phase: "verify", passed: 3 }, baseline: { failed: 1 } })
    expect(t.steps).toBe(1)
    expect(t.usage).toEqual({ inputTokens: 1200, outputTokens: 30, costUsd: 0.01 })
    expect(t.lastSeq).toBe(14)
  })

  it("ignores an event whose seq it has seen: overlapping pages and a resumed stream show each step once", () => {
    const t = createTranscript()
    const events = run()
    for (const e of events.slice(0, 10)) t.add(e)
    // a reconnect replays from an older id, then continues
    const added = events.slice(6).map((e) => t.add(e))
    expect(added).toEqual([false, false, false, false, true, true, true, true])
    const items = t.phases.flatMap((p) => p.items)
    expect(new Set(items.map((i) => i.seq)).size).toBe(items.length)
    expect(items.filter((i) => i.kind === "tool")).toHaveLength(1)
  })

  it("prints a tool call only with its result, and a progress line per phase", () => {
    const lines: string[] = []
    const printer = createTranscriptPrinter((line) => lines.push(line), "compact")
    const events = run()
    for (const e of events.slice(0, 9)) printer.add(e)
    expect(lines.some((l) => l.includes("→ bash"))).toBe(false)
    for (const e of events.slice(9)) printer.add(e)
    printer.flush()
    const text = lines.join("\n")
    expect(text).toMatch(/\[ 35%\] baseline tests · 0 steps · 0 tokens · \$0\.0000/)
    expect(text).toMatch(/\[ 80%\] verifying · 1 step · 1\.2k tokens · \$0\.0100/)
    expect(text).toContain(
      "  → bash npm test\n    ✓ 34 bytes\n    │ line 1\n    │ line 2\n    │ … (3 more lines",
    )
    expect(text).toContain("tests after: npm test → 0 failed, 3 passed (0.7 s), before: 1 failed, 2 passed")
    expect(text).toContain("  ! push refused: check the token's contents:write")
  })
})
