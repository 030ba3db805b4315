/**
 * `/prwright continue [+$N]` end to end on the real composition: a resolve run stops on its cost cap
 * (the scripted model's priced tokens), pushes its work in progress and offers to continue; a writer's
 * `/prwright continue +$2` (an @octokit/webhooks-examples issue_comment payload) starts a run on the same
 * branch that is told a condensed summary of the stopped run's conversation, and completes with one
 * pull request. Non-writers get the usual refusal; a malformed budget is explained.
 */
import { execFileSync } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runCodingAgent } from "#application/agent/coding-agent.js"
import { loadConfig } from "#main/config.js"
import { type Container, createContainer } from "#main/container.js"
import { commentPayload } from "../doubles/github/webhook-payloads.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import { type ScriptedModelServer, startScriptedModelServer } from "../doubles/scripted-model-server.js"
import { createCapturingLogger } from "../support/logger.js"
import { finished, waitForRun } from "../support/runs.js"
import { FIXED_LINE_NEW, FIXED_LINE_OLD, SAMPLE_FILES, SAMPLE_ISSUE } from "../support/sample-repo.js"

const TOKEN = "ghp_continueTestToken_0123456789"
const KEY = "sk-continue-test-key-0123456789"
const REPO = "acme/mathlib"
/** $1 per 1000 prompt tokens (the model table's price is per million) */
const PRICES = JSON.stringify({ scripted: { input: 1000, output: 0 } })
/** every step costs $0.40 */
const usage = { prompt_tokens: 400, completion_tokens: 10 }
const SUMMARY =
  "SUMMARY-7731: clamp() in src/math.js was marked for the high bound; the bound itself is still to apply."
/** the stopped run's work in progress: tests still fail on it */
const HALF_DONE = "  return Math.max(low, value) // TODO: apply the high bound"
const step = (name: string, args: Record<string, unknown>) => ({
  toolCalls: [{ name, arguments: args }],
  usage,
})
const submit = step("submit", {
  title: "Make clamp() respect the upper bound",
  summary: "clamp() caps at high.",
})

