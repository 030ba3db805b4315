/**
 * The spending guard's cost per run request (src/application/spending-limits.ts), the old way against
 * the new, on one SQL store: `monthRuns` runs created this month (UTC) across the installations'
 * repositories, `historyRuns` more in the five months before. Every limit is set, so each check sums
 * both scopes, and the guard reads the two settings rows as the server does.
 *
 * - old: the guard on a store without `spentCost`, which pages listRuns 200 at a time over the
 *   repository's month and over EVERY run of the month for the installation (spentByListing);
 * - new: the same guard on the store itself, one aggregate query per scope (RunStore.spentCost).
 *
 * Both answer every check identically or the measurement fails.
 */
import { performance } from "node:perf_hooks"
import { isDeepStrictEqual } from "node:util"
import type { Insertable } from "kysely"
import type { RunsTable } from "#adapters/store/sql/database.js"
import type { SqlRunStore } from "#adapters/store/sql/sql-run-store.js"
import type { RunStore } from "#application/ports/run-store.js"
import { createSpendingGuard, installationSettingsKey } from "#application/spending-limits.js"
import { spendingByListing } from "../../test/support/spent-by-listing.js"
import { createRandom, type Latency, summarize, yieldToEventLoop } from "./store-measure.js"

export interface SpendingResult {
  monthRuns: number
  historyRuns: number
  /** the repository asked about, and how many of the month's runs its scope and its installation's hold */
  repo: string
  repoMonthRuns: number
  installationMonthRuns: number
  old: Latency
  new: Latency
  /** old p50 / new p50 */
  ratio: number
}

/** 10 owners; acme holds 40% of the runs, its repositories stored in two cases (the installation matches both) */
const OWNERS = ["acme", "Acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell"]
const ownerOf = (u: number) => OWNERS[u < 0.25 ? 0 : u < 0.4 ? 1 : 2 + Math.floor(((u - 0.4) / 0.6) * 8)]
const REPO = "acme/app-0"

const startOfMonth = (at: Date) => Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)

const seed = async (store: SqlRunStore, now: Date, monthRuns: number, historyRuns: number) => {
  const random = createRandom(12)
  const monthStart = startOfMonth(now)
  const historyStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 5, 1)
  const rows: Array<Insertable<RunsTable>> = []
  const add = (index: number, createdAt: number) => {
    const repo = `${ownerOf(random())}/app-${Math.floor(random() * 8)}`
    rows.push({
      id: `spend_${String(index).padStart(7, "0")}`,
      type: "comment-on-issue",
      status: random() < 0.8 ? "completed" : "failed",
      repo_full_name: repo,
      issue_number: 1 + Math.floor(random() * 500),
      priority: "normal",
      input: JSON.stringify({ repoFullName: repo }),
      trigger: JSON.stringify({ source: "webhook", actor: "alice" }),
      attempts: 1,
      max_attempts: 3,
      progress: 1,
      progress_message: null,
      artifacts: "{}",
      input_tokens: 20_000,
      output_tokens: 1_000,
      cost_usd: Math.round(random() * 400) / 1000,
      summary: "done",
      error: null,
      created_at: createdAt,
      updated_at: createdAt + 60_000,
      started_at: createdAt + 1_000,
      finished_at: createdAt + 60_000,
    })
  }
  const span = (from: number, to: number, count: number, offset: number) => {
    for (let i = 0; i < count; i++) add(offset + i, from + Math.floor(((to - from) * (i + random())) / count))
  }
  span(historyStart, monthStart, historyRuns, 0)
  span(monthStart, now.getTime(), monthRuns, historyRuns)
  for (let i = 0; i < rows.length; i += 500) {
    await store.db
      .insertInto("runs")
      .values(rows.slice(i, i + 500))
      .execute()
    await yieldToEventLoop()
  }
  const month = rows.filter((row) => row.created_at >= monthStart)
  return {
    repoMonthRuns: month.filter((row) => row.repo_full_name === REPO).length,
    installationMonthRuns: month.filter((row) => row.repo_full_name.toLowerCase().startsWith("acme/")).length,
  }
}

