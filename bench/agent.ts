/**
 * `npm run bench:agent`: what context control saves on long agent runs.
 *
 *   node --conditions=prwright-source --import tsx bench/agent.ts [--json] [--steps N]
 *
 * Two scripted 64-step implementing runs through the real coding agent (real tools on a generated
 * checkout, a shell sandbox, the scripted OpenAI-compatible model server over HTTP, which counts a
 * request's prompt tokens as its characters / 4):
 *   - "typical": ordinary exploration, views of 80–120 lines, searches and short test logs;
 *   - "heavy":   long views (150–200 lines) and long test logs.
 * Each is run twice in the same process: unmanaged (today's behaviour before issue 10: every tool
 * output re-sent verbatim forever, no condensation) and managed (the defaults: the newest 5 outputs
 * verbatim, older ones masked five at a time, condensation before 70% of the window). Reported per
 * scenario: total input tokens, the largest single request (peak), the managed/unmanaged ratio, the
 * cost at a list price without cache discounts, and whether the newest 5 observations were verbatim
 * in every managed request. With --json the last line of stdout is one JSON object.
 */
import { mkdtemp, rm } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { parseArgs } from "node:util"
import { createModelHandle } from "#adapters/model/ai-sdk-model.js"
import { runCodingAgent } from "#application/agent/coding-agent.js"
import type { ContextOptions } from "#application/agent/context.js"
import type { RunEventData } from "#domain/run-event.js"
import {
  type ScriptedToolCall,
  type ScriptStep,
  startScriptedModelServer,
} from "../test/doubles/scripted-model-server.js"
import { createShellSandbox } from "../test/doubles/shell-sandbox.js"
import { createTempCheckout } from "../test/doubles/temp-checkout.js"

const TARGET_RATIO = 0.4
const TARGET_PEAK = 48_000
const KEEP = 5
/** priced as this model (list price, no cache discounts) for the cost column */
const PRICED_AS = "claude-sonnet-4-5"

const { values: args } = parseArgs({
  options: { json: { type: "boolean", default: false }, steps: { type: "string", default: "64" } },
})
const STEPS = Math.max(8, Number(args.steps))
const log = (line: string) => process.stderr.write(`${line}\n`)

/** a deterministic pseudo-random source, so both modes and every run see the same script */
const seeded = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}

const sourceFile = (module: number, lines: number): string => {
  const out: string[] = [
    `// module ${module}: generated for the agent benchmark`,
    `import { helper } from "./util.js"`,
    "",
  ]
  for (let i = 0; out.length < lines; i += 1) {
    out.push(`export function step${module}_${i}(input, options = {}) {`)
    out.push(`  const value = helper(input, { ...options, index: ${i}, module: ${module} })`)
    out.push(
      `  if (value === undefined) throw new Error("module ${module} step ${i}: no value for " + String(input))`,
    )
    out.push(`  return { value, label: "module-${module}-step-${i}", weight: ${(i * 7) % 13} }`)
    out.push("}")
    out.push("")
  }
  return `${out.slice(0, lines).join("\n")}\n`
}

const testLog = (run: number, lines: number): string => {
  const out: string[] = []
  for (let i = 0; i < lines; i += 1)
    out.push(
      i % 17 === 5
        ? `not ok ${i} - module ${i % 40} step ${run}: expected { value: ${i} } got undefined at src/module${i % 40}.js:${(i * 13) % 300}`
        : `ok ${i} - module ${i % 40} handles case ${run}-${i} (${(i * 3) % 50} ms)`,
    )
  return `${out.join("\n")}\n`
}

const files = (): Record<string, string> => {
  const out: Record<string, string> = {
    "package.json": '{ "type": "module", "scripts": { "test": "node --test" } }\n',
    "README.md": "# bench\n",
    "src/util.js": "export const helper = (input, options) => (input ?? options.index)\n",
  }
  for (let m = 0; m < 40; m += 1) out[`src/module${m}.js`] = sourceFile(m, 320)
  for (let r = 0; r < 24; r += 1) out[`logs/run${r}.txt`] = testLog(r, 400)
  return out
}

const edit = (args: Record<string, unknown>): ScriptedToolCall => ({
  name: "str_replace_based_edit_tool",
  arguments: args,
})

/** 64 steps: STEPS - 3 observations, one edit, two submits */
const script = (kind: "typical" | "heavy"): ScriptStep[] => {
  const random = seeded(kind === "typical" ? 7 : 11)
  const steps: ScriptStep[] = []
  for (let i = 0; i < STEPS - 3; i += 1) {
    const roll = random()
    const module = Math.floor(random() * 40)
    const from = 1 + Math.floor(random() * 120)
    let call: ScriptedToolCall
    if (kind === "typical") {
      if (roll < 0.6)
        call = edit({
          command: "view",
          path: `src/module${module}.js`,
          view_range: [from, from + 79 + Math.floor(random() * 40)],
        })
      else if (roll < 0.8)
        call = { name: "search", arguments: { pattern: `step${module}_${Math.floor(random() * 9)}\\b` } }
      else
        call = {
          name: "bash",
          arguments: { command: `sed -n '${from},${from + 69}p' logs/run${i % 24}.txt` },
        }
    } else if (roll < 0.55)
      call = edit({
        command: "view",
        path: `src/module${module}.js`,
        view_range: [from, from + 149 + Math.floor(random() * 50)],
      })
    else if (roll < 0.65)
      call = { name: "search", arguments: { pattern: `module ${module}|step${module}_1` } }
    else
      call = { name: "bash", arguments: { command: `sed -n '${from},${from + 139}p' logs/run${i % 24}.txt` } }
    steps.push({ text: i % 4 === 0 ? `Step ${i + 1}: looking at module ${module}.` : "", toolCalls: [call] })
  }
  steps.push({
    toolCalls: [
      edit({
        command: "str_replace",
        path: "src/util.js",
        old_str: "(input ?? options.index)",
        new_str: "(input ?? options.index ?? 0)",
      }),
    ],
  })
  const submit: ScriptedToolCall = {
    name: "submit",
    arguments: { title: "Default helper to 0", summary: "helper() returns 0 without input." },
  }
  steps.push({ toolCalls: [submit] }, { toolCalls: [submit] })
  return steps
}