describe("/prwright continue", () => {
  let github: GitHubDouble
  let model: ScriptedModelServer
  let container: Container
  let dataDir: string
  let delivery = 0

  beforeAll(async () => {
    github = await startGitHubDouble({ tokens: { [TOKEN]: { login: "prwright-bot", repos: "*" } } })
    await github.createRepo(REPO, { files: SAMPLE_FILES })
    github.grant(REPO, "alice", "write")
    github.grant(REPO, "mallory", "read")
    model = await startScriptedModelServer({
      apiKey: KEY,
      script: [
        // the first run: $0.40 a step against a $1 cap, stopped after the third (the fix, not yet tested)
        step("bash", { command: "npm test" }),
        step("str_replace_based_edit_tool", { command: "view", path: "src/math.js" }),
        step("str_replace_based_edit_tool", {
          command: "str_replace",
          path: "src/math.js",
          old_str: FIXED_LINE_OLD,
          new_str: HALF_DONE,
        }),
        // the continued run: the condenser's summary of the first run, the rest of the fix, submit, review
        { text: SUMMARY, usage: { prompt_tokens: 100, completion_tokens: 10 } },
        step("str_replace_based_edit_tool", {
          command: "str_replace",
          path: "src/math.js",
          old_str: HALF_DONE,
          new_str: FIXED_LINE_NEW,
        }),
        submit,
        submit,
      ],
    })
    dataDir = await mkdtemp(path.join(tmpdir(), "prwright-continue-"))
    const config = loadConfig({
      PRWRIGHT_DATA_DIR: dataDir,
      GITHUB_API_URL: github.apiUrl,
      GITHUB_TOKEN: TOKEN,
      GITHUB_WEBHOOK_SECRET: "whsec-continue",
      LLM_PROVIDER: "openai-compatible",
      LLM_MODEL: "scripted",
      LLM_BASE_URL: model.baseUrl,
      LLM_API_KEY: KEY,
      PRWRIGHT_MODEL_PRICES: PRICES,
      PRWRIGHT_MAX_COST_USD: "1",
      PRWRIGHT_DAILY_LIMIT_USD: "20",
      PRWRIGHT_API_TOKEN: "prw_continue_test_token_0123",
    })
    container = await createContainer(config, {
      logger: createCapturingLogger(),
      coder: (options) => runCodingAgent({ ...options, maxRetries: 0, secrets: config.secrets }),
    })
    container.startWorkers(["resolve"])
  })
  afterAll(async () => {
    await container?.close()
    await model?.close()
    await github?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  const comment = (issue: number, body: string, login: string) =>
    container.webhooks.handle({
      name: "issue_comment",
      deliveryId: `continue-${++delivery}`,
      payload: commentPayload({ repo: REPO, issue, body, sender: { login } }),
    })

  it("a budget stop, then `/prwright continue +$2`: same branch, the condensed summary, one pull request", async () => {
    const issue = github.createIssue(REPO, SAMPLE_ISSUE)
    const first = await container.requester.enqueue(
      "resolve-issue",
      { repoFullName: REPO, issueNumber: issue },
      { source: "api" },
    )
    const stopped = await waitForRun(container.store, first.jobId, finished, 60_000)
    expect(stopped.status).toBe("failed")
    expect(stopped.error).toMatch(/^the agent stopped \(budget\)/)
    const branch = stopped.artifacts.branchName!
    const wip = (await github.refSha(REPO, `refs/heads/${branch}`))!
    expect(wip).toBeTruthy()
    expect((await github.branchFiles(REPO, branch))["src/math.js"]).toContain(HALF_DONE)
    const stopComment = github.comments(REPO, issue).at(-1)?.body ?? ""
    expect(stopComment).toContain("`/prwright continue +$N`")
    expect(github.pullRequests(REPO)).toHaveLength(0)

    // someone without write access: the usual refusal, nothing started
    expect((await comment(issue, "/prwright continue +$2", "mallory")).outcome).toBe("not-authorized")
    // a budget that is not one: explained, nothing started
    const bad = await comment(issue, "/prwright continue +$lots", "alice")
    expect(bad.outcome).toBe("ignored")
    expect(github.comments(REPO, issue).at(-1)?.body).toContain("`/prwright continue +$N`")

    // the repository's daily limit leaves $1.50 after the stopped run's $1.20: the +$2 is lowered to that
    expect(stopped.usage.costUsd).toBeCloseTo(1.2, 5)
    await container.store.putRepoSettings(REPO, { dailyLimitUsd: 2.7 })
    const started = await comment(issue, "/prwright continue +$2", "alice")
    expect(started).toMatchObject({ outcome: "started", type: "resolve-issue", issueNumber: issue })
    const jobId = (started as { jobId: string }).jobId
    const run = await waitForRun(container.store, jobId, finished, 60_000)
    expect(run.error).toBeUndefined()
    expect(run.status).toBe("completed")
    expect(run.input).toMatchObject({ continueFrom: { runId: stopped.id, budgetUsd: 2 } })
    expect(model.errors).toEqual([])

    // the same branch, one commit on top of the stopped run's work in progress, one PR
    expect(run.artifacts.branchName).toBe(branch)
    const head = (await github.refSha(REPO, `refs/heads/${branch}`))!
    const repoDir = github.state.repos.get(REPO)!.gitDir
    expect(execFileSync("git", ["merge-base", "--is-ancestor", wip, head], { cwd: repoDir }).toString()).toBe(
      "",
    )
    const pulls = github.pullRequests(REPO)
    expect(pulls).toHaveLength(1)
    expect(pulls[0]?.head).toBe(branch)
    expect((await github.branchFiles(REPO, branch))["src/math.js"]).toContain(FIXED_LINE_NEW)

    // the continued run cost more than the default $1 cap allows (the +$2 budget, lowered to the $1.50 the
    // daily limit leaves), the summary included
    expect(run.usage.costUsd).toBeGreaterThan(1)
    expect(run.usage.costUsd).toBeLessThanOrEqual(1.5)
    const logs = (await container.store.listEvents(jobId)).flatMap((e) =>
      e.type === "log" ? [e.message] : [],
    )
    expect(logs.find((m) => m.startsWith("continuing run"))).toContain(
      `continuing run ${stopped.id} on ${branch} with a budget of $1.50;`,
    )

    // the condenser saw the stopped run's conversation; the coding agent was told the summary
    const requests = model.requests.map((r) => JSON.stringify(r.body))
    const condense = requests.findIndex((r) => r.includes("condense the working history"))
    expect(condense).toBe(3)
    expect(requests[condense]).toContain("ASSISTANT CALLS str_replace_based_edit_tool")
    expect(requests[condense + 1]).toContain("SUMMARY-7731")
    expect(requests[condense + 1]).toContain(`continues run ${stopped.id}`)
  }, 120_000)

  it("explains when there is no run that stopped on its budget", async () => {
    const issue = github.createIssue(REPO, { title: "t", body: "b" })
    const outcome = await comment(issue, "/prwright continue", "alice")
    expect(outcome).toMatchObject({
      outcome: "ignored",
      reason: expect.stringContaining("has no run to continue"),
    })
    expect(github.comments(REPO, issue).at(-1)?.body).toContain("/prwright resolve")
  })
})
