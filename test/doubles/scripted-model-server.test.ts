import { createOpenAI } from "@ai-sdk/openai"
import { generateText, stepCountIs, streamText, tool } from "ai"
import { afterEach, describe, expect, it } from "vitest"
import { z } from "zod"
import {
  type ScriptedModelServer,
  type ScriptStep,
  startScriptedModelServer,
} from "./scripted-model-server.js"

const API_KEY = "sk-test-scripted-0123456789"
const servers: ScriptedModelServer[] = []
const start = async (script: ScriptStep[]) => {
  const server = await startScriptedModelServer({ script, apiKey: API_KEY })
  servers.push(server)
  return server
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

const weatherTool = {
  type: "function",
  function: {
    name: "get_weather",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string" },
        unit: { type: "string", enum: ["c", "f"] },
        days: { type: "integer", minimum: 1 },
        range: { type: "array", prefixItems: [{ type: "integer" }, { type: "integer" }] },
      },
      required: ["city"],
      additionalProperties: false,
    },
  },
}

const post = (server: ScriptedModelServer, body: unknown, key = API_KEY) =>
  fetch(`${server.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  })

// biome-ignore lint/suspicious/noExplicitAny: the tests read OpenAI's loosely shaped JSON field by field
const json = (response: Response): Promise<any> => response.json()

const sseData = (text: string): string[] =>
  text
    .split("\n\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => block.slice("data: ".length))

describe("scripted model server, raw HTTP", () => {
  it("answers a non-streaming request with an OpenAI-shaped chat.completion", async () => {
    const server = await start([{ text: "hello there", usage: { prompt_tokens: 11, completion_tokens: 3 } }])
    const response = await post(server, { model: "gpt-4.1", messages: [{ role: "user", content: "hi" }] })
    expect(response.status).toBe(200)
    const body = await json(response)
    expect(body).toMatchObject({
      object: "chat.completion",
      model: "gpt-4.1",
      choices: [{ index: 0, message: { role: "assistant", content: "hello there" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 },
    })
    expect(body.id).toMatch(/^chatcmpl-/)
    expect(typeof body.created).toBe("number")
    expect(server.requests[0]?.body).toMatchObject({ model: "gpt-4.1" })
    expect(server.errors).toEqual([])
  })

  it("streams tool-call deltas, the finish reason, a usage chunk and [DONE]", async () => {
    const server = await start([
      { toolCalls: [{ name: "get_weather", arguments: { city: "Oslo", unit: "c" } }] },
    ])
    const response = await post(server, {
      model: "gpt-4.1",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "weather?" }],
      tools: [weatherTool],
    })
    expect(response.headers.get("content-type")).toContain("text/event-stream")
    const data = sseData(await response.text())
    expect(data.at(-1)).toBe("[DONE]")
    const chunks = data.slice(0, -1).map((line) => JSON.parse(line))
    expect(chunks.every((chunk) => chunk.object === "chat.completion.chunk")).toBe(true)
    const args = chunks
      .flatMap((chunk) => chunk.choices)
      .flatMap((choice) => choice.delta?.tool_calls ?? [])
      .map((call) => call.function?.arguments ?? "")
      .join("")
    expect(JSON.parse(args)).toEqual({ city: "Oslo", unit: "c" })
    expect(chunks.flatMap((chunk) => chunk.choices).at(-1)?.finish_reason).toBe("tool_calls")
    const usage = chunks.at(-1)
    expect(usage.choices).toEqual([])
    expect(usage.usage.prompt_tokens).toBeGreaterThan(0)
    expect(server.errors).toEqual([])
  })

  it("refuses scripted tool calls that do not fit the offered tools, and records why", async () => {
    const server = await start([
      { toolCalls: [{ name: "get_weather", arguments: { city: 42, unit: "kelvin", extra: true } }] },
      { toolCalls: [{ name: "get_weather", arguments: { unit: "c", range: [1, "x"] } }] },
      { toolCalls: [{ name: "delete_everything", arguments: {} }] },
    ])
    const request = { model: "m", messages: [{ role: "user", content: "x" }], tools: [weatherTool] }
    const first = await post(server, request)
    expect(first.status).toBe(400)
    const error = (await json(first)).error
    expect(error.type).toBe("invalid_request_error")
    expect(error.message).toContain("$.city: expected string, got integer")
    expect(error.message).toContain('"kelvin" is not one of')
    expect(error.message).toContain("$.extra: is not allowed")
    expect((await post(server, request)).status).toBe(400)
    expect((await post(server, request)).status).toBe(400)
    expect(server.errors).toHaveLength(3)
    expect(server.errors[1]).toContain("$.city: is required")
    expect(server.errors[1]).toContain("$.range[1]: expected integer, got string")
    expect(server.errors[2]).toContain(
      'tool "delete_everything" is not among the request\'s tools (get_weather)',
    )
  })

  it("answers an exhausted script with 400 and records it", async () => {
    const server = await start([{ text: "only one" }])
    const request = { model: "m", messages: [{ role: "user", content: "x" }] }
    expect((await post(server, request)).status).toBe(200)
    const second = await post(server, request)
    expect(second.status).toBe(400)
    expect((await json(second)).error.message).toContain("script exhausted")
    expect(server.errors).toEqual([expect.stringContaining("script exhausted: request 2")])
  })

  it("answers a wrong or missing key with an OpenAI-shaped 401 and never records the key", async () => {
    const server = await start([{ text: "unused" }])
    const wrong = await post(server, { model: "m", messages: [] }, "sk-wrong")
    expect(wrong.status).toBe(401)
    expect((await json(wrong)).error).toMatchObject({
      code: "invalid_api_key",
      type: "invalid_request_error",
    })
    const missing = await fetch(`${server.baseUrl}/models`)
    expect(missing.status).toBe(401)
    expect(server.played).toBe(0)
    const models = await fetch(`${server.baseUrl}/models`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    })
    expect((await json(models)).data[0]).toMatchObject({ object: "model" })
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      "[redacted]",
      undefined,
      "[redacted]",
    ])
    expect(JSON.stringify(server.requests)).not.toContain(API_KEY)
  })

  it("plays a scripted provider error", async () => {
    const server = await start([{ error: { status: 429, message: "Rate limit reached" } }])
    const response = await post(server, { model: "m", messages: [] })
    expect(response.status).toBe(429)
    expect((await json(response)).error).toMatchObject({
      message: "Rate limit reached",
      type: "rate_limit_exceeded",
    })
    expect(server.errors).toEqual([])
  })
})

describe("scripted model server, through the AI SDK", () => {
  const weather = tool({
    description: "weather for a city",
    inputSchema: z.object({ city: z.string(), days: z.number().int().optional() }),
    execute: async ({ city }) => `sunny in ${city}`,
  })

  it("drives a generateText tool loop", async () => {
    const server = await start([
      { toolCalls: [{ name: "weather", arguments: { city: "Oslo", days: 2 } }] },
      { text: "It is sunny in Oslo.", usage: { prompt_tokens: 50, completion_tokens: 7 } },
    ])
    const model = createOpenAI({ baseURL: server.baseUrl, apiKey: API_KEY }).chat("gpt-4.1")
    const result = await generateText({
      model,
      prompt: "weather in Oslo?",
      tools: { weather },
      stopWhen: stepCountIs(5),
      maxRetries: 0,
    })
    expect(result.text).toBe("It is sunny in Oslo.")
    expect(result.steps[0]?.toolResults[0]).toMatchObject({ toolName: "weather", output: "sunny in Oslo" })
    expect(result.steps[1]?.usage).toMatchObject({ inputTokens: 50, outputTokens: 7 })
    // the second request carries the tool result back to the model
    expect(JSON.stringify(server.requests[1]?.body)).toContain("sunny in Oslo")
    expect(server.errors).toEqual([])
  })

  it("drives a streamText tool loop", async () => {
    const server = await start([
      { toolCalls: [{ name: "weather", arguments: { city: "Bergen" } }] },
      { text: "Bergen: sunny, for once. Enjoy it while it lasts!" },
    ])
    const model = createOpenAI({ baseURL: server.baseUrl, apiKey: API_KEY }).chat("gpt-4.1")
    const result = streamText({
      model,
      prompt: "weather?",
      tools: { weather },
      stopWhen: stepCountIs(5),
      maxRetries: 0,
    })
    let streamed = ""
    for await (const delta of result.textStream) streamed += delta
    expect(streamed).toBe("Bergen: sunny, for once. Enjoy it while it lasts!")
    const steps = await result.steps
    expect(steps[0]?.toolResults[0]).toMatchObject({ output: "sunny in Bergen" })
    expect((await result.totalUsage).outputTokens).toBeGreaterThan(0)
    expect(server.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } })
    expect(server.errors).toEqual([])
  })
})
