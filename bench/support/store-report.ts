/**
 * The human-readable side-by-side table of the store benchmark, with the targets and a
 * PASS/MISS verdict for each.
 */
import {
  type AppendResult,
  EXTRA_SCENARIOS,
  type Latency,
  type ListResult,
  type ListScenario,
  MIX_SCENARIOS,
} from "./store-measure.js"
import type { SpendingResult } from "./store-spending.js"

export const TARGET_EVENTS_PER_SEC = 5000
export const TARGET_LIST_P50_MS = 10

export interface DialectResult {
  eventsPerSec: number
  listP50Ms: number
  listP99Ms: number
  listEventsP50Ms: number
  seeded: { runs: number; events: number; megabytes: number; seconds: number }
  append: AppendResult
  listRuns: ListResult
  listEvents: Latency & { eventsPerCall: number }
  /** the spending guard, old way against new (store-spending.ts) */
  spending: SpendingResult
}

/** A dialect that could not be measured (server down, bad URL) keeps its column, with the reason. */
export type DialectOutcome = DialectResult | { error: string }

export const isMeasured = (outcome: DialectOutcome | undefined): outcome is DialectResult =>
  outcome !== undefined && !("error" in outcome)

export const meetsTargets = (result: DialectResult): boolean =>
  result.eventsPerSec >= TARGET_EVENTS_PER_SEC && result.listP50Ms < TARGET_LIST_P50_MS

const LABEL_WIDTH = 36
const COLUMN_WIDTH = 22

const ms = (value: number) => `${value.toFixed(2)} ms`
const p50p99 = (latency: Latency) => `${latency.p50Ms.toFixed(2)} / ${latency.p99Ms.toFixed(2)} ms`
const verdict = (ok: boolean) => (ok ? "PASS" : "MISS")

export const formatTable = (outcomes: Array<[string, DialectOutcome]>): string => {
  const row = (label: string, cell: (r: DialectResult) => string) =>
    label.padEnd(LABEL_WIDTH) +
    outcomes.map(([, o]) => (isMeasured(o) ? cell(o) : "failed").padStart(COLUMN_WIDTH)).join("")
  const scenario = (name: ListScenario) =>
    row(`  ${name} p50 / p99`, (r) => p50p99(r.listRuns.byScenario[name]))
  const medianRepetition = (r: DialectResult) =>
    r.append.repetitions.find((x) => x.eventsPerSec === r.eventsPerSec)

  const lines = [
    "".padEnd(LABEL_WIDTH) + outcomes.map(([name]) => name.padStart(COLUMN_WIDTH)).join(""),
    row("seeded runs / events", (r) => `${r.seeded.runs} / ${r.seeded.events}`),
    row("database size, seed time", (r) => `${r.seeded.megabytes} MB, ${r.seeded.seconds} s`),
    row(
      `appendEvents events/s (≥ ${TARGET_EVENTS_PER_SEC})`,
      (r) => `${r.eventsPerSec} ${verdict(r.eventsPerSec >= TARGET_EVENTS_PER_SEC)}`,
    ),
    row("  each repetition", (r) => r.append.repetitions.map((x) => x.eventsPerSec).join(" / ")),
    row("  per call p50 / p99", (r) => {
      const median = medianRepetition(r)
      return median ? p50p99(median.callLatency) : "n/a"
    }),
    row(
      `listRuns p50 (< ${TARGET_LIST_P50_MS} ms)`,
      (r) => `${ms(r.listP50Ms)} ${verdict(r.listP50Ms < TARGET_LIST_P50_MS)}`,
    ),
    row("listRuns p99", (r) => ms(r.listP99Ms)),
    ...MIX_SCENARIOS.map(scenario),
    "listRuns, not in the target mix:",
    ...EXTRA_SCENARIOS.map(scenario),
    row("listEvents(afterSeq) p50 / p99", (r) => p50p99(r.listEvents)),
  ]
  for (const [name, outcome] of outcomes) {
    if (!isMeasured(outcome)) lines.push(`\n${name} failed: ${outcome.error}`)
  }
  return lines.join("\n")
}
