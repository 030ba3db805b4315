/**
 * The web UI in real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) against a
 * real `prwright serve` with the GitHub double and the scripted model server: sign in (a wrong token is
 * refused), start an autoResolveIssue from the form and watch its timeline grow live to the PR link,
 * reload mid-run without a duplicated step, open a tool call's output and the diff, approve a plan
 * (which implements that version), cancel a run, and check every page with axe-core. Screenshots of
 * each page at 1280 and 390 px go to test-results/ui/.
 */
import { execFileSync } from "node:child_process"
import path from "node:path"
import type { BrowserContext, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { GitHubDouble } from "../doubles/github-double.js"
import type { ScriptedModelServer, ScriptStep } from "../doubles/scripted-model-server.js"
import {
  type Browser,
  chromiumOrSkip,
  expectAccessible,
  launchBrowser,
  SHOTS,
  screenshots,
} from "../support/browser.js"
import { FIXED_LINE_NEW, fixSteps, planSteps, SAMPLE_FILES, SAMPLE_ISSUE } from "../support/sample-repo.js"
import { type ServedFlow, startServedFlow } from "../support/served-flow.js"

const ROOT = path.resolve(import.meta.dirname, "../..")
const GITHUB_TOKEN = "ghp_uiBrowserToken_0123456789"
const LLM_KEY = "sk-ui-browser-key-0123456789"
const API_TOKEN = "prw_ui_browser_api_token_12345"
const haveChromium = chromiumOrSkip("the web UI browser tests")

const slow = (steps: ScriptStep[], delayMs: number): ScriptStep[] =>
  steps.map((step) => ({ ...step, delayMs }))

describe.skipIf(!haveChromium)("web UI in Chromium", () => {
  let flow: ServedFlow
  let github: GitHubDouble
  let model: ScriptedModelServer
  let browser: Browser
  let baseUrl: string
  let context: BrowserContext
  let page: Page
  const issues = { auto: 0, plan: 0, cancel: 0 }
  let autoJobId = ""

  const shot = (name: string) => screenshots(page, name)
  const axe = (name: string) => expectAccessible(page, name)

  const seqs = async () =>
    page.$$eval(".timeline [data-seq]", (nodes) => nodes.map((n) => Number(n.getAttribute("data-seq"))))

  const api = async <T>(route: string): Promise<T> =>
    (await (await flow.api(route, { headers: { accept: "application/json" } })).json()) as T

  const startFromForm = async (workflow: "Auto-resolve" | "Plan", issue: number) => {
    await page.getByRole("link", { name: "Start work" }).first().click()
    await page.getByRole("heading", { name: "Start work" }).waitFor()
    await page.getByRole("radio", { name: new RegExp(`^${workflow}`) }).check()
    await page.getByLabel("Repository").fill("acme/mathlib")
    await page.getByLabel("Issue number").fill(String(issue))
    await page.getByRole("button", { name: "Start" }).click()
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/)
    return page.url().split("/").pop() ?? ""
  }

  beforeAll(async () => {
    // the server runs from src/, but the UI it serves is Vite's build
    execFileSync(process.execPath, [path.join(ROOT, "scripts/build-if-needed.js"), "--ui"], {
      cwd: ROOT,
      stdio: "inherit",
    })
    flow = await startServedFlow({
      prefix: "prwright-ui-",
      repo: "acme/mathlib",
      files: SAMPLE_FILES,
      githubToken: GITHUB_TOKEN,
      llmKey: LLM_KEY,
      apiToken: API_TOKEN,
      script: [
        // 1. auto-resolve, slowed so the page shows it live and can reload mid-run
        ...slow(planSteps(), 1000),
        ...slow(fixSteps(), 1500),
        // 2. a plan, then 3. its approved implementation
        ...planSteps(),
        ...fixSteps(),
        // 4. a plan that thinks for a minute: cancelled from the page
        { ...(planSteps()[0] as ScriptStep), delayMs: 60_000 },
      ],
    })
    ;({ github, model, baseUrl } = flow)
    issues.auto = github.createIssue("acme/mathlib", SAMPLE_ISSUE)
    issues.plan = github.createIssue("acme/mathlib", {
      ...SAMPLE_ISSUE,
      title: "clamp() again, planned first",
    })
    issues.cancel = github.createIssue("acme/mathlib", { title: "A slow one", body: "to be cancelled" })
    browser = await launchBrowser()
    ;({ context, page } = browser)
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    await flow?.close()
  })

  it("refuses a wrong token, then signs in with the right one into an HttpOnly SameSite=Strict cookie", async () => {
    await page.goto(`${baseUrl}/runs`)
    await page.waitForURL(/\/sign-in/)
    await page.getByRole("heading", { name: "Sign in" }).waitFor()
    await axe("sign-in")
    // keyboard: the token field, then the button, each with a visible focus ring
    await page.keyboard.press("Tab")
    await expect.poll(() => page.evaluate(`document.activeElement?.getAttribute("name")`)).toBe("token")
    await page.keyboard.type("prw_not_the_right_token_at_all")
    await page.keyboard.press("Tab")
    const outline = await page.evaluate(`getComputedStyle(document.activeElement).outlineStyle`)
    expect(outline).not.toBe("none")
    await page.keyboard.press("Enter")
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("not valid")
    expect(page.url()).toContain("/sign-in")
    expect((await context.cookies()).find((c) => c.name === "prwright_session")).toBeUndefined()

    await page.getByLabel("API token").fill(API_TOKEN)
    await page.getByRole("button", { name: "Sign in" }).click()
    await page.getByRole("heading", { name: "Runs" }).waitFor()
    const cookie = (await context.cookies()).find((c) => c.name === "prwright_session")
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" })
    expect(cookie?.value).not.toContain(API_TOKEN)
    expect(await page.evaluate(`document.cookie`)).not.toContain("prwright_session")
    expect(await page.content()).not.toContain(API_TOKEN)
  })

  it("validates the start form before sending, starts an autoResolveIssue and follows it live to the PR", async () => {
    const posts: string[] = []
    page.on("request", (request) => {
      if (request.method() === "POST" && request.url().includes("/api/workflow/")) posts.push(request.url())
    })
    await page.getByRole("link", { name: "Start work" }).first().click()
    await page.getByLabel("Repository").fill("not a repo")
    await page.getByRole("button", { name: "Start" }).click()
    await expect.poll(() => page.locator(".field-error").count()).toBe(2)
    expect(posts).toEqual([])
    await axe("start")

    autoJobId = await startFromForm("Auto-resolve", issues.auto)
    expect(posts).toHaveLength(1)

    // the timeline grows while we watch, without reloading
    await page.locator(".timeline [data-kind=tool]").first().waitFor({ timeout: 60_000 })
    const early = (await seqs()).length
    await expect.poll(async () => (await seqs()).length, { timeout: 30_000 }).toBeGreaterThan(early + 2)
    expect(await page.getByTestId("run-status").textContent()).toContain("running")
    await shot("run-mid")

    // a reload mid-run: the page rebuilds from stored events + the live stream, no step twice
    expect((await api<{ status: string }>(`/api/jobs/${autoJobId}`)).status).toBe("running")
    await page.reload()
    await page.locator(".timeline [data-seq]").first().waitFor()
    const afterReload = await seqs()
    expect(new Set(afterReload).size).toBe(afterReload.length)
    // and it keeps growing live after the reload
    await expect
      .poll(async () => (await seqs()).length, { timeout: 30_000 })
      .toBeGreaterThan(afterReload.length)

    await page.getByTestId("pr-link").waitFor({ timeout: 90_000 })
    await expect
      .poll(() => page.getByTestId("run-status").textContent(), { timeout: 30_000 })
      .toContain("completed")
    await expect.poll(() => page.getByTestId("connection").textContent()).toBe("ended")
    const final = await seqs()
    expect(new Set(final).size).toBe(final.length)
    // every tool call the server recorded shows exactly once
    const events = await api<Array<{ type: string }>>(`/api/jobs/${autoJobId}/events`)
    const calls = events.filter((e) => e.type === "tool-call").length
    expect(calls).toBe(8)
    expect(await page.locator(".timeline [data-kind=tool]").count()).toBe(calls)
    const pr = github.pullRequests("acme/mathlib")[0]
    expect(await page.getByTestId("pr-link").getAttribute("href")).toMatch(new RegExp(`/pull/${pr?.number}$`))
  }, 180_000)

  it("opens a tool call's output (by keyboard) and the diff", async () => {
    const bash = page.locator(".timeline [data-tool=bash] summary").first()
    await bash.focus()
    await page.keyboard.press("Enter")
    const output = page
      .locator(".timeline [data-tool=bash] details[open] section[aria-label='bash output']")
      .first()
    await output.waitFor()
    expect(await output.textContent()).toMatch(/fail|pass/)

    await page.locator(".timeline [data-kind=diff] summary").first().click()
    const diff = page.locator(".timeline [data-kind=diff] details[open] .diff").first()
    await diff.waitFor()
    expect(await diff.textContent()).toContain(`+${FIXED_LINE_NEW}`)
    expect(await page.locator(".timeline [data-kind=diff] .d-add").count()).toBeGreaterThan(0)
    // test runs as a before/after table
    expect(await page.locator(".timeline table.tests").last().textContent()).toMatch(/before.*after/s)
    await axe("run (finished)")
    await shot("run-end")
    await page.emulateMedia({ colorScheme: "dark" })
    await page.waitForTimeout(300)
    await page.screenshot({ path: path.join(SHOTS, "run-end-dark-1280.png"), fullPage: true })
    await axe("run (dark mode)")
    await page.emulateMedia({ colorScheme: "light" })
  })

  it("lists the run in the live runs table with its PR", async () => {
    await page.getByRole("link", { name: "Runs" }).first().click()
    const row = page.locator(`tr[data-job-id="${autoJobId}"]`)
    await row.waitFor()
    expect(await row.textContent()).toMatch(/completed.*auto-resolve.*ui/s)
    expect(await row.locator("a", { hasText: /^#\d+/ }).count()).toBe(1)
    // a run started elsewhere appears without a reload (it fails fast: the issue does not exist)
    const started = await flow.api("/api/workflow/commentOnIssue", {
      method: "POST",
      body: JSON.stringify({ repoFullName: "acme/mathlib", issueNumber: 999 }),
    })
    const { jobId: other } = (await started.json()) as { jobId: string }
    const otherRow = page.locator(`tr[data-job-id="${other}"]`)
    await otherRow.waitFor({ timeout: 15_000 })
    await expect.poll(() => otherRow.textContent(), { timeout: 20_000 }).toMatch(/failed.*plan.*api/s)
    await axe("runs")
    await shot("runs")
  })

  it("approves a plan, which implements exactly that version", async () => {
    const planJobId = await startFromForm("Plan", issues.plan)
    await page.getByRole("heading", { name: /Plan · version 1/ }).waitFor({ timeout: 60_000 })
    const comment = github.comments("acme/mathlib", issues.plan).at(-1)?.body ?? ""
    expect(comment).toContain("version 1")
    expect(comment).toContain("/prwright approve")
    await axe("run (plan)")
    await page.getByRole("button", { name: "Approve version 1 and implement" }).click()
    await page.waitForURL(
      (url) => !url.pathname.endsWith(planJobId) && /\/runs\/[0-9a-f-]{36}$/.test(url.pathname),
    )
    const implementJobId = page.url().split("/").pop() ?? ""
    // the page shows the new run at once, not the plan run it came from
    await page.getByRole("heading", { name: /^resolve · acme\/mathlib#/ }).waitFor({ timeout: 10_000 })
    await page.getByTestId("pr-link").waitFor({ timeout: 90_000 })
    const run = await api<{ run: { type: string; planId?: string; status: string } }>(
      `/api/runs/${implementJobId}`,
    )
    expect(run.run).toMatchObject({ type: "resolve-issue", planId: planJobId })
    const plan = await api<{ status: string; version: number }>(`/api/plans/${planJobId}`)
    expect(plan).toMatchObject({ status: "approved", version: 1 })
  }, 180_000)

  it("cancels a running run from its page and shows it cancelled", async () => {
    await startFromForm("Plan", issues.cancel)
    await expect
      .poll(() => page.getByTestId("run-status").textContent(), { timeout: 30_000 })
      .toContain("running")
    await page.getByRole("button", { name: "Cancel run" }).click()
    await expect
      .poll(() => page.getByTestId("run-status").textContent(), { timeout: 15_000 })
      .toContain("cancelled")
    await page.getByRole("button", { name: "Retry" }).waitFor()
  }, 60_000)

  it("shows the overview charts and the setup checks", async () => {
    await page.getByRole("link", { name: "Overview" }).click()
    await page.locator(".chart canvas").first().waitFor()
    expect(await page.locator(".chart canvas").count()).toBe(3)
    await axe("overview")
    await shot("overview")

    await page.getByRole("link", { name: "Setup" }).click()
    await page.locator(".checks li").first().waitFor({ timeout: 60_000 })
    expect(await page.locator(".checks").textContent()).toContain("database")
    expect(await page.getByLabel(/Payload URL/).inputValue()).toBe(`${baseUrl}/api/webhooks/github`)
    await axe("setup")
    await shot("setup")
    expect(model.errors).toEqual([])
  }, 90_000)
})
