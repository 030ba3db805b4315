/**
 * Provider wiring of the model adapter, with recording fetch doubles in each provider's wire format:
 * OpenAI reasoning models through the Responses API (Chat Completions kept for other servers),
 * reasoning effort and Anthropic extended thinking as options, the model table's context window
 * and operator overrides, and the Anthropic cache breakpoint that moves to the newest message.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { generateText } from "ai"
import { afterEach, describe, expect, it } from "vitest"
import { createModelHandle } from "#adapters/model/ai-sdk-model.js"
import { ConfigError } from "#domain/errors.js"
import { costOf, DEFAULT_CONTEXT_WINDOW, modelInfo, parseModelTableOverrides } from "#domain/model-table.js"
import { anthropicMessage, recordingFetch } from "../doubles/anthropic-wire.js"
import { createTempCheckout } from "../doubles/temp-checkout.js"
import { planOnce } from "../support/agent-harness.js"

const responsesAnswer = {
  id: "resp_1",
  object: "response",
  created_at: 1_700_000_000,
  model: "o4-mini",
  status: "completed",
  output: [
    {
      type: "message",
      id: "msg_1",
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: "hi from responses", annotations: [] }],
    },
  ],
  incomplete_details: null,
  usage: {
    input_tokens: 10,
    output_tokens: 5,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens_details: { reasoning_tokens: 2 },
  },
}
const chatAnswer = {
  id: "c1",
  object: "chat.completion",
  created: 1,
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "hi from chat" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
}

describe("OpenAI: Responses API for reasoning models", () => {
  it("sends a reasoning model on OpenAI itself to /responses, with the effort and store: false", async () => {
    const { seen, fetch } = recordingFetch(() => responsesAnswer)
    const handle = createModelHandle({
      provider: "openai",
      model: "o4-mini",
      apiKey: "k",
      fetch,
      reasoningEffort: "high",
    })
    expect(handle).toMatchObject({ reasoning: true, contextWindow: 200_000 })
    const result = await generateText({
      model: handle.model,
      prompt: "hello",
      maxRetries: 0,
      providerOptions: handle.providerOptions as never,
    })
    expect(result.text).toBe("hi from responses")
    expect(seen[0]?.url).toBe("https://api.openai.com/v1/responses")
    expect(seen[0]?.body).toMatchObject({ model: "o4-mini", store: false, reasoning: { effort: "high" } })
  })

  it("keeps Chat Completions for other models and for LLM_BASE_URL servers, unless asked", async () => {
    const { seen, fetch } = recordingFetch((url) =>
      url.endsWith("/responses") ? responsesAnswer : chatAnswer,
    )
    const plain = createModelHandle({ provider: "openai", model: "gpt-4.1", apiKey: "k", fetch })
    await generateText({ model: plain.model, prompt: "x", maxRetries: 0 })
    const proxied = createModelHandle({
      provider: "openai",
      model: "gpt-5",
      apiKey: "k",
      fetch,
      baseURL: "http://127.0.0.1:9/v1",
    })
    await generateText({ model: proxied.model, prompt: "x", maxRetries: 0 })
    const forced = createModelHandle({
      provider: "openai",
      model: "gpt-5",
      apiKey: "k",
      fetch,
      baseURL: "http://127.0.0.1:9/v1",
      openaiApi: "responses",
    })
    await generateText({ model: forced.model, prompt: "x", maxRetries: 0 })
    expect(seen.map((s) => s.url)).toEqual([
      "https://api.openai.com/v1/chat/completions",
      "http://127.0.0.1:9/v1/chat/completions",
      "http://127.0.0.1:9/v1/responses",
    ])
  })
})

describe("Anthropic extended thinking", () => {
  it("asks for thinking with the configured budget and refuses a budget below 1024", async () => {
    const { seen, fetch } = recordingFetch(() => anthropicMessage([{ type: "text", text: "ok" }]))
    const handle = createModelHandle({
      provider: "anthropic",
      apiKey: "k",
      baseURL: "http://127.0.0.1:9/v1",
      fetch,
      thinkingBudgetTokens: 2048,
    })
    expect(handle).toMatchObject({ thinking: true, reasoning: true, contextWindow: 200_000 })
    await generateText({
      model: handle.model,
      prompt: "x",
      maxRetries: 0,
      providerOptions: handle.providerOptions as never,
    })
    expect(seen[0]?.body).toMatchObject({ thinking: { type: "enabled", budget_tokens: 2048 } })
    expect(() =>
      createModelHandle({ provider: "anthropic", apiKey: "k", thinkingBudgetTokens: 100 }),
    ).toThrow(ConfigError)
    expect(() => createModelHandle({ provider: "openai", apiKey: "k", thinkingBudgetTokens: 2048 })).toThrow(
      /anthropic/,
    )
  })
})

describe("model table", () => {
  it("knows context windows and cache prices, and takes the operator's overrides", () => {
    expect(modelInfo("claude-sonnet-4-5-20250929")).toMatchObject({
      contextWindow: 200_000,
      reasoning: true,
      pricing: { inputPerMillion: 3, cacheReadPerMillion: 0.3, cacheWritePerMillion: 3.75 },
    })
    expect(modelInfo("local-llama")).toBeUndefined()
    const overrides = parseModelTableOverrides(
      '{"local-llama": {"input": 0, "output": 0, "contextWindow": 32768}}',
    )
    expect(modelInfo("local-llama", overrides)).toEqual({
      contextWindow: 32_768,
      reasoning: false,
      pricing: { inputPerMillion: 0, outputPerMillion: 0 },
    })
    expect(
      modelInfo("gpt-4.1", parseModelTableOverrides('{"gpt-4.1": {"input": 1, "output": 4}}'))?.pricing,
    ).toMatchObject({
      inputPerMillion: 1,
      outputPerMillion: 4,
      cacheReadPerMillion: 0.5,
    })
    const handle = createModelHandle({
      provider: "openai-compatible",
      baseURL: "http://127.0.0.1:9/v1",
      model: "other",
    })
    expect(handle).toMatchObject({ contextWindow: DEFAULT_CONTEXT_WINDOW, pricing: undefined })
    expect(
      createModelHandle({
        provider: "openai-compatible",
        baseURL: "http://127.0.0.1:9/v1",
        model: "local-llama",
        modelTable: overrides,
      }),
    ).toMatchObject({ contextWindow: 32_768, pricing: { inputPerMillion: 0 } })
  })

  it("refuses malformed overrides with the entry and field at fault", () => {
    expect(() => parseModelTableOverrides("{nope")).toThrow(/PRWRIGHT_MODEL_PRICES is not valid JSON/)
    expect(() => parseModelTableOverrides('{"m": {"input": -1, "output": 1}}')).toThrow(
      /\["m"\]\.input must be a price/,
    )
    expect(() => parseModelTableOverrides('{"m": {"input": 1}}')).toThrow(/needs both "input" and "output"/)
    expect(() => parseModelTableOverrides('{"m": {"inptu": 1}}')).toThrow(/unknown field "inptu"/)
    expect(() => parseModelTableOverrides('{"m": {"contextWindow": 12}}')).toThrow(/contextWindow must be/)
  })

  it("prices cache reads and writes at their own rates", () => {
    const sonnet = modelInfo("claude-sonnet-4-5")?.pricing
    // 1000 plain, 8000 read, 1000 written, 500 out
    expect(
      costOf(sonnet, {
        inputTokens: 10_000,
        outputTokens: 500,
        cacheReadTokens: 8_000,
        cacheWriteTokens: 1_000,
      }),
    ).toBe((1000 * 3 + 8000 * 0.3 + 1000 * 3.75 + 500 * 15) / 1e6)
  })
})

describe("Anthropic cache breakpoint", () => {
  let dir: string | undefined
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it("moves to the newest message each step; the system prompt and the task stay marked", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "prwright-cache-"))
    const checkout = await createTempCheckout(dir, { "README.md": "# r\n", "a.txt": "a\n" })
    const toolUse = (id: string, name: string, input: unknown) =>
      anthropicMessage([{ type: "tool_use", id: `toolu_${id}`, name, input }], {
        id: `msg_${id}`,
        usage: {
          input_tokens: 2000,
          output_tokens: 20,
          cache_read_input_tokens: 1500,
          cache_creation_input_tokens: 300,
        },
      })
    const answers = [
      toolUse("1", "str_replace_based_edit_tool", { command: "view", path: "README.md" }),
      toolUse("2", "str_replace_based_edit_tool", { command: "view", path: "a.txt" }),
      toolUse("3", "submit_plan", { plan: "1. Do it" }),
    ]
    const { seen, fetch } = recordingFetch(() => answers[seen.length - 1])
    const model = createModelHandle({
      provider: "anthropic",
      apiKey: "k",
      baseURL: "http://127.0.0.1:9/v1",
      fetch,
    })
    const result = await planOnce(model, checkout)
    expect(result.plan).toBe("1. Do it")
    // Anthropic's input_tokens leave out the cache: 3 × (2000 plain × $3 + 1500 read × $0.30 + 300 written × $3.75 + 20 out × $15)
    expect(result.usage.inputTokens).toBe(3 * 3800)
    expect(result.usage.costUsd).toBeCloseTo((3 * (2000 * 3 + 1500 * 0.3 + 300 * 3.75 + 20 * 15)) / 1e6, 6)
    type Message = { role: string; content: Array<Record<string, unknown>> }
    const marked = (message: Message | undefined) =>
      JSON.stringify(message?.content).includes("cache_control")
    for (const [index, request] of seen.entries()) {
      const messages = request.body.messages as Message[]
      expect(marked(messages[0])).toBe(true) // the task
      expect(marked(messages.at(-1))).toBe(true) // the newest message
      const count = JSON.stringify(request.body).split('"cache_control"').length - 1
      expect(count).toBeLessThanOrEqual(4)
      if (index === 2) expect(messages.slice(1, -1).some(marked)).toBe(false)
    }
    const system = (seen[0]?.body.system ?? []) as unknown[]
    expect(JSON.stringify(system.at(-1))).toContain("cache_control")
  })

  it("does not force submit_plan on the last step while Anthropic thinking is on (the API refuses it)", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "prwright-cache-"))
    const checkout = await createTempCheckout(dir, { "README.md": "# r\n" })
    const answer = (id: string, name: string, input: unknown) =>
      anthropicMessage(
        [
          { type: "thinking", thinking: "Let me look.", signature: `sig_${id}` },
          { type: "tool_use", id: `toolu_${id}`, name, input },
        ],
        { id: `msg_${id}`, usage: { input_tokens: 100, output_tokens: 20 } },
      )
    const answers = [
      answer("1", "str_replace_based_edit_tool", { command: "view", path: "README.md" }),
      answer("2", "submit_plan", { plan: "1. Do it" }),
    ]
    const { seen, fetch } = recordingFetch(() => answers[seen.length - 1])
    const model = createModelHandle({
      provider: "anthropic",
      apiKey: "k",
      baseURL: "http://127.0.0.1:9/v1",
      fetch,
      thinkingBudgetTokens: 2048,
    })
    const result = await planOnce(model, checkout, { maxSteps: 2 })
    expect(result.plan).toBe("1. Do it")
    expect(seen[1]?.body.tool_choice).not.toMatchObject({ type: "tool" })
    expect(seen[1]?.body.thinking).toMatchObject({ type: "enabled", budget_tokens: 2048 })
    // the thinking block of step 1 goes back with its signature, as the API requires for tool use
    expect(JSON.stringify(seen[1]?.body.messages)).toContain("sig_1")
    expect(JSON.stringify(seen[1]?.body.messages)).toContain("This is your last step")
  })
})
