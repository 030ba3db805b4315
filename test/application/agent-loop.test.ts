/**
 * The shared agent step loop through the coding and planning agents, against the scripted model
 * server (real HTTP, the OpenAI wire format): stop rules that judge progress, observation masking,
 * condensation before and after a context overflow, in-agent retries on 429/529 with retry-after,
 * prices with cached tokens, the cost-cap refusal for unpriced models, the repair-round step budget.
 */
import { readFile } from "node:fs/promises"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { NonRetryableError } from "#domain/errors.js"
import type { ScriptStep } from "../doubles/scripted-model-server.js"
import { agentHarness, bash, bodyOf, edit, openIssue, toolOutputs, view } from "../support/agent-harness.js"

const KEY = "sk-loop-test-key-123456"
const BUGGY = "export function add(a, b) {\n  return Math.abs(a) + Math.abs(b)\n}\n"
const LONG = Array.from({ length: 400 }, (_, i) => `// line ${i + 1} ${"x".repeat(40)}`).join("\n")
const issue = openIssue({
  number: 7,
  title: "add() is wrong for negative numbers",
  body: "Steps to reproduce: node -e 'import(\"./src/math.js\").then(m => console.log(m.add(-1, -2)))' prints 3.",
})
const harness = agentHarness({
  prefix: "prwright-loop-",
  apiKey: KEY,
  issue,
  files: {
    "README.md": "# calc\n",
    "src/math.js": BUGGY,
    "src/long.js": `${LONG}\n`,
    "package.json": '{ "type": "module" }\n',
  },
})
const { start } = harness

const submit = { name: "submit", arguments: { title: "Fix add()", summary: "Fixed add()." } }
const FIX = edit({
  command: "str_replace",
  path: "src/math.js",
  old_str: "  return Math.abs(a) + Math.abs(b)",
  new_str: "  return a + b",
})

describe("stop rules that judge progress", () => {
  it("does not stop a model that edits with sed -i and re-runs the same check", async () => {
    const check = bash("grep -c 'return' src/math.js")
    const sed = (n: number) => bash(`sed -i 's/^# calc.*/# calc ${n}/' README.md`)
    const script: ScriptStep[] = [{ toolCalls: [check] }]
    for (let n = 1; n <= 5; n += 1) script.push({ toolCalls: [sed(n)] }, { toolCalls: [check] })
    script.push({ toolCalls: [submit] }, { toolCalls: [submit] })
    const { server, code } = await start(script)
    const result = await code()
    expect(server.errors).toEqual([])
    // the same check answered the same six times, but the tree changed before each: no nudge, no stop
    expect(result).toMatchObject({ outcome: "submitted", steps: 13 })
    expect(JSON.stringify(server.requests.map((r) => r.body))).not.toContain("exact call")
    expect(await readFile(path.join(harness.checkout.root, "README.md"), "utf8")).toBe("# calc 5\n")
  })

  it("still stops the same bash check repeated with nothing changed", async () => {
    const check = { toolCalls: [bash("grep -c 'return' src/math.js")] }
    const { server, code } = await start([check, check, check, check, check, { text: "unreached" }])
    const result = await code()
    expect(server.played).toBe(5)
    expect(result).toMatchObject({ outcome: "stopped", reason: "repeat", steps: 5 })
    expect(result.outcome === "stopped" && result.detail).toMatch(
      /same bash call 5 times, got the same answer/,
    )
  })

  it("planner: a Markdown text reply becomes the plan", async () => {
    const plan = "## Summary\nDrop Math.abs in add().\n\n## Steps\n1. Edit src/math.js\n2. Add a test"
    const { plan: runPlanner, events } = await start([{ toolCalls: [view("src/math.js")] }, { text: plan }])
    const result = await runPlanner()
    expect(result).toMatchObject({ plan, steps: 2, fromText: true })
    expect(events.at(-1)).toEqual({ type: "plan", plan })
  })

  it("planner: the last step forces submit_plan", async () => {
    const { server, plan } = await start([
      { toolCalls: [view("README.md")] },
      { toolCalls: [view("src/math.js")] },
      { toolCalls: [{ name: "submit_plan", arguments: { plan: "1. Fix add()" } }] },
    ])
    const result = await plan({ maxSteps: 3 })
    expect(result.plan).toBe("1. Fix add()")
    expect(bodyOf(server, 0).tool_choice).toBe("auto")
    expect(bodyOf(server, 2).tool_choice).toEqual({ type: "function", function: { name: "submit_plan" } })
    expect(JSON.stringify(bodyOf(server, 2).messages.at(-1))).toContain(
      "This is your last step: call submit_plan",
    )
  })

  it("a repair round (feedback) has its own step budget", async () => {
    const { server, code } = await start([
      { toolCalls: [view("README.md")] },
      { toolCalls: [view("src")] },
      { toolCalls: [view("package.json")] },
    ])
    const result = await code({ feedback: "tests still fail", repairSteps: 2 })
    expect(server.played).toBe(2)
    expect(result).toMatchObject({
      outcome: "stopped",
      reason: "budget",
      detail: "step limit: used all 2 of maxSteps 2",
    })
  })
})