interface Measured {
  totalInputTokens: number
  peakTokens: number
  requests: number
  costUsd: number
  /** requests whose newest min(5, n) tool outputs were all verbatim */
  verbatimRequests: number
  maskedOutputs: number
  outcome: string
}

const measure = async (
  kind: "typical" | "heavy",
  contextControl: ContextOptions | undefined,
): Promise<Measured> => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "prwright-bench-agent-"))
  try {
    const checkout = await createTempCheckout(path.join(dir, "repo"), files())
    const server = await startScriptedModelServer({ script: script(kind) })
    try {
      const model = createModelHandle({
        provider: "openai",
        model: PRICED_AS,
        baseURL: server.baseUrl,
        apiKey: "bench",
      })
      const events: RunEventData[] = []
      const result = await runCodingAgent({
        model,
        checkout,
        sandbox: createShellSandbox(),
        repoFullName: "bench/agent",
        issue: {
          number: 1,
          title: "helper() returns undefined without input",
          body: "Calling a step without input throws 'no value'. It should default to 0.",
          state: "open",
          htmlUrl: "https://github.com/bench/agent/issues/1",
          author: "someone",
          labels: [],
          isPullRequest: false,
        },
        budget: { maxSteps: STEPS + 5 },
        signal: new AbortController().signal,
        maxRetries: 0,
        onEvent: (event) => {
          events.push(event)
        },
        syntaxCheck: false,
        ...(contextControl ? { contextControl } : {}),
      })
      if (server.errors.length > 0) throw new Error(`script problems: ${server.errors.join("; ")}`)
      const calls = events.filter((e) => e.type === "model-call")
      const tokens = calls.map((e) => (e.type === "model-call" ? e.inputTokens : 0))
      let verbatimRequests = 0
      let maskedOutputs = 0
      for (const request of server.requests) {
        const messages =
          (request.body as { messages?: Array<{ role: string; content: unknown }> }).messages ?? []
        const outputs = messages.filter((m) => m.role === "tool").map((m) => String(m.content))
        const masked = outputs.filter((o) => o.includes("omitted to save context"))
        maskedOutputs = Math.max(maskedOutputs, masked.length)
        if (outputs.slice(-KEEP).every((o) => !o.includes("omitted to save context"))) verbatimRequests += 1
      }
      return {
        totalInputTokens: tokens.reduce((a, b) => a + b, 0),
        peakTokens: Math.max(...tokens),
        requests: calls.length,
        costUsd:
          Math.round(calls.reduce((sum, e) => sum + (e.type === "model-call" ? e.costUsd : 0), 0) * 100) /
          100,
        verbatimRequests,
        maskedOutputs,
        outcome: result.outcome,
      }
    } finally {
      await server.close()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const UNMANAGED: ContextOptions = { keepObservations: Number.POSITIVE_INFINITY, condense: false }

const report: Record<string, unknown> = { steps: STEPS, pricedAs: PRICED_AS }
let met = true
for (const kind of ["typical", "heavy"] as const) {
  log(`${kind}: unmanaged (every output verbatim, no condensation)…`)
  const before = await measure(kind, UNMANAGED)
  log(`${kind}: managed (defaults)…`)
  const after = await measure(kind, undefined)
  const ratio = Math.round((after.totalInputTokens / before.totalInputTokens) * 1000) / 1000
  const verbatim = after.verbatimRequests === after.requests
  const ok =
    ratio <= TARGET_RATIO && after.peakTokens <= TARGET_PEAK && verbatim && after.outcome === "submitted"
  met &&= ok
  log(
    `${kind}: total input ${before.totalInputTokens.toLocaleString("en-US")} → ${after.totalInputTokens.toLocaleString("en-US")} tokens (ratio ${ratio}, target ≤ ${TARGET_RATIO}); peak ${before.peakTokens.toLocaleString("en-US")} → ${after.peakTokens.toLocaleString("en-US")} (target ≤ ${TARGET_PEAK.toLocaleString("en-US")}); cost $${before.costUsd} → $${after.costUsd} at ${PRICED_AS} list price; newest ${KEEP} outputs verbatim in ${after.verbatimRequests}/${after.requests} requests ${ok ? "✅" : "❌"}`,
  )
  report[kind] = {
    totalInputTokens: after.totalInputTokens,
    peakTokens: after.peakTokens,
    ratioToUnmanaged: ratio,
    costUsd: after.costUsd,
    lastObservationsVerbatim: verbatim,
    requests: after.requests,
    outcome: after.outcome,
    unmanaged: {
      totalInputTokens: before.totalInputTokens,
      peakTokens: before.peakTokens,
      costUsd: before.costUsd,
      outcome: before.outcome,
    },
  }
}
report.targets = { ratioToUnmanaged: TARGET_RATIO, peakTokens: TARGET_PEAK, met }
if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`)
else process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
if (!met) process.exitCode = 1
