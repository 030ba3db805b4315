/**
 * Spending limits per repository on the real composition (SQLite store, embedded queue without workers):
 * a trigger past the daily limit is refused with a comment naming the limit and its reset time; the
 * repository's own setting may lower the operator's limit; other repositories are unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createSpendingGuard } from "#application/spending-limits.js"
import type { Container } from "#main/container.js"
import { labeledPayload } from "../doubles/github/webhook-payloads.js"
import type { GitHubDouble } from "../doubles/github-double.js"
import { type GitHubFlow, startGitHubFlow } from "../support/github-flow.js"

const TOKEN = "ghp_spendingTestToken_0123456789"
const REPO = "acme/spendy"
const OTHER = "acme/thrifty"

describe("spending limits", () => {
  let flow: GitHubFlow
  let github: GitHubDouble
  let container: Container

  beforeAll(async () => {
    flow = await startGitHubFlow({
      prefix: "prwright-spending-",
      repos: { [REPO]: { "README.md": "# r\n" }, [OTHER]: { "README.md": "# r\n" } },
      writers: [
        [REPO, "alice"],
        [OTHER, "alice"],
      ],
      token: TOKEN,
      script: [],
      workers: [],
      env: { PRWRIGHT_DAILY_LIMIT_USD: "1", PRWRIGHT_MONTHLY_LIMIT_USD: "50" },
      // no workers and no model: the limits are checked at the intake
      overrides: () => ({ model: null }),
    })
    ;({ github, container } = flow)
  })
  afterAll(async () => {
    await flow?.close()
  })

  const label = (repo: string, issue: number) =>
    flow.webhook(
      "issues",
      labeledPayload({ repo, issue, label: "prwright:plan", sender: { login: "alice" } }),
    )
  const spend = async (repo: string, issue: number, costUsd: number) => {
    const outcome = await label(repo, issue)
    const jobId = (outcome as { jobId: string }).jobId
    await container.store.updateRun(jobId, {
      status: "completed",
      usage: { inputTokens: 1000, outputTokens: 100, costUsd },
      finishedAt: new Date(),
    })
  }

  it("a run past the daily limit is refused with a comment naming the limit and the reset time", async () => {
    const first = github.createIssue(REPO, { title: "a", body: "b" })
    await spend(REPO, first, 0.7)
    const second = github.createIssue(REPO, { title: "c", body: "d" })
    await spend(REPO, second, 0.4) // $1.10 today: over the $1 limit from now on

    const third = github.createIssue(REPO, { title: "e", body: "f" })
    const outcome = await label(REPO, third)
    expect(outcome).toMatchObject({ outcome: "refused" })
    const now = new Date()
    const reset = new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1),
    ).toISOString()
    const comment = github.comments(REPO, third).at(-1)?.body ?? ""
    expect(comment).toContain("daily spending limit for acme/spendy ($1.00) is reached")
    expect(comment).toContain("$1.10 spent this day")
    expect(comment).toContain(`resets at ${reset}`)
    expect((await container.store.listRuns({ repoFullName: REPO, issueNumber: third })).runs).toEqual([])

    // another repository has its own budget
    expect((await label(OTHER, github.createIssue(OTHER, { title: "g", body: "h" }))).outcome).toBe("started")
  })

  it("a repository's own setting may lower the operator's limit, never raise it", async () => {
    const issue = github.createIssue(OTHER, { title: "i", body: "j" })
    await container.store.putRepoSettings(OTHER, { dailyLimitUsd: 0 })
    expect(await label(OTHER, issue)).toMatchObject({
      outcome: "refused",
      reason: expect.stringMatching(/\(\$0\.00\)/),
    })
    await container.store.putRepoSettings(REPO, { dailyLimitUsd: 1000 })
    expect((await label(REPO, github.createIssue(REPO, { title: "k", body: "l" }))).outcome).toBe("refused")
    await container.store.putRepoSettings(OTHER, {})
  })

  it("yesterday's spending does not count today; this month's does count for the monthly limit", async () => {
    const tomorrow = new Date(Date.now() + 86_400_000)
    const guard = createSpendingGuard({ runs: container.store, limits: { dailyUsd: 1 }, now: () => tomorrow })
    expect(await guard(REPO)).toEqual({ ok: true })
    const monthly = createSpendingGuard({ runs: container.store, limits: { monthlyUsd: 1 } })
    expect(await monthly(REPO)).toMatchObject({ ok: false, period: "monthly", limitUsd: 1 })
  })
})