describe("context control", () => {
  it("keeps the newest observations verbatim and masks older ones in batches", async () => {
    // 14 different views of the long file, then the fix and the submits
    const script: ScriptStep[] = []
    for (let i = 0; i < 14; i += 1)
      script.push({ toolCalls: [view("src/long.js", [i * 20 + 1, i * 20 + 20])] })
    script.push({ toolCalls: [FIX] }, { toolCalls: [submit] }, { toolCalls: [submit] })
    const { server, code } = await start(script)
    const result = await code()
    expect(result.outcome).toBe("submitted")
    for (let request = 0; request < server.requests.length; request += 1) {
      const outputs = toolOutputs(server, request)
      const verbatim = outputs.filter((o) => !o.includes("omitted to save context"))
      // the last five observations are always verbatim, and never more than 5 + the batch (5) - 1
      expect(verbatim.length).toBeGreaterThanOrEqual(Math.min(5, outputs.length))
      expect(verbatim.length).toBeLessThanOrEqual(9)
      for (const output of outputs.slice(-5)) expect(output).not.toContain("omitted to save context")
    }
    const last = toolOutputs(server, server.requests.length - 1)
    expect(last[0]).toMatch(/^"?\[older output \(\d+ chars\) omitted to save context/)
    // masking leaves the prefix alone for several steps: request n+1 starts with request n's messages
    const a = JSON.stringify(bodyOf(server, 11).messages.slice(0, 10))
    const b = JSON.stringify(bodyOf(server, 12).messages.slice(0, 10))
    expect(a).toBe(b)
  })

  it("condenses older turns with one model call before a request passes the limit, and finishes", async () => {
    const script: ScriptStep[] = []
    for (let i = 0; i < 10; i += 1)
      script.push({ toolCalls: [view("src/long.js", [i * 40 + 1, i * 40 + 40])] })
    script.push({ toolCalls: [FIX] }, { toolCalls: [submit] }, { toolCalls: [submit] })
    let condenserCalls = 0
    const { server, code, events } = await start(script, {
      // the condenser's request offers no tools: answer it with a summary
      answer: (body) => {
        if (body.tools && body.tools.length > 0) return undefined
        condenserCalls += 1
        return { text: "- viewed src/long.js lines 1-200\n- the bug is in src/math.js add()" }
      },
    })
    const result = await code({
      contextControl: { maxRequestTokens: 5_000, keepObservations: Number.POSITIVE_INFINITY },
    })
    expect(server.errors).toEqual([])
    expect(result.outcome).toBe("submitted")
    expect(condenserCalls).toBeGreaterThanOrEqual(1)
    const after = server.requests.findIndex((r) =>
      JSON.stringify(r.body).includes("Your earlier work, condensed"),
    )
    expect(after).toBeGreaterThan(0)
    expect(JSON.stringify(bodyOf(server, after))).toContain("the bug is in src/math.js add()")
    // the task stays first
    expect(JSON.stringify(bodyOf(server, after).messages[1])).toContain("## The issue")
    expect(events.some((e) => e.type === "model-call" && e.finishReason === "condense")).toBe(true)
    expect(events.some((e) => e.type === "log" && /condensed \d+ earlier turn/.test(e.message))).toBe(true)
  })

  it("a context-overflow 400 from the provider condenses and the run continues", async () => {
    const script: ScriptStep[] = []
    for (let i = 0; i < 8; i += 1)
      script.push({ toolCalls: [view("src/long.js", [i * 50 + 1, i * 50 + 50])] })
    script.push({ toolCalls: [FIX] }, { toolCalls: [submit] }, { toolCalls: [submit] })
    const { server, code, events } = await start(script, {
      maxPromptTokens: 6_000,
      answer: (body) => (body.tools && body.tools.length > 0 ? undefined : { text: "- viewed src/long.js" }),
    })
    // gpt-4.1's window is a million tokens: only the server's refusal can trigger condensing here
    const result = await code({ contextControl: { keepObservations: Number.POSITIVE_INFINITY } })
    expect(server.errors).toEqual([])
    expect(result).toMatchObject({ outcome: "submitted" })
    expect(
      events.some(
        (e) => e.type === "log" && e.message.includes("the provider answered that the request is too long"),
      ),
    ).toBe(true)
  })

  it("a context overflow that condensing cannot fix is reported as such, not as a tool-calling problem", async () => {
    const { code } = await start([], { maxPromptTokens: 100 })
    const error = await code().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NonRetryableError)
    expect((error as Error).message).toMatch(/no longer fits model gpt-4\.1's context window/)
    expect((error as Error).message).not.toContain("tool calling")
  })
})

describe("model-call retries inside the agent", () => {
  it("rides out 429 and 529 answers with retry-after and completes the run", async () => {
    const overloaded = (status: number, headers: Record<string, string>): ScriptStep => ({
      error: { status, message: status === 529 ? "Overloaded" : "Rate limit reached", headers },
    })
    const { server, code, events } = await start([
      overloaded(429, { "retry-after": "0" }),
      overloaded(529, { "retry-after": "1" }),
      overloaded(529, { "retry-after-ms": "30" }),
      { toolCalls: [FIX] },
      overloaded(429, { "retry-after": "0" }),
      overloaded(503, {}),
      { toolCalls: [submit] },
      overloaded(529, { "retry-after": "0" }),
      { toolCalls: [submit] },
    ])
    const started = Date.now()
    const result = await code({ maxRetries: undefined, retry: { baseDelayMs: 10 } })
    expect(server.errors).toEqual([])
    expect(result).toMatchObject({ outcome: "submitted", steps: 3 })
    expect(server.played).toBe(9)
    // the retry-after of 1 s was honoured
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000)
    const retries = events.filter((e) => e.type === "log" && e.message.includes("retry"))
    expect(retries).toHaveLength(6)
    expect(retries.map((e) => e.type === "log" && e.message)).toContain(
      "the model call failed (HTTP 529); retry 2 in 1.0 s",
    )
  })

  it("does not count a retry wait as the model being idle", async () => {
    const { code } = await start([
      { error: { status: 529, message: "Overloaded", headers: { "retry-after": "1" } } },
      { toolCalls: [submit] },
      { toolCalls: [submit] },
    ])
    const result = await code({
      maxRetries: undefined,
      budget: { maxSteps: 5, idleMs: 400, wallClockMs: 30_000 },
    })
    expect(result).toMatchObject({ outcome: "submitted" })
  })

  it("gives up after maxRetries and reports a retryable error", async () => {
    const busy: ScriptStep = {
      error: { status: 529, message: "Overloaded", headers: { "retry-after": "0" } },
    }
    const { server, code } = await start([busy, busy, busy, busy])
    const error = await code({ maxRetries: 2 }).catch((e: unknown) => e)
    expect((error as Error).message).toContain("HTTP 529")
    expect(server.played).toBe(3)
  })
})

