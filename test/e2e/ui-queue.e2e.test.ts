/**
 * Issue 12's visible place in line and the unknown cost, in real headless Chromium (Debian's
 * /usr/bin/chromium driven by playwright-core) against a real `prwright serve` (SQLite, the embedded
 * queue) on the GitHub double and the scripted model server, with PRWRIGHT_MAX_RUNS_PER_REPO=1 and
 * the model left without a price (PRWRIGHT_MODEL_PRICES empty).
 *
 * Three plan runs on one repository: A holds the repository's one slot (its model turn waits two
 * minutes), B and C wait at places 1 and 2. `prwright status C` prints its place (and with --follow,
 * each new place until C starts); C's run page shows
 * "place 2 in line, waiting for a free slot of the repository's run limit …; estimated start …" and,
 * without a reload, place 1 once A is cancelled, then the started run once B has ended. B, finished
 * on a model without a price, shows "cost unknown" on its page, its timeline and the runs table,
 * never $0.00. Screenshots of the waiting page at 1280 and 390 px go to test-results/ui/.
 */
import { execFileSync } from "node:child_process"
import path from "node:path"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { GitHubDouble } from "../doubles/github-double.js"
import type { ScriptStep } from "../doubles/scripted-model-server.js"
import {
  type Browser,
  chromiumOrSkip,
  expectAccessible,
  launchBrowser,
  screenshots,
} from "../support/browser.js"
import { type PrwrightProcess, startPrwright } from "../support/prwright-process.js"
import { planSteps, SAMPLE_FILES } from "../support/sample-repo.js"
import { type ServedFlow, startServedFlow } from "../support/served-flow.js"

const ROOT = path.resolve(import.meta.dirname, "../..")
const GITHUB_TOKEN = "ghp_uiQueueToken_0123456789ab"
const LLM_KEY = "sk-ui-queue-key-0123456789"
const API_TOKEN = "prw_ui_queue_api_token_123456"
const REPO = "acme/lineup"
const haveChromium = chromiumOrSkip("the web UI queue browser tests")

const HELD_BY_LIMIT =
  "waiting for a free slot of the repository's run limit (1 active run at most); estimated start: "

interface JobStatus {
  status: string
  usage: { costUsd: number; unpricedModel?: string }
  queue?: { place: number; waitingFor: string; limit?: number }
}

