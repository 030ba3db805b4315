// Over ~300 lines: the OpenAI-compatible protocol (Chat Completions and Responses, streaming and not) with scripted faults, in one test double.
/**
 * A scripted OpenAI-compatible model server: real HTTP on 127.0.0.1, the Chat Completions wire format
 * (non-streaming and SSE streaming) and the Responses API (non-streaming, with an encrypted reasoning
 * item before every answer), and a script that says what the "model" answers to each request.
 * Every scripted tool call is checked against the tools the client actually offered, so a script that
 * drifted from the real tool schemas fails loudly (HTTP 400 + `server.errors`) instead of passing by luck.
 */
import { once } from "node:events"
import http from "node:http"
import type { AddressInfo } from "node:net"
import { checkJsonSchema, type JsonSchema } from "./json-schema-check.js"

export interface ScriptedUsage {
  prompt_tokens: number
  completion_tokens: number
  /** of prompt_tokens, read from the provider's cache (prompt_tokens_details.cached_tokens) */
  cached_tokens?: number
}

export interface ScriptedToolCall {
  name: string
  arguments: Record<string, unknown>
}

interface StepTiming {
  /** wait this long before answering (to test aborts and timeouts); cut short if the client goes away */
  delayMs?: number
}

export type ScriptStep =
  | ({ toolCalls: ScriptedToolCall[]; text?: string; usage?: ScriptedUsage } & StepTiming)
  | ({ text: string; finishReason?: "stop" | "length"; usage?: ScriptedUsage } & StepTiming)
  /** answer with an OpenAI-shaped error, e.g. 429, 529 or 500 (with headers such as retry-after), to test error handling */
  | ({
      error: {
        status: number
        message: string
        type?: string
        code?: string
        headers?: Record<string, string>
      }
    } & StepTiming)

export interface RecordedRequest {
  method: string
  path: string
  /** lower-case names; the Authorization value is replaced by "[redacted]" */
  headers: Record<string, string>
  body: unknown
}

/** The request as the server parsed it, for `answer` hooks. */
export interface ChatRequest {
  model?: string
  stream?: boolean
  stream_options?: { include_usage?: boolean }
  tools?: OpenAiTool[]
  tool_choice?: unknown
  messages?: Array<{ role: string; content: unknown }>
}

export interface ScriptedModelServer {
  /** e.g. http://127.0.0.1:41234/v1 */
  baseUrl: string
  requests: RecordedRequest[]
  /** script violations (unknown tool, arguments not fitting the schema, script exhausted); a test should expect it empty */
  errors: string[]
  /** how many script steps were played */
  readonly played: number
  close(): Promise<void>
}

interface OpenAiTool {
  type?: string
  function?: { name?: string | undefined; parameters?: JsonSchema | undefined }
}

const openAiError = (message: string, type: string, code: string | null) => ({
  error: { message, type, param: null, code },
})

const sendJson = (
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void => {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  })
  res.end(text)
}

/** Problems with a scripted tool call, given the tools the request offered. */
const checkToolCall = (call: ScriptedToolCall, tools: OpenAiTool[]): string[] => {
  const offered = tools.map((tool) => tool.function?.name).filter((name): name is string => Boolean(name))
  const tool = tools.find((candidate) => candidate.function?.name === call.name)
  if (!tool) {
    return [`tool "${call.name}" is not among the request's tools (${offered.join(", ") || "none offered"})`]
  }
  const schema = tool.function?.parameters ?? true
  return checkJsonSchema(schema, call.arguments).map((problem) => `tool "${call.name}" arguments ${problem}`)
}

