/**
 * The measured part of the store benchmark: only public RunStore calls, timed one by one.
 * Inputs are generated before the clock starts, from a seeded PRNG, so both dialects see the same
 * sequence of calls.
 */
import { performance } from "node:perf_hooks"
import type { RunFilter, RunStore } from "#application/ports/run-store.js"
import type { RunEventData } from "#domain/run-event.js"
import {
  REPO_COUNT,
  repoName,
  runId,
  type SeedPlan,
  STATUSES,
  seededEventCount,
  TYPES,
} from "./store-seed.js"

export const createRandom = (seed: number): (() => number) => {
  let state = seed >>> 0
  // mulberry32: tiny, fast, good enough to pick benchmark inputs reproducibly
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface Latency {
  count: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

export const summarize = (samples: number[]): Latency => {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  const round = (ms: number) => Math.round(ms * 1000) / 1000
  return {
    count: sorted.length,
    p50Ms: round(at(0.5)),
    p99Ms: round(at(0.99)),
    maxMs: round(sorted.at(-1) ?? 0),
  }
}

/**
 * better-sqlite3 is synchronous, so a SQLite benchmark is one long chain of microtasks and Node
 * would not handle Ctrl-C (and clean up) until it ends; a macrotask between steps lets it.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const timed = async <T>(samples: number[], call: () => Promise<T>): Promise<T> => {
  const start = performance.now()
  const result = await call()
  samples.push(performance.now() - start)
  return result
}

// ─────────────────────────── appendEvents ───────────────────────────

const TEXT =
  "Reading the loader first: it swallows parse errors and returns defaults, which explains why the retry " +
  "budget from the issue is ignored. Next I will check the schema, then write a failing test for trailing " +
  "commas before changing the parser. The README documents the option but not the fallback behaviour."

/** Events as the agent loop emits them, 200–500 bytes of JSON each. */
const sampleEvent = (random: () => number): RunEventData => {
  const text = TEXT.slice(0, 120 + Math.floor(random() * 200))
  const id = `call_${Math.floor(random() * 1e9)}`
  switch (Math.floor(random() * 6)) {
    case 0:
      return {
        type: "model-call",
        model: "gpt-4.1-mini",
        inputTokens: 1000 + Math.floor(random() * 30000),
        outputTokens: 50 + Math.floor(random() * 2000),
        costUsd: Math.round(random() * 900) / 10000,
        latencyMs: 300 + Math.floor(random() * 9000),
        finishReason: "tool-calls",
      }
    case 1:
      return {
        type: "tool-call",
        toolCallId: id,
        tool: "read_file",
        input: { path: "src/config/load.ts", text },
      }
    case 2:
      return {
        type: "tool-result",
        toolCallId: id,
        tool: "read_file",
        output: text,
        bytes: 4096,
        truncated: false,
      }
    case 3:
      return { type: "assistant-text", text }
    case 4:
      return { type: "log", level: "info", message: text }
    default:
      return { type: "progress", progress: Math.round(random() * 100) / 100, message: text }
  }
}

export interface AppendResult {
  /** events per second of the median repetition; `repetitions` holds each one */
  eventsPerSec: number
  repetitions: AppendRepetition[]
}

export interface AppendRepetition {
  events: number
  calls: number
  seconds: number
  eventsPerSec: number
  callLatency: Latency
}

/**
 * `concurrency` appenders, each owning its own runs (one worker per run, as in production), append
 * batches of 1–5 events until `total` events are stored. The runs are the newest seeded ones: the
 * runs that are active are the recent ones.
 */
const measureAppendOnce = async (
  store: RunStore,
  plan: SeedPlan,
  options: { total: number; concurrency: number; runsPerAppender: number; seed: number },
): Promise<AppendRepetition> => {
  const random = createRandom(options.seed)
  const calls: Array<{ runId: string; events: RunEventData[] }>[] = []
  for (let worker = 0; worker < options.concurrency; worker++) calls.push([])
  const owned = (worker: number, k: number) =>
    runId(plan, Math.max(0, plan.runs - 1 - (worker * options.runsPerAppender + k)))
  let planned = 0
  for (let call = 0; planned < options.total; call++) {
    const worker = call % options.concurrency
    const size = Math.min(options.total - planned, 1 + Math.floor(random() * 5))
    const events = Array.from({ length: size }, () => sampleEvent(random))
    calls[worker]?.push({ runId: owned(worker, Math.floor(random() * options.runsPerAppender)), events })
    planned += size
  }

  const samples: number[] = []
  const start = performance.now()
  await Promise.all(
    calls.map(async (queue) => {
      for (const { runId: id, events } of queue) await timed(samples, () => store.appendEvents(id, events))
    }),
  )
  const seconds = (performance.now() - start) / 1000
  return {
    events: planned,
    calls: samples.length,
    seconds: Math.round(seconds * 100) / 100,
    eventsPerSec: Math.round(planned / seconds),
    callLatency: summarize(samples),
  }
}

/**
 * Repeats the append phase and keeps the median: other processes on a small machine make single
 * runs swing by 2x, the median of a few is stable enough to compare changes.
 */
export const measureAppend = async (
  store: RunStore,
  plan: SeedPlan,
  options: { total: number; concurrency: number; runsPerAppender: number; repetitions: number },
): Promise<AppendResult> => {
  const repetitions: AppendRepetition[] = []
  for (let seed = 1; seed <= options.repetitions; seed++) {
    await yieldToEventLoop()
    repetitions.push(await measureAppendOnce(store, plan, { ...options, seed }))
  }
  const sorted = [...repetitions].sort((a, b) => a.eventsPerSec - b.eventsPerSec)
  const median = sorted[Math.floor(sorted.length / 2)]
  return { eventsPerSec: median?.eventsPerSec ?? 0, repetitions }
}

// ─────────────────────────── listRuns ───────────────────────────

/** The mix the target is judged on: first pages of the usual listings, and pages 2–5 of them. */
export const MIX_SCENARIOS = ["newest", "status", "repo", "type", "cursor"] as const
/** Reported beside the mix: narrower filters, and a page deep in the history. */
export const EXTRA_SCENARIOS = ["issue", "repo+status", "deep"] as const
export type ListScenario = (typeof MIX_SCENARIOS)[number] | (typeof EXTRA_SCENARIOS)[number]

export interface ListResult {
  /** every call of the mix */
  mix: Latency
  byScenario: Record<ListScenario, Latency>
}

/**
 * Rounds of: first page unfiltered, by status, by repo, by type, then pages 2–5 of a random one of
 * those listings following nextCursor; plus, outside the mix, one issue's runs (repo + issue number)
 * and repo + status. Then "deep": the page after half of all runs, reached by following cursors.
 */
export const measureListRuns = async (
  store: RunStore,
  plan: SeedPlan,
  options: { rounds: number; deepCalls: number },
): Promise<ListResult> => {
  const random = createRandom(7)
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T
  const repo = () => repoName(Math.floor(random() * REPO_COUNT))
  const mixFilters = (): Array<[ListScenario, RunFilter]> => [
    ["newest", { limit: 50 }],
    ["status", { limit: 50, status: pick(STATUSES) }],
    ["repo", { limit: 50, repoFullName: repo() }],
    ["type", { limit: 50, type: pick(TYPES) }],
  ]
  const extraFilters = async (): Promise<Array<[ListScenario, RunFilter]>> => {
    const run = await store.getRun(runId(plan, Math.floor(random() * plan.runs)))
    const issue: RunFilter = {
      limit: 50,
      repoFullName: run?.repoFullName ?? repo(),
      issueNumber: run?.issueNumber ?? 1,
    }
    return [
      ["issue", issue],
      ["repo+status", { limit: 50, repoFullName: repo(), status: pick(STATUSES) }],
    ]
  }
  const samples: Record<ListScenario, number[]> = {
    newest: [],
    status: [],
    repo: [],
    type: [],
    cursor: [],
    issue: [],
    "repo+status": [],
    deep: [],
  }

  // Warm-up: the first calls pay for connections and cold caches, which a running server has paid.
  for (const [, filter] of [...mixFilters(), ...(await extraFilters())]) await store.listRuns(filter)

  for (let round = 0; round < options.rounds; round++) {
    await yieldToEventLoop()
    const firstPages = mixFilters()
    for (const [scenario, filter] of [...firstPages, ...(await extraFilters())]) {
      await timed(samples[scenario], () => store.listRuns(filter))
    }
    let [, filter] = pick(firstPages)
    let page = await store.listRuns(filter)
    for (let n = 2; n <= 5 && page.nextCursor; n++) {
      filter = { ...filter, cursor: page.nextCursor }
      page = await timed(samples.cursor, () => store.listRuns(filter))
    }
  }

  let cursor: string | undefined
  for (let seen = 0; seen < plan.runs / 2; ) {
    const page = await store.listRuns(cursor ? { limit: 200, cursor } : { limit: 200 })
    seen += page.runs.length
    cursor = page.nextCursor
    if (!cursor) break
  }
  const deep: RunFilter = cursor ? { limit: 50, cursor } : { limit: 50 }
  for (let call = 0; call < options.deepCalls; call++) await timed(samples.deep, () => store.listRuns(deep))

  return {
    mix: summarize(MIX_SCENARIOS.flatMap((scenario) => samples[scenario])),
    byScenario: Object.fromEntries(
      Object.entries(samples).map(([name, values]) => [name, summarize(values)]),
    ) as Record<ListScenario, Latency>,
  }
}

// ─────────────────────────── listEvents ───────────────────────────

/** listEvents(runId, { afterSeq }) on random seeded runs: what an SSE client resuming after a reconnect asks. */
export const measureListEvents = async (
  store: RunStore,
  plan: SeedPlan,
  options: { calls: number },
): Promise<Latency & { eventsPerCall: number }> => {
  const random = createRandom(99)
  const samples: number[] = []
  let returned = 0
  for (let call = 0; call < options.calls; call++) {
    if (call % 50 === 0) await yieldToEventLoop()
    const index = Math.floor(random() * plan.runs)
    const afterSeq = Math.floor(random() * seededEventCount(plan, index))
    const events = await timed(samples, () => store.listEvents(runId(plan, index), { afterSeq }))
    returned += events.length
  }
  return { ...summarize(samples), eventsPerCall: Math.round((returned / options.calls) * 10) / 10 }
}
