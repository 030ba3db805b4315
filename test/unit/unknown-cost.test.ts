/**
 * A model without a price costs "unknown", never $0 (issue 13, finding 5): in the run's totals, the
 * model-call events, the PR body, the check run, the CLI transcript (which the web UI shares).
 */
import { describe, expect, it } from "vitest"
import { formatUsage } from "#application/workflows/pull-request-body.js"
import { costText, unpricedRefusal } from "#domain/model-table.js"
import { addUsage, ZERO_USAGE } from "#domain/workflow-run.js"
import { createTranscript, formatUsageCost, type WireEvent } from "#entrypoints/cli/transcript.js"
import { createTranscriptPrinter } from "#entrypoints/cli/transcript-text.js"

const call = (seq: number, data: Record<string, unknown>): WireEvent => ({
  runId: "r",
  seq,
  at: "2026-12-06T08:00:00.000Z",
  type: "model-call",
  model: "local-llama",
  inputTokens: 1000,
  outputTokens: 20,
  costUsd: 0,
  latencyMs: 300,
  ...data,
})

describe("unknown prices", () => {
  it("a total with an unpriced call stays unknown, naming the model and the fix", () => {
    const total = addUsage(addUsage(ZERO_USAGE, { inputTokens: 5, outputTokens: 1, costUsd: 0.5 }), {
      inputTokens: 10,
      outputTokens: 2,
      costUsd: 0,
      unpricedModel: "local-llama",
    })
    expect(total).toEqual({ inputTokens: 15, outputTokens: 3, costUsd: 0.5, unpricedModel: "local-llama" })
    // later priced calls do not make it known again
    expect(addUsage(total, { costUsd: 1 }).unpricedModel).toBe("local-llama")
    expect(costText(total)).toBe("cost: unknown (model local-llama has no price; set PRWRIGHT_MODEL_PRICES)")
    expect(costText({ costUsd: 0.5 })).toBe("$0.5000")
    expect(costText({ costUsd: 0 })).toBe("$0.0000")
  })

  it("the PR body and the comments say unknown, not $0.0000", () => {
    const text = formatUsage({
      inputTokens: 1200,
      outputTokens: 30,
      costUsd: 0,
      unpricedModel: "local-llama",
    })
    expect(text).toContain("cost: unknown (model local-llama has no price; set PRWRIGHT_MODEL_PRICES)")
    expect(text).not.toContain("$0.0000")
    expect(formatUsage({ inputTokens: 1, outputTokens: 1, costUsd: 0.25 })).toContain("$0.2500")
  })

  it("the refusal names both fixes", () => {
    const message = unpricedRefusal("local-llama", 5)
    expect(message).toMatch(/model local-llama has no price/)
    expect(message).toMatch(/PRWRIGHT_MODEL_PRICES/)
    expect(message).toMatch(/PRWRIGHT_ALLOW_UNPRICED=1/)
    expect(message).toMatch(/\$5/)
  })

  it("the transcript (CLI and web UI) shows an unpriced call's cost as unknown", () => {
    const t = createTranscript()
    t.add(call(1, { costKnown: false }))
    expect(t.usage.unpricedModel).toBe("local-llama")
    expect(formatUsageCost(t.usage)).toBe("cost unknown")
    expect(t.phases.flatMap((p) => p.items).find((i) => i.kind === "turn")).toMatchObject({
      costKnown: false,
    })

    const lines: string[] = []
    const printer = createTranscriptPrinter((line) => lines.push(line), "full")
    printer.add(call(1, { costKnown: false }))
    printer.add({
      runId: "r",
      seq: 2,
      at: "2026-12-06T08:00:01.000Z",
      type: "progress",
      progress: 50,
      message: "verifying",
    })
    printer.flush()
    const text = lines.join("\n")
    expect(text).toContain("cost unknown")
    expect(text).not.toMatch(/\$0\.0000/)

    const priced = createTranscript()
    priced.add(call(1, { costUsd: 0.02 }))
    expect(priced.usage.unpricedModel).toBeUndefined()
    expect(formatUsageCost(priced.usage)).toBe("$0.0200")
  })
})