describe("prices and the cost cap", () => {
  it("prices cached input at the cache-read rate", async () => {
    const { code, events } = await start([
      { toolCalls: [FIX], usage: { prompt_tokens: 1000, completion_tokens: 10, cached_tokens: 800 } },
      { toolCalls: [submit], usage: { prompt_tokens: 1000, completion_tokens: 10 } },
      { toolCalls: [submit], usage: { prompt_tokens: 1000, completion_tokens: 10 } },
    ])
    const result = await code()
    const calls = events.filter((e) => e.type === "model-call")
    // gpt-4.1: $2 input, $0.50 cached input, $8 output per million
    expect(calls[0]).toMatchObject({ costUsd: (200 * 2 + 800 * 0.5 + 10 * 8) / 1e6 })
    expect(calls[1]).toMatchObject({ costUsd: (1000 * 2 + 10 * 8) / 1e6 })
    expect(result.costKnown).toBe(true)
  })

  it("refuses a cost cap over a model without a price, unless unpriced models are allowed", async () => {
    const { code, server } = await start(
      [{ toolCalls: [submit] }],
      {},
      {
        provider: "openai-compatible",
        model: "local-llama",
      },
    )
    const error = await code({ budget: { maxSteps: 5, maxCostUsd: 1 } }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NonRetryableError)
    expect((error as Error).message).toMatch(/no price.*PRWRIGHT_MODEL_PRICES.*PRWRIGHT_ALLOW_UNPRICED=1/)
    expect(server.requests).toHaveLength(0)

    const allowed = await start(
      [{ toolCalls: [submit] }, { toolCalls: [submit] }],
      {},
      {
        provider: "openai-compatible",
        model: "local-llama",
        allowUnpriced: true,
      },
    )
    const result = await allowed.code({ budget: { maxSteps: 5, maxCostUsd: 1 } })
    expect(result).toMatchObject({ outcome: "submitted", costKnown: false })
    expect(allowed.events[0]).toMatchObject({
      type: "log",
      level: "warn",
      message: expect.stringContaining("unknown"),
    })
  })
})

describe("a reasoning model through the Responses API", () => {
  it("runs the tool loop on /v1/responses and carries the encrypted reasoning between tool calls", async () => {
    const { server, code } = await start(
      [{ toolCalls: [FIX] }, { toolCalls: [submit] }, { toolCalls: [submit] }],
      {},
      { model: "o4-mini", openaiApi: "responses", reasoningEffort: "low" },
    )
    const result = await code({ budget: { maxSteps: 5 } })
    expect(server.errors).toEqual([])
    expect(result).toMatchObject({ outcome: "submitted", editedPaths: ["src/math.js"] })
    expect(server.requests.map((r) => r.path)).toEqual(["/v1/responses", "/v1/responses", "/v1/responses"])
    const second = server.requests[1]?.body as {
      input: Array<Record<string, unknown>>
      reasoning?: unknown
      store?: boolean
    }
    expect(second).toMatchObject({ store: false, reasoning: { effort: "low" } })
    expect(second.input).toContainEqual(
      expect.objectContaining({ type: "reasoning", encrypted_content: "enc_1" }),
    )
    expect(second.input).toContainEqual(expect.objectContaining({ type: "function_call_output" }))
  })
})