describe.skipIf(!haveChromium)("web UI in Chromium: the place in line and the unknown cost", () => {
  let flow: ServedFlow
  let github: GitHubDouble
  let browser: Browser
  let page: Page
  const jobs = { a: "", b: "", c: "" }
  let follower: PrwrightProcess

  const api = async <T>(route: string, init?: RequestInit): Promise<T> =>
    (await (await flow.api(route, { headers: { accept: "application/json" }, ...init })).json()) as T
  const status = (jobId: string) => api<JobStatus>(`/api/jobs/${jobId}`)
  const plan = async (issue: number) => {
    const response = await flow.api("/api/workflow/commentOnIssue", {
      method: "POST",
      body: JSON.stringify({ repoFullName: REPO, issueNumber: issue }),
    })
    expect(response.status, await response.clone().text()).toBe(202)
    return ((await response.json()) as { jobId: string }).jobId
  }
  const axe = (name: string) => expectAccessible(page, name)
  const queueText = () =>
    page
      .getByTestId("run-queue")
      .textContent({ timeout: 1_000 })
      .catch(() => null)

  beforeAll(async () => {
    // the server runs from src/, but the UI it serves is Vite's build
    execFileSync(process.execPath, [path.join(ROOT, "scripts/build-if-needed.js"), "--ui"], {
      cwd: ROOT,
      stdio: "inherit",
    })
    const [look, submit] = planSteps() as ScriptStep[] as [ScriptStep, ScriptStep]
    flow = await startServedFlow({
      prefix: "prwright-ui-queue-",
      repo: REPO,
      files: SAMPLE_FILES,
      githubToken: GITHUB_TOKEN,
      llmKey: LLM_KEY,
      apiToken: API_TOKEN,
      env: { PRWRIGHT_MAX_RUNS_PER_REPO: "1", PRWRIGHT_MODEL_PRICES: "" },
      script: [
        // A: its first turn holds the repository's one slot until A is cancelled
        { ...look, delayMs: 120_000 },
        // B: slow enough that C's page sees place 1 before B ends
        { ...look, delayMs: 6_000 },
        submit,
        // C
        ...planSteps(),
      ],
    })
    github = flow.github
    browser = await launchBrowser()
    page = browser.page
    await page.goto(`${flow.baseUrl}/sign-in`)
    await page.getByLabel("API token").fill(API_TOKEN)
    await page.getByRole("button", { name: "Sign in" }).click()
    await page.getByRole("heading", { name: "Runs" }).waitFor()
  }, 180_000)

  afterAll(async () => {
    await follower?.stop()
    await browser?.close()
    await flow?.close()
  })

  it("queues B and C behind A at places 1 and 2, and prwright status prints the place", async () => {
    const issues = [1, 2, 3].map((n) =>
      github.createIssue(REPO, { title: `Queued issue ${n}`, body: `the ${n}. of three` }),
    )
    jobs.a = await plan(issues[0] ?? 0)
    await expect.poll(async () => (await status(jobs.a)).status, { timeout: 30_000 }).toBe("running")
    jobs.b = await plan(issues[1] ?? 0)
    jobs.c = await plan(issues[2] ?? 0)
    await expect.poll(async () => (await status(jobs.c)).queue?.place, { timeout: 15_000 }).toBe(2)
    expect((await status(jobs.b)).queue).toMatchObject({ place: 1, waitingFor: "repository-limit", limit: 1 })

    const cli = startPrwright(["status", jobs.c], flow.env)
    expect(await cli.exited, cli.output()).toBe(0)
    expect(cli.output()).toMatch(/status +pending/)
    expect(cli.output()).toContain(
      `queue     place 2 in line, ${HELD_BY_LIMIT}unknown (no finished runs yet)`,
    )
    // and one that follows C from here to its end (checked in the next test)
    follower = startPrwright(["status", jobs.c, "--follow"], flow.env)
    await follower.waitFor(/^queue +place 2 in line/)
  }, 60_000)

  it("shows the place on the run page and in the runs table, and it changes live as the runs ahead end", async () => {
    await page.goto(`${flow.baseUrl}/runs/${jobs.b}`)
    await expect.poll(queueText).toBe(`place 1 in line, ${HELD_BY_LIMIT}unknown (no finished runs yet)`)
    // the status says pending; the box says where in line, in full
    expect(await page.getByTestId("run-status").textContent()).toContain("pending")
    await axe("run (waiting)")
    await screenshots(page, "run-waiting")

    await page.getByRole("link", { name: "Runs" }).first().click()
    const badge = (jobId: string) =>
      page.locator(`tr[data-job-id="${jobId}"] [data-status]`).textContent({ timeout: 5_000 })
    await expect.poll(() => badge(jobs.c), { timeout: 10_000 }).toContain("pending · #2 in line")
    expect(await badge(jobs.b)).toContain("pending · #1 in line")
    expect(await badge(jobs.a)).not.toContain("in line")
    expect(await page.locator(`tr[data-job-id="${jobs.c}"] [data-status]`).getAttribute("title")).toContain(
      "place 2 in line",
    )

    // C's page, left open: no reload from here on
    await page.goto(`${flow.baseUrl}/runs/${jobs.c}`)
    await expect.poll(queueText).toContain("place 2 in line, ")
    expect(await page.locator(".facts dt", { hasText: /^Queued$/ }).count()).toBe(1)

    // the run ahead of everyone ends: B starts, C moves up to place 1
    const cancelled = await flow.api(`/api/jobs/${jobs.a}`, { method: "DELETE" })
    expect(cancelled.status).toBe(202)
    await expect.poll(queueText, { timeout: 15_000 }).toContain("place 1 in line, ")
    expect(await page.getByTestId("run-status").textContent()).toContain("pending")
    expect((await status(jobs.b)).status).toBe("running")

    // B ends: C starts, and its page says so in place of the line
    await expect
      .poll(() => page.getByTestId("run-status").textContent(), { timeout: 60_000 })
      .toMatch(/running|completed/)
    expect(await page.getByTestId("run-queue").count()).toBe(0)
    expect(await page.getByTestId("run-status").textContent()).not.toContain("in line")
    expect(await page.locator(".facts dt", { hasText: /^Started$/ }).count()).toBe(1)
    expect((await status(jobs.b)).status).toBe("completed")
    await expect
      .poll(() => page.getByTestId("run-status").textContent(), { timeout: 60_000 })
      .toContain("completed")
    expect((await status(jobs.a)).status).toBe("cancelled")

    // `prwright status C --follow` said each new place once, then followed C to its end
    expect(await follower.exited, follower.output()).toBe(0)
    const said = follower.lines.filter((line) => /^(queue|waiting) +place/.test(line))
    expect(said, follower.output()).toEqual([
      `queue     place 2 in line, ${HELD_BY_LIMIT}unknown (no finished runs yet)`,
      expect.stringMatching(
        /^waiting +place 1 in line, waiting for a free slot of the repository's run limit/,
      ),
    ])
    expect(follower.output()).toMatch(/status +completed/)
  }, 120_000)

  it("shows 'cost unknown' for a run on a model without a price, never $0.00", async () => {
    const b = await status(jobs.b)
    expect(b.usage).toMatchObject({ costUsd: 0, unpricedModel: "scripted" })

    await page.goto(`${flow.baseUrl}/runs/${jobs.b}`)
    await expect.poll(() => page.getByTestId("connection").textContent()).toBe("ended")
    const cost = (await page.getByTestId("run-cost").textContent()) ?? ""
    expect(cost).toMatch(/^unknown/)
    expect(cost).toContain("model scripted has no price; set PRWRIGHT_MODEL_PRICES")
    expect(await page.locator(".facts").textContent()).not.toContain("$0.00")
    // no budget meter against a cost that is not known
    expect(await page.getByLabel("cost against the budget").count()).toBe(0)

    const turns = page.locator(".timeline [data-kind=turn]")
    expect(await turns.count()).toBe(2)
    for (const text of await turns.allTextContents()) {
      expect(text).toContain("cost unknown")
      expect(text).not.toContain("$")
    }

    await page.getByRole("link", { name: "Runs" }).first().click()
    const cell = page.locator(`tr[data-job-id="${jobs.b}"] td[data-label=Cost]`)
    await cell.waitFor()
    expect((await cell.textContent())?.trim()).toBe("unknown")
    expect(await cell.locator("[title]").getAttribute("title")).toContain("has no price")
    expect(flow.model.errors).toEqual([])
  }, 60_000)
})
