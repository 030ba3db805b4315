import { generateText, streamText } from "ai"
import { afterEach, describe, expect, it } from "vitest"
import { createModelHandle, DEFAULT_MODELS } from "#adapters/model/ai-sdk-model.js"
import { costOf, pricingFor } from "#application/agent/pricing.js"
import { ConfigError } from "#domain/errors.js"
import { anthropicMessage } from "../doubles/anthropic-wire.js"
import { type ScriptedModelServer, startScriptedModelServer } from "../doubles/scripted-model-server.js"

const API_KEY = "sk-adapter-test-key-9876"
const servers: ScriptedModelServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

describe("createModelHandle against the scripted OpenAI-compatible server", () => {
  it.each(["openai", "openai-compatible"] as const)(
    "%s: talks Chat Completions and reports usage",
    async (provider) => {
      const server = await startScriptedModelServer({
        apiKey: API_KEY,
        script: [
          { text: "first", usage: { prompt_tokens: 120, completion_tokens: 30 } },
          { text: "streamed answer", usage: { prompt_tokens: 200, completion_tokens: 40 } },
        ],
      })
      servers.push(server)
      const handle = createModelHandle({
        provider,
        model: "gpt-4.1-mini",
        baseURL: `${server.baseUrl}/`,
        apiKey: API_KEY,
        headers: { "x-prwright-run": "run-1" },
      })
      expect(handle).toMatchObject({ provider, modelId: "gpt-4.1-mini", pricing: { inputPerMillion: 0.4 } })

      const generated = await generateText({ model: handle.model, prompt: "hello", maxRetries: 0 })
      expect(generated.text).toBe("first")
      expect(generated.usage).toMatchObject({ inputTokens: 120, outputTokens: 30 })

      const streamed = streamText({ model: handle.model, prompt: "again", maxRetries: 0 })
      expect(await streamed.text).toBe("streamed answer")
      expect(await streamed.usage).toMatchObject({ inputTokens: 200, outputTokens: 40 })

      // both went to Chat Completions (not the Responses API), with our headers, and without a trailing-slash path
      expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        "POST /v1/chat/completions",
        "POST /v1/chat/completions",
      ])
      expect(server.requests[0]?.headers["x-prwright-run"]).toBe("run-1")
      expect(server.requests[0]?.headers.authorization).toBe("[redacted]")
      expect(server.requests[1]?.body).toMatchObject({
        stream: true,
        stream_options: { include_usage: true },
      })
      expect(server.errors).toEqual([])
    },
  )

  it("anthropic: calls the Messages API at the configured base URL with the key in x-api-key", async () => {
    const seen: Array<{ url: string; apiKey: string | null }> = []
    // Anthropic's wire format differs from the scripted server's; a recording fetch answers its shape.
    const anthropicFetch = async (input: string | URL | Request, init?: RequestInit) => {
      seen.push({ url: String(input), apiKey: new Headers(init?.headers).get("x-api-key") })
      return Response.json(anthropicMessage([{ type: "text", text: "hi from claude" }]))
    }
    const handle = createModelHandle({
      provider: "anthropic",
      apiKey: "sk-ant-test",
      baseURL: "http://127.0.0.1:9/v1",
      fetch: anthropicFetch as typeof fetch,
    })
    expect(handle).toMatchObject({ modelId: DEFAULT_MODELS.anthropic, pricing: { inputPerMillion: 3 } })
    const result = await generateText({ model: handle.model, prompt: "hello", maxRetries: 0 })
    expect(result.text).toBe("hi from claude")
    expect(result.usage).toMatchObject({ inputTokens: 12, outputTokens: 5 })
    expect(seen).toEqual([{ url: "http://127.0.0.1:9/v1/messages", apiKey: "sk-ant-test" }])
  })

  it("defaults the model for openai and anthropic", () => {
    expect(createModelHandle({ provider: "openai", apiKey: "k" }).modelId).toBe(DEFAULT_MODELS.openai)
    expect(createModelHandle({ provider: "anthropic", apiKey: "k" }).modelId).toBe(DEFAULT_MODELS.anthropic)
  })

  it("refuses incomplete configuration with a message that says what to set", () => {
    expect(() => createModelHandle({ provider: "openai" })).toThrow(ConfigError)
    expect(() => createModelHandle({ provider: "openai" })).toThrow(/LLM_API_KEY \(or OPENAI_API_KEY\)/)
    expect(() => createModelHandle({ provider: "anthropic" })).toThrow(/ANTHROPIC_API_KEY/)
    expect(() => createModelHandle({ provider: "openai-compatible", model: "llama3" })).toThrow(
      /LLM_BASE_URL is required/,
    )
    expect(() =>
      createModelHandle({ provider: "openai-compatible", baseURL: "http://127.0.0.1:11434/v1" }),
    ).toThrow(/LLM_MODEL is required/)
    expect(() => createModelHandle({ provider: "openai", apiKey: "k", baseURL: "not a url" })).toThrow(
      /not a valid URL/,
    )
    // a local OpenAI-compatible server needs no key
    expect(
      createModelHandle({
        provider: "openai-compatible",
        baseURL: "http://127.0.0.1:11434/v1",
        model: "llama3.1",
      }),
    ).toMatchObject({ modelId: "llama3.1", pricing: undefined })
  })
})

describe("pricing", () => {
  it("knows well-known models under their aliases and snapshots", () => {
    // issue 10: prices carry cache read/write rates too, so toMatchObject for the list prices
    expect(pricingFor("gpt-4o")).toMatchObject({ inputPerMillion: 2.5, outputPerMillion: 10 })
    expect(pricingFor("gpt-4o-mini")).toMatchObject({ inputPerMillion: 0.15, outputPerMillion: 0.6 })
    expect(pricingFor("gpt-4.1-2025-04-14")).toEqual(pricingFor("gpt-4.1"))
    expect(pricingFor("openai/gpt-4.1-mini")).toEqual(pricingFor("gpt-4.1-mini"))
    expect(pricingFor("claude-sonnet-4-20250514")).toMatchObject({ inputPerMillion: 3, outputPerMillion: 15 })
    expect(pricingFor("claude-3-5-haiku-latest")).toMatchObject({ inputPerMillion: 0.8, outputPerMillion: 4 })
    expect(pricingFor("llama3.1:8b")).toBeUndefined()
  })

  it("computes the cost in USD, and 0 for unknown prices", () => {
    expect(
      costOf({ inputPerMillion: 2, outputPerMillion: 8 }, { inputTokens: 1_000_000, outputTokens: 500_000 }),
    ).toBe(6)
    expect(
      costOf({ inputPerMillion: 0.15, outputPerMillion: 0.6 }, { inputTokens: 1234, outputTokens: 56 }),
    ).toBe(0.000219)
    expect(costOf(undefined, { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toBe(0)
  })
})