export const measureSpending = async (
  store: SqlRunStore,
  options: { monthRuns: number; historyRuns: number; rounds: number },
): Promise<SpendingResult> => {
  const now = new Date()
  const counts = await seed(store, now, options.monthRuns, options.historyRuns)
  // settings rows exist, as they would for an installation that set its own limits
  await store.putRepoSettings(REPO, { dailyLimitUsd: 5_000 })
  await store.putRepoSettings(installationSettingsKey("acme"), { monthlyLimitUsd: 100_000 })
  const limits = { dailyUsd: 1e6, monthlyUsd: 1e6, installationDailyUsd: 1e6, installationMonthlyUsd: 1e6 }
  const guardOn = (runs: Pick<RunStore, "spentCost">) =>
    createSpendingGuard({ runs, settings: store, limits, now: () => now })
  const newGuard = guardOn(store)
  // paging listRuns over the month, which is what every check did before spentCost
  const oldGuard = guardOn(spendingByListing(store))

  const expected = await oldGuard(REPO)
  const answer = await newGuard(REPO)
  const close = (a: unknown, b: unknown) =>
    isDeepStrictEqual(a, b) ||
    // the database may add the month's costs in another order than JavaScript did
    (typeof a === "object" &&
      a !== null &&
      typeof b === "object" &&
      b !== null &&
      Object.entries(a).every(([key, value]) => {
        const other = (b as Record<string, unknown>)[key]
        return typeof value === "number" && typeof other === "number"
          ? Math.abs(value - other) < 1e-6
          : isDeepStrictEqual(value, other)
      }))
  if (!close(expected, answer) || !expected.ok || expected.remainingUsd === undefined) {
    throw new Error(`the guards disagree: old ${JSON.stringify(expected)}, new ${JSON.stringify(answer)}`)
  }

  const samples = { old: [] as number[], new: [] as number[] }
  for (let round = 0; round < options.rounds + 3; round++) {
    // alternating, so drift on a shared machine hits both alike; the first three rounds warm up
    for (const [name, guard] of [
      ["old", oldGuard],
      ["new", newGuard],
    ] as const) {
      const start = performance.now()
      await guard(REPO)
      if (round >= 3) samples[name].push(performance.now() - start)
      await yieldToEventLoop()
    }
  }
  const old = summarize(samples.old)
  const latest = summarize(samples.new)
  return {
    monthRuns: options.monthRuns,
    historyRuns: options.historyRuns,
    repo: REPO,
    ...counts,
    old,
    new: latest,
    ratio: Math.round((old.p50Ms / Math.max(latest.p50Ms, 0.001)) * 10) / 10,
  }
}

/** The side-by-side table of the spending guard's check, old way and new, per dialect. */
export const formatSpending = (outcomes: Array<[string, SpendingResult | { error: string }]>): string => {
  const measured = outcomes.filter((o): o is [string, SpendingResult] => !("error" in o[1]))
  const first = measured[0]?.[1]
  const row = (label: string, cell: (r: SpendingResult) => string) =>
    label.padEnd(44) + outcomes.map(([, o]) => ("error" in o ? "failed" : cell(o)).padStart(22)).join("")
  const p50p99 = (l: Latency) => `${l.p50Ms.toFixed(2)} / ${l.p99Ms.toFixed(2)} ms`
  const lines = [
    `Spending guard per run request${first ? ` (${first.monthRuns} runs this month, ${first.historyRuns} before; ${first.repo}: ${first.repoMonthRuns} this month, its installation ${first.installationMonthRuns})` : ""}`,
    "".padEnd(44) + outcomes.map(([name]) => name.padStart(22)).join(""),
    row("old: paging listRuns, p50 / p99", (r) => p50p99(r.old)),
    row("new: RunStore.spentCost, p50 / p99", (r) => p50p99(r.new)),
    row("ratio old / new (p50)", (r) => `${r.ratio}x`),
  ]
  for (const [name, outcome] of outcomes) {
    if ("error" in outcome) lines.push(`\n${name} failed: ${outcome.error}`)
  }
  return lines.join("\n")
}