export const startScriptedModelServer = async (options: {
  script: ScriptStep[]
  apiKey?: string
  /**
   * Answers a request without using up a script step when it returns one (e.g. the condenser's
   * call, which offers no tools, or a generated benchmark run). Called before the script.
   */
  answer?: (body: ChatRequest, request: number) => ScriptStep | undefined
  /**
   * A context window: a request over this many prompt tokens (four characters each) is refused with
   * OpenAI's 400 `context_length_exceeded`, using up no script step.
   */
  maxPromptTokens?: number
}): Promise<ScriptedModelServer> => {
  const requests: RecordedRequest[] = []
  const errors: string[] = []
  let played = 0
  let sequence = 0

  const fail = (res: http.ServerResponse, message: string): void => {
    errors.push(message)
    sendJson(
      res,
      400,
      openAiError(`scripted model server: ${message}`, "invalid_request_error", "script_mismatch"),
    )
  }

  const authorized = (req: http.IncomingMessage): boolean =>
    options.apiKey === undefined || req.headers.authorization === `Bearer ${options.apiKey}`

  let answered = 0
  const handleChat = async (
    res: http.ServerResponse,
    raw: string,
    body: ChatRequest,
    api: "chat" | "responses" = "chat",
  ): Promise<void> => {
    answered += 1
    const tokens = Math.ceil(raw.length / 4)
    if (options.maxPromptTokens !== undefined && tokens > options.maxPromptTokens) {
      sendJson(res, 400, {
        error: {
          message: `This model's maximum context length is ${options.maxPromptTokens} tokens. However, your messages resulted in ${tokens} tokens. Please reduce the length of the messages.`,
          type: "invalid_request_error",
          param: "messages",
          code: "context_length_exceeded",
        },
      })
      return
    }
    const hooked = options.answer?.(body, answered)
    const step = hooked ?? options.script[played]
    if (step === undefined) {
      fail(
        res,
        `script exhausted: request ${played + 1} arrived but the script has ${options.script.length} step(s)`,
      )
      return
    }
    if (!hooked) played += 1
    if (step.delayMs) {
      // Wait, but stop waiting (and drop the timer, so no handle outlives the test) if the client goes away.
      const clientGone = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), step.delayMs)
        res.once("close", () => {
          clearTimeout(timer)
          resolve(true)
        })
      })
      if (clientGone) return
    }
    if ("error" in step) {
      const type = step.error.type ?? (step.error.status === 429 ? "rate_limit_exceeded" : "server_error")
      sendJson(
        res,
        step.error.status,
        openAiError(step.error.message, type, step.error.code ?? null),
        step.error.headers,
      )
      return
    }
    const toolCalls = "toolCalls" in step ? step.toolCalls : []
    // the Responses API lists tools flat ({type, name, parameters}); Chat Completions nests them in `function`
    const offeredTools: OpenAiTool[] =
      api === "responses"
        ? (body.tools ?? []).map((t) => {
            const flat = t as { name?: string; parameters?: JsonSchema }
            return { type: "function", function: { name: flat.name, parameters: flat.parameters } }
          })
        : (body.tools ?? [])
    const problems = toolCalls.flatMap((call) => checkToolCall(call, offeredTools))
    if (problems.length > 0) {
      fail(res, `step ${played}: ${problems.join("; ")}`)
      return
    }
    sequence += 1
    const id = `chatcmpl-scripted${sequence}`
    const created = Math.floor(Date.now() / 1000)
    const model = body.model ?? "scripted-model"
    const text = step.text ?? ""
    const calls = toolCalls.map((call, index) => ({
      id: `call_${sequence}_${index}`,
      type: "function" as const,
      function: { name: call.name, arguments: JSON.stringify(call.arguments) },
    }))
    const finishReason =
      calls.length > 0 ? "tool_calls" : "finishReason" in step ? (step.finishReason ?? "stop") : "stop"
    // Deterministic stand-in for real token counts: about four characters per token.
    const promptTokens = step.usage?.prompt_tokens ?? Math.ceil(raw.length / 4)
    const completionTokens =
      step.usage?.completion_tokens ??
      Math.max(1, Math.ceil((text.length + JSON.stringify(calls).length) / 4))
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: step.usage?.cached_tokens ?? 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
    }
    const head = { id, created, model, system_fingerprint: "fp_scripted" }

    if (api === "responses") {
      // one reasoning item (encrypted, as with store: false) before the answer, so clients must carry it
      const output: unknown[] = [
        { type: "reasoning", id: `rs_${sequence}`, encrypted_content: `enc_${sequence}`, summary: [] },
      ]
      if (text.length > 0)
        output.push({
          type: "message",
          id: `msg_${sequence}`,
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text, annotations: [] }],
        })
      for (const call of calls)
        output.push({
          type: "function_call",
          id: `fc_${call.id}`,
          call_id: call.id,
          name: call.function.name,
          arguments: call.function.arguments,
          status: "completed",
        })
      sendJson(res, 200, {
        id: `resp_scripted${sequence}`,
        object: "response",
        created_at: created,
        model,
        status: "completed",
        output,
        incomplete_details: null,
        usage: {
          input_tokens: promptTokens,
          output_tokens: completionTokens,
          input_tokens_details: { cached_tokens: step.usage?.cached_tokens ?? 0 },
          output_tokens_details: { reasoning_tokens: 0 },
        },
      })
      return
    }

    if (!body.stream) {
      const message = {
        role: "assistant",
        content: text.length > 0 ? text : null,
        refusal: null,
        ...(calls.length > 0 ? { tool_calls: calls } : {}),
      }
      sendJson(res, 200, {
        ...head,
        object: "chat.completion",
        choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
        usage,
      })
      return
    }

    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    })
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      res.write(
        `data: ${JSON.stringify({ ...head, object: "chat.completion.chunk", choices, ...extra })}\n\n`,
      )
    const delta = (value: Record<string, unknown>, finish: string | null = null) =>
      chunk([{ index: 0, delta: value, logprobs: null, finish_reason: finish }])
    delta({ role: "assistant", content: "", refusal: null })
    // Split text and arguments so clients must really assemble deltas.
    for (const piece of text.match(/[\s\S]{1,16}/g) ?? []) delta({ content: piece })
    calls.forEach((call, index) => {
      delta({
        tool_calls: [
          { index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } },
        ],
      })
      const args = call.function.arguments
      const middle = Math.ceil(args.length / 2)
      for (const part of [args.slice(0, middle), args.slice(middle)]) {
        if (part) delta({ tool_calls: [{ index, function: { arguments: part } }] })
      }
    })
    delta({}, finishReason)
    if (body.stream_options?.include_usage) chunk([], { usage })
    res.end("data: [DONE]\n\n")
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on("data", (data: Buffer) => chunks.push(data))
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8")
      const path = new URL(req.url ?? "/", "http://localhost").pathname
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = name === "authorization" ? "[redacted]" : String(value)
      }
      let body: unknown = raw
      try {
        body = raw.length > 0 ? JSON.parse(raw) : undefined
      } catch {
        // keep the raw text: the 400 below explains it
      }
      requests.push({ method: req.method ?? "GET", path, headers, body })

      if (!authorized(req)) {
        sendJson(
          res,
          401,
          openAiError(
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
          ),
        )
        return
      }
      if (req.method === "GET" && path === "/v1/models") {
        sendJson(res, 200, {
          object: "list",
          data: [
            { id: "scripted-model", object: "model", created: 1_700_000_000, owned_by: "prwright-tests" },
          ],
        })
        return
      }
      if (req.method === "POST" && (path === "/v1/chat/completions" || path === "/v1/responses")) {
        if (typeof body !== "object" || body === null) {
          fail(res, "the request body is not a JSON object")
          return
        }
        if (path === "/v1/responses" && (body as ChatRequest).stream) {
          fail(res, "streaming is not scripted for the Responses API")
          return
        }
        handleChat(res, raw, body as ChatRequest, path === "/v1/responses" ? "responses" : "chat").catch(
          (error: unknown) => {
            errors.push(`internal error: ${String(error)}`)
            if (!res.headersSent) sendJson(res, 500, openAiError(String(error), "server_error", null))
            else res.destroy()
          },
        )
        return
      }
      sendJson(
        res,
        404,
        openAiError(`Unknown request URL: ${req.method} ${path}.`, "invalid_request_error", "unknown_url"),
      )
    })
  })

  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  const { port } = server.address() as AddressInfo

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    errors,
    get played() {
      return played
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      )
    },
  }
}

/**
 * PRWRIGHT_MODEL_PRICES for the scripted model under the ids the demo and the tests configure
 * (`scripted`, `scripted-model`): it costs nothing, and a price of 0 is a price — implementing runs may
 * start under the cost cap, and their cost shows as $0.0000, not as unknown.
 */
export const SCRIPTED_MODEL_PRICES = JSON.stringify({
  scripted: { input: 0, output: 0 },
  "scripted-model": { input: 0, output: 0 },
})
