import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { issueOf, perConversation } from "#adapters/demo/conversation-script.js"
import { type ScriptedModelServer, startScriptedModelServer } from "#adapters/demo/scripted-model-server.js"

const tools = [
  { type: "function", function: { name: "say", parameters: { type: "object", properties: { n: {} } } } },
]
const say = (n: string) => ({ toolCalls: [{ name: "say", arguments: { n } }] })

describe("scripts per conversation", () => {
  let model: ScriptedModelServer
  beforeAll(async () => {
    model = await startScriptedModelServer({
      script: [],
      answer: perConversation((body) => {
        const about = issueOf(body)
        return about ? [say(`${about.repo}#${about.issue} turn 1`), say(`${about.issue} turn 2`)] : undefined
      }),
    })
  })
  afterAll(() => model?.close())

  const ask = async (issue: number, assistantTurns: number) => {
    const messages: unknown[] = [
      { role: "system", content: "You are prwright." },
      {
        role: "user",
        content: [{ type: "text", text: `Repository: acme/x (checked out at main)\nIssue: #${issue}` }],
      },
    ]
    for (let i = 0; i < assistantTurns; i++)
      messages.push(
        { role: "assistant", content: null, tool_calls: [] },
        { role: "tool", tool_call_id: `c${i}`, content: "ok" },
      )
    const response = await fetch(`${model.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", tools, messages }),
    })
    const body = (await response.json()) as {
      choices?: Array<{ message: { tool_calls: Array<{ function: { arguments: string } }> } }>
    }
    return { status: response.status, said: body.choices?.[0]?.message.tool_calls[0]?.function.arguments }
  }

  it("answers each conversation from its own script at its own turn, in any order", async () => {
    const answers = await Promise.all([ask(7, 1), ask(3, 0), ask(7, 0), ask(3, 1)])
    expect(answers.map((a) => a.said)).toEqual([
      JSON.stringify({ n: "7 turn 2" }),
      JSON.stringify({ n: "acme/x#3 turn 1" }),
      JSON.stringify({ n: "acme/x#7 turn 1" }),
      JSON.stringify({ n: "3 turn 2" }),
    ])
    expect(model.errors).toEqual([])
  })

  it("a conversation past its script's end falls through to the server's script and fails loudly", async () => {
    expect((await ask(7, 2)).status).toBe(400)
    expect(model.errors.at(-1)).toMatch(/script exhausted/)
  })
})
