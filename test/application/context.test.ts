import type { ModelMessage } from "ai"
import { describe, expect, it } from "vitest"
import { condenseHistory, createContextManager } from "#application/agent/context.js"

const call = (id: string, input: unknown): ModelMessage => ({
  role: "assistant",
  content: [{ type: "tool-call", toolCallId: id, toolName: "bash", input }],
})
const result = (id: string, text: string): ModelMessage => ({
  role: "tool",
  content: [{ type: "tool-result", toolCallId: id, toolName: "bash", output: { type: "text", value: text } }],
})
const history = (turns: number): ModelMessage[] => {
  const out: ModelMessage[] = [{ role: "user", content: "the task" }]
  for (let i = 0; i < turns; i += 1)
    out.push(
      call(`c${i}`, { command: `cmd ${i}`, file_text: "z".repeat(2000) }),
      result(`c${i}`, `out ${i} ${"y".repeat(400)}`),
    )
  return out
}
const outputs = (messages: ModelMessage[]) =>
  messages.flatMap((m) =>
    m.role === "tool"
      ? m.content.map((p) => (p.type === "tool-result" ? String((p.output as { value: unknown }).value) : ""))
      : [],
  )

describe("context manager", () => {
  it("masks the oldest outputs in batches and never the newest five; long old arguments are shortened", () => {
    const manager = createContextManager({ contextWindow: 100_000, fixedChars: 0 })
    expect(outputs(manager.view(history(9))).filter((o) => o.includes("omitted"))).toHaveLength(0)
    const ten = manager.view(history(10))
    expect(outputs(ten).filter((o) => o.includes("omitted"))).toHaveLength(5)
    expect(
      outputs(ten)
        .slice(-5)
        .every((o) => o.startsWith("out ")),
    ).toBe(true)
    // the same prefix for the next four steps
    const fourteen = manager.view(history(14))
    expect(JSON.stringify(fourteen.slice(0, 21))).toBe(JSON.stringify(ten.slice(0, 21)))
    expect(outputs(fourteen).filter((o) => o.includes("omitted"))).toHaveLength(5)
    const masked = fourteen[1] as { content: Array<{ input: { file_text: string; command: string } }> }
    expect(masked.content[0]?.input.command).toBe("cmd 0")
    expect(masked.content[0]?.input.file_text).toMatch(/^z{300}… \[1700 more characters omitted\]$/)
    expect(manager.masked).toBe(5)
  })

  it("estimates at four characters a token and calibrates on the provider's count", () => {
    const manager = createContextManager({ contextWindow: 10_000, fixedChars: 4_000 })
    const messages: ModelMessage[] = [{ role: "user", content: "x".repeat(3_990) }]
    const first = manager.estimate(messages)
    expect(first).toBeGreaterThan(1_990)
    expect(first).toBeLessThan(2_020)
    manager.calibrate(first, first * 2)
    expect(manager.estimate(messages)).toBeGreaterThan(first * 1.4)
    expect(manager.limit).toBe(7_000)
    expect(manager.tooLarge([{ role: "user", content: "x".repeat(40_000) }])).toBe(true)
  })
})

describe("condenseHistory", () => {
  it("keeps the task and the newest turns, and summarises the rest with the model", async () => {
    let transcript = ""
    const condensed = await condenseHistory({
      history: history(8),
      headCount: 1,
      keepTurns: 3,
      maxTranscriptChars: 50_000,
      summarise: async (text) => {
        transcript = text
        return "- ran cmd 0 to cmd 4"
      },
    })
    expect(condensed?.condensedTurns).toBe(5)
    expect(condensed?.messages[0]).toEqual({ role: "user", content: "the task" })
    expect(JSON.stringify(condensed?.messages[1])).toContain("ran cmd 0 to cmd 4")
    expect(condensed?.messages).toHaveLength(2 + 6)
    expect(transcript).toContain('ASSISTANT CALLS bash: {"command":"cmd 0"')
    expect(transcript).not.toContain("cmd 5")
  })

  it("falls back to a list of the calls when the summary call fails, and does nothing with one turn", async () => {
    const condensed = await condenseHistory({
      history: history(4),
      headCount: 1,
      keepTurns: 1,
      maxTranscriptChars: 50_000,
      summarise: async () => {
        throw new Error("overloaded")
      },
    })
    expect(condensed?.summary).toContain("could not write a summary")
    expect(condensed?.summary).toContain('- bash {"command":"cmd 2"')
    expect(
      await condenseHistory({
        history: history(1),
        headCount: 1,
        keepTurns: 1,
        maxTranscriptChars: 1_000,
        summarise: async () => "x",
      }),
    ).toBeUndefined()
  })
})
