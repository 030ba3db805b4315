import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { createModelHandle } from "#adapters/model/ai-sdk-model.js"
import { anthropicMessage, recordingFetch } from "../doubles/anthropic-wire.js"
import { startScriptedModelServer } from "../doubles/scripted-model-server.js"
import { createTempCheckout } from "../doubles/temp-checkout.js"
import { openIssue, planOnce } from "../support/agent-harness.js"

const issue = openIssue({ number: 3, title: "Explain the cache", body: "Please plan." }, "o/r")

let dir: string | undefined
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe("prompt caching", () => {
  it("marks the system prompt and the task as Anthropic cache breakpoints", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "prompt-cache-"))
    const checkout = await createTempCheckout(dir, { "README.md": "# r\n" })
    // Anthropic's wire format: a recording fetch answers with a submit_plan tool call.
    const { seen, fetch: anthropicFetch } = recordingFetch(() =>
      anthropicMessage(
        [{ type: "tool_use", id: "toolu_1", name: "submit_plan", input: { plan: "1. Do it" } }],
        {
          usage: { input_tokens: 2000, output_tokens: 20, cache_read_input_tokens: 1800 },
        },
      ),
    )
    const model = createModelHandle({
      provider: "anthropic",
      apiKey: "sk-ant-test",
      baseURL: "http://127.0.0.1:9/v1",
      fetch: anthropicFetch,
    })
    const result = await planOnce(model, checkout, { issue })
    expect(result.plan).toBe("1. Do it")
    const body = seen[0]?.body as {
      system: Array<Record<string, unknown>>
      messages: Array<{ content: unknown }>
    }
    expect(body.system.at(-1)).toMatchObject({ cache_control: { type: "ephemeral" } })
    expect(JSON.stringify(body.messages[0]?.content)).toContain('"cache_control":{"type":"ephemeral"}')
  })

  it("sends no cache hints to OpenAI-compatible servers", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "prompt-cache-"))
    const checkout = await createTempCheckout(dir, { "README.md": "# r\n" })
    const server = await startScriptedModelServer({
      script: [{ toolCalls: [{ name: "submit_plan", arguments: { plan: "1. Do it" } }] }],
    })
    try {
      const model = createModelHandle({ provider: "openai-compatible", baseURL: server.baseUrl, model: "m" })
      await planOnce(model, checkout, { issue })
      expect(JSON.stringify(server.requests[0]?.body)).not.toMatch(/cache_control|cacheControl/)
      expect(server.errors).toEqual([])
    } finally {
      await server.close()
    }
  })
})
