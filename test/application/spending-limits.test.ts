/**
 * Spending limits per repository on the real composition (SQLite store, embedded queue without workers):
 * a trigger past the daily limit is refused with a comment naming the limit and its reset time; the
 * repository's own setting may lower the operator's limit; other repositories are unaffected.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createSqlRunStore } from "#adapters/store/sql/sql-run-store.js"
import { createApiAuth } from "#application/api-auth.js"
import { createSpendingGuard, installationSettingsKey } from "#application/spending-limits.js"
import { loadConfig } from "#main/config.js"
import { type Container, createContainer } from "#main/container.js"
import { commentPayload, labeledPayload } from "../doubles/github/webhook-payloads.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import { type GitHubFlow, startGitHubFlow } from "../support/github-flow.js"
import { httpAppOf } from "../support/http-app.js"
import { createCapturingLogger } from "../support/logger.js"
import { finished, finishWithCost, waitForRun } from "../support/runs.js"
import { spendingByListing } from "../support/spent-by-listing.js"

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
    await finishWithCost(container.store, (outcome as { jobId: string }).jobId, costUsd)
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
    expect(await guard(REPO)).toEqual({ ok: true, remainingUsd: 1 })
    const monthly = createSpendingGuard({ runs: container.store, limits: { monthlyUsd: 1 } })
    expect(await monthly(REPO)).toMatchObject({ ok: false, period: "monthly", limitUsd: 1 })
  })
})

/** A container with its own data dir, GitHub double and env (spending limits of the test's choice). */
const startSpendingContainer = async (
  env: Record<string, string>,
  repos: string[],
  clock?: { now: () => Date },
) => {
  const github = await startGitHubDouble({ tokens: { [TOKEN]: { login: "prwright-bot", repos: "*" } } })
  for (const name of repos) {
    await github.createRepo(name, { files: { "README.md": "# r\n" } })
    github.grant(name, "alice", "write")
  }
  const dir = await mkdtemp(path.join(tmpdir(), "prwright-spending-"))
  const container = await createContainer(
    loadConfig({
      PRWRIGHT_DATA_DIR: dir,
      GITHUB_API_URL: github.apiUrl,
      GITHUB_TOKEN: TOKEN,
      GITHUB_WEBHOOK_SECRET: "whsec-spending",
      PRWRIGHT_API_TOKEN: API_TOKEN,
      ...env,
    }),
    { logger: createCapturingLogger(), model: null, ...(clock ? { clock } : {}) },
  )
  const auth = await createApiAuth({
    store: container.store,
    configuredToken: API_TOKEN,
    announce: () => {},
    newId: () => "id",
  })
  const app = httpAppOf(container, auth, { repoSettings: container.repoSettings })
  let delivery = 0
  const label = (repo: string, issue: number) =>
    container.webhooks.handle({
      name: "issues",
      deliveryId: `spend-${++delivery}`,
      payload: labeledPayload({ repo, issue, label: "prwright:plan", sender: { login: "alice" } }),
    })
  /** a finished run of `repo` that cost `costUsd` */
  const spend = async (repo: string, costUsd: number) => {
    const issue = github.createIssue(repo, { title: "spent", body: "b" })
    const outcome = await label(repo, issue)
    const jobId = (outcome as { jobId: string }).jobId
    expect(jobId).toBeTruthy()
    await finishWithCost(container.store, jobId, costUsd)
  }
  const api = (method: string, url: string, body?: unknown) =>
    app.request(url, {
      method,
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  return {
    github,
    container,
    label,
    spend,
    api,
    async close() {
      await container.close()
      await github.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
type SpendingSetup = Awaited<ReturnType<typeof startSpendingContainer>>

const API_TOKEN = "prw_spending_api_token_0123456"
const nextMidnight = (now = new Date()) =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1))

describe("spending limits per installation, on API requests", () => {
  let setup: SpendingSetup
  beforeAll(async () => {
    setup = await startSpendingContainer({ PRWRIGHT_INSTALLATION_DAILY_LIMIT_USD: "2" }, [
      "globex/one",
      "globex/two",
      "initech/other",
    ])
  })
  afterAll(async () => setup?.close())

  it("a trigger past the installation's daily limit is refused with the limit, the spend and the reset time", async () => {
    const { github, label, spend, container } = setup
    await spend("globex/one", 1.5)
    await spend("globex/two", 0.6) // $2.10 across globex's repositories; each alone is under $2
    const issue = github.createIssue("globex/two", { title: "x", body: "y" })
    const outcome = await label("globex/two", issue)
    expect(outcome).toMatchObject({ outcome: "refused" })
    const comment = github.comments("globex/two", issue).at(-1)?.body ?? ""
    expect(comment).toContain(
      "daily spending limit for the globex installation (all its repositories) ($2.00) is reached",
    )
    expect(comment).toContain("$2.10 spent this day")
    expect(comment).toContain(`resets at ${nextMidnight().toISOString()}`)
    expect(comment).toContain("PRWRIGHT_INSTALLATION_DAILY_LIMIT_USD")
    expect((await container.store.listRuns({ repoFullName: "globex/two", issueNumber: issue })).runs).toEqual(
      [],
    )
    // another installation has its own budget
    const other = github.createIssue("initech/other", { title: "x", body: "y" })
    expect((await label("initech/other", other)).outcome).toBe("started")
  })

  it("an API request past a limit answers 429 naming the limit, the spend and the reset, and stores nothing", async () => {
    const { github, api, container } = setup
    const issue = github.createIssue("globex/one", { title: "x", body: "y" })
    const before = (await container.store.listRuns({ limit: 200 })).runs.length
    const response = await api("POST", "/api/workflow/commentOnIssue", {
      repoFullName: "globex/one",
      issueNumber: issue,
    })
    expect(response.status).toBe(429)
    const body = (await response.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe("rate_limited")
    expect(body.error.message).toContain("daily spending limit for the globex installation")
    expect(body.error.message).toContain("$2.10 spent this day")
    expect(body.error.message).toContain(`resets at ${nextMidnight().toISOString()}`)
    expect(body.error.message).not.toContain("\n") // the CLI prints it as one line
    expect((await container.store.listRuns({ limit: 200 })).runs.length).toBe(before)
    // nor is an inline (CLI --inline) run prepared
    await expect(
      container.requester.prepare(
        "comment-on-issue",
        { repoFullName: "globex/one", issueNumber: issue },
        {
          source: "cli",
        },
      ),
    ).rejects.toThrow(/globex installation/)
    expect((await container.store.listRuns({ limit: 200 })).runs.length).toBe(before)
  })

  it("an installation's setting (API) lowers the operator's limit, never raises it", async () => {
    const { github, api } = setup
    expect(await (await api("GET", "/api/installations/initech/settings")).json()).toEqual({
      account: "initech",
      settings: {},
    })
    const put = await api("PUT", "/api/installations/initech/settings", { dailyLimitUsd: 0 })
    expect(put.status).toBe(200)
    expect(await put.json()).toMatchObject({ account: "initech", settings: { dailyLimitUsd: 0 } })
    const issue = github.createIssue("initech/other", { title: "x", body: "y" })
    const refused = await api("POST", "/api/workflow/commentOnIssue", {
      repoFullName: "initech/other",
      issueNumber: issue,
    })
    expect(refused.status).toBe(429)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /initech installation .*\(\$0\.00\)/,
    )
    // raising globex's above the operator's $2 does not lift the operator's limit
    await api("PUT", "/api/installations/globex/settings", { dailyLimitUsd: 500 })
    const still = await api("POST", "/api/workflow/commentOnIssue", {
      repoFullName: "globex/one",
      issueNumber: issue,
    })
    expect(still.status).toBe(429)
    // bad input names the field
    const bad = await api("PUT", "/api/installations/initech/settings", { dailyLimit: 1 })
    expect(bad.status).toBe(400)
    expect(JSON.stringify(await bad.json())).toContain("dailyLimitUsd")
    expect((await api("PUT", "/api/installations/bad..name/settings", {})).status).toBe(400)
  })
})

describe("spending limits with PRWRIGHT_SPEND_LIMIT_ACTION=wait", () => {
  let setup: SpendingSetup
  let now = new Date()
  beforeAll(async () => {
    setup = await startSpendingContainer(
      {
        PRWRIGHT_DAILY_LIMIT_USD: "1",
        PRWRIGHT_SPEND_LIMIT_ACTION: "wait",
        PRWRIGHT_PENDING_SWEEP_MS: "1000",
      },
      ["hooli/app"],
      { now: () => now },
    )
  })
  afterAll(async () => setup?.close())

  it("a request past a limit is stored as waiting, and its run starts after the reset", async () => {
    const { github, api, label, spend, container } = setup
    await spend("hooli/app", 1.2)
    const reset = nextMidnight(now)

    const issue = github.createIssue("hooli/app", { title: "x", body: "y" })
    const response = await api("POST", "/api/workflow/commentOnIssue", {
      repoFullName: "hooli/app",
      issueNumber: issue,
    })
    expect(response.status).toBe(202)
    const accepted = (await response.json()) as {
      jobId: string
      status: string
      waitingUntil: string
      message: string
    }
    expect(accepted).toMatchObject({ status: "pending", waitingUntil: reset.toISOString() })
    expect(accepted.message).toContain("daily spending limit to reset")

    // a webhook trigger waits too, and the issue comment says when it starts
    const other = github.createIssue("hooli/app", { title: "z", body: "w" })
    const outcome = await label("hooli/app", other)
    expect(outcome).toMatchObject({ outcome: "started" })
    const comment = github.comments("hooli/app", other).at(-1)?.body ?? ""
    expect(comment).toContain("daily spending limit for hooli/app ($1.00) is reached")
    expect(comment).toContain(`This run waits and starts after ${reset.toISOString()}`)

    // workers and the sweeper run, but before the reset nothing is queued
    container.startWorkers(["comment"])
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    const waiting = await container.store.getRun(accepted.jobId)
    expect(waiting).toMatchObject({
      status: "pending",
      attempts: 0,
      trigger: { waitUntil: reset.toISOString() },
    })
    expect(await container.queue?.getJob(accepted.jobId)).toBeUndefined()

    // `/prwright cancel` works while a run waits: it never starts
    const waitingJob = (outcome as { jobId: string }).jobId
    const cancel = await container.webhooks.handle({
      name: "issue_comment",
      deliveryId: "spend-cancel",
      payload: commentPayload({
        repo: "hooli/app",
        issue: other,
        body: "/prwright cancel",
        sender: { login: "alice" },
      }),
    })
    expect(cancel).toMatchObject({ outcome: "cancelled", jobId: waitingJob })

    // the clock passes the reset: the sweeper queues it and a worker starts it (no model here, so the
    // run fails on that, after it started)
    now = new Date(reset.getTime() + 1_000)
    const started = await waitForRun(container.store, accepted.jobId, finished, 20_000)
    expect(started.attempts).toBeGreaterThanOrEqual(1)
    expect(started.error).toContain("no LLM is configured")
    const events = await container.store.listEvents(accepted.jobId)
    const messages = events.flatMap((e) => (e.type === "status" ? [`${e.status}: ${e.message ?? ""}`] : []))
    expect(messages[0]).toContain("This run waits and starts after")
    expect(messages[1]).toBe("pending: the spending limit has reset: queued")
    expect(messages[2], messages.join(" / ")).toMatch(/^running/)
    expect(await container.store.getRun(waitingJob)).toMatchObject({ status: "cancelled", attempts: 0 })
  }, 40_000)
})

describe("the spending guard on the SQL store (one aggregate per scope)", () => {
  it("answers every check as paging through the month's runs did", async () => {
    let now = Date.parse("2026-03-15T12:00:00Z")
    const store = await createSqlRunStore({ url: "sqlite::memory:", clock: { now: () => new Date(now) } })
    try {
      const runs: Array<[string, number, string]> = [
        ["acme/a", 100, "2026-02-28T23:59:59.999Z"], // last month
        ["Acme/c", 2, "2026-03-14T06:00:00Z"], // yesterday, this month
        ["other/x", 50, "2026-03-15T09:00:00Z"],
        ["acme/b", 4, "2026-03-15T10:00:00Z"],
        ["acme/a", 3, "2026-03-15T11:00:00Z"],
        ["ACME/a", 0.25, "2026-03-15T11:30:00Z"], // the installation, not the repository acme/a
      ]
      for (const [index, [repoFullName, costUsd, at]] of runs.entries()) {
        now = Date.parse(at)
        await store.createRun({
          id: `run-${index}`,
          type: "comment-on-issue",
          repoFullName,
          issueNumber: index + 1,
          priority: "normal",
          input: {},
          trigger: { source: "api" },
          maxAttempts: 1,
        })
        await store.updateRun(`run-${index}`, { usage: { inputTokens: 1, outputTokens: 1, costUsd } })
      }
      now = Date.parse("2026-03-15T12:00:00Z")
      await store.putRepoSettings(installationSettingsKey("other"), { monthlyLimitUsd: 40 })
      const paging = spendingByListing(store) // the guard's old way: pages every run of the month
      const limitSets = [
        { installationDailyUsd: 7, installationMonthlyUsd: 9 },
        { dailyUsd: 10, installationDailyUsd: 8.5 },
        { monthlyUsd: 3.25, dailyUsd: 3 },
        { installationMonthlyUsd: 1000 },
        {},
      ]
      const answers = []
      for (const limits of limitSets) {
        const at = () => new Date(now)
        const guard = createSpendingGuard({ runs: store, settings: store, limits, now: at })
        const paged = createSpendingGuard({ runs: paging, settings: store, limits, now: at })
        for (const repo of ["acme/a", "ACME/a", "acme/new", "other/x", "nobody/y"]) {
          const answer = await guard(repo)
          expect(answer, `${repo} ${JSON.stringify(limits)}`).toEqual(await paged(repo))
          answers.push(answer)
        }
      }
      // and the answers are the ones these runs call for
      expect(answers[0]).toMatchObject({
        ok: false,
        scope: "installation",
        period: "monthly",
        spentUsd: 9.25,
      })
      expect(answers[5]).toEqual({ ok: true, remainingUsd: 1.25 }) // 8.5 − 7.25 today in acme
      // acme/a: $3 today and this month (its $100 was last month; ACME/a is another repository)
      expect(answers[10]).toMatchObject({ ok: false, scope: "repository", period: "daily", spentUsd: 3 })
      // other/x: the installation's own setting ($40 a month) lowers the operator's $1,000
      expect(answers[18]).toMatchObject({ ok: false, scope: "installation", subject: "other", spentUsd: 50 })
      expect(answers[19]).toEqual({ ok: true, remainingUsd: 1000 })
      expect(answers[24]).toEqual({ ok: true }) // no limit at all for nobody/y
    } finally {
      await store.close()
    }
  })
})
