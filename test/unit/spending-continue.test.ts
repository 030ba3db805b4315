/**
 * The pure parts of the spending limits and `/prwright continue`: the budget a comment asks for, the
 * command read from a real issue_comment payload, which limit a check names, and the config.
 */
import { describe, expect, it } from "vitest"
import type { RunStore } from "#application/ports/run-store.js"
import { readGitHubEvent } from "#application/read-github-event.js"
import { createSpendingGuard, overLimitMessage } from "#application/spending-limits.js"
import { parseContinueBudget } from "#application/workflows/continue-run.js"
import type { WorkflowRun } from "#domain/workflow-run.js"
import { loadConfig } from "#main/config.js"
import { commentPayload } from "../doubles/github/webhook-payloads.js"
import { spendingByListing } from "../support/spent-by-listing.js"

describe("/prwright continue [+$N]", () => {
  it("reads the budget: nothing, +$N, +N, $N or N; anything else is explained", () => {
    expect(parseContinueBudget(undefined)).toBeUndefined()
    expect(parseContinueBudget("")).toBeUndefined()
    expect(parseContinueBudget("+$2")).toBe(2)
    expect(parseContinueBudget("+2.50")).toBe(2.5)
    expect(parseContinueBudget("$3")).toBe(3)
    expect(parseContinueBudget("4")).toBe(4)
    for (const bad of ["+$0", "+$lots", "-$2", "+$5000", "+$2 please"])
      expect(parseContinueBudget(bad)).toMatchObject({
        error: expect.stringContaining("/prwright continue +$N"),
      })
  })

  it("is a command of a comment, with its argument", () => {
    const read = readGitHubEvent(
      "issue_comment",
      commentPayload({
        repo: "acme/app",
        issue: 3,
        body: "Go on.\n/prwright continue +$2",
        sender: { login: "alice" },
      }),
    )
    expect(read).toMatchObject({
      kind: "request",
      request: { command: "continue", argument: "+$2", number: 3 },
    })
  })
})

const run = (repoFullName: string, costUsd: number, createdAt: Date): WorkflowRun =>
  ({
    id: `${repoFullName}-${costUsd}`,
    repoFullName,
    usage: { inputTokens: 0, outputTokens: 0, costUsd },
    createdAt,
  }) as WorkflowRun

/** a run store that lists the given runs newest first, two per page, and sums spend over that listing */
const storeOf = (runs: WorkflowRun[]) => spendingByListing(listingOf(runs))
const listingOf = (runs: WorkflowRun[]): RunStore =>
  ({
    async listRuns(filter: { repoFullName?: string; cursor?: string }) {
      const all = runs
        .filter((r) => !filter.repoFullName || r.repoFullName === filter.repoFullName)
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      const from = Number(filter.cursor ?? 0)
      return {
        runs: all.slice(from, from + 2),
        ...(from + 2 < all.length ? { nextCursor: String(from + 2) } : {}),
      }
    },
  }) as unknown as RunStore

describe("the spending guard", () => {
  const now = new Date("2026-03-15T12:00:00Z")
  const earlier = (hours: number) => new Date(now.getTime() - hours * 3_600_000)
  const runs = [
    run("acme/a", 3, earlier(1)),
    run("acme/b", 4, earlier(2)),
    run("Acme/c", 2, earlier(30)), // yesterday, this month
    run("other/x", 50, earlier(3)),
    run("acme/a", 100, new Date("2026-02-20T00:00:00Z")), // last month
  ]

  it("counts an installation over all its repositories, today and this month, and names the limit that holds longest", async () => {
    const guard = createSpendingGuard({
      runs: storeOf(runs),
      limits: { installationDailyUsd: 7, installationMonthlyUsd: 9 },
      now: () => now,
    })
    const check = await guard("acme/a")
    expect(check).toMatchObject({
      ok: false,
      scope: "installation",
      subject: "acme",
      period: "monthly", // both are passed ($7 today, $9 this month): the monthly one resets later
      spentUsd: 9,
      resetsAt: new Date("2026-04-01T00:00:00Z"),
    })
    if (check.ok) throw new Error("unreachable")
    expect(overLimitMessage("acme/a", check)).toBe(
      "prwright's monthly spending limit for the acme installation (all its repositories) ($9.00) is reached: $9.00 spent this month (UTC). It resets at 2026-04-01T00:00:00.000Z; ask again after that, or an operator can raise PRWRIGHT_INSTALLATION_MONTHLY_LIMIT_USD or the installation's monthlyLimitUsd setting.",
    )
  })

  it("answers what the nearest limit still leaves", async () => {
    const guard = createSpendingGuard({
      runs: storeOf(runs),
      limits: { dailyUsd: 10, installationDailyUsd: 8.5 },
      now: () => now,
    })
    expect(await guard("acme/a")).toEqual({ ok: true, remainingUsd: 1.5 })
    expect(await guard("other/x")).toMatchObject({ ok: false, scope: "repository", period: "daily" })
  })
})

describe("config", () => {
  it("reads the installation limits and the action, and names a bad action", () => {
    const config = loadConfig({
      PRWRIGHT_INSTALLATION_DAILY_LIMIT_USD: "5",
      PRWRIGHT_INSTALLATION_MONTHLY_LIMIT_USD: "80",
      PRWRIGHT_SPEND_LIMIT_ACTION: "wait",
    })
    expect(config.spending).toEqual({ installationDailyUsd: 5, installationMonthlyUsd: 80 })
    expect(config.spendLimitAction).toBe("wait")
    expect(loadConfig({}).spendLimitAction).toBe("refuse")
    expect(() => loadConfig({ PRWRIGHT_SPEND_LIMIT_ACTION: "queue" })).toThrow(/PRWRIGHT_SPEND_LIMIT_ACTION/)
  })
})
