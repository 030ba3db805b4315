/**
 * GitHub's limits against the GitHub double: a secondary limit (403 + retry-after) and a primary one
 * (x-ratelimit-remaining: 0 + x-ratelimit-reset) are waited out, 5xx are retried with backoff, a wait
 * beyond the adapter's bound fails retryable (the queue takes over), and GETs are conditional (ETag, 304).
 * The last block is the must-show: a webhook-started planning run whose plan comment meets a
 * 403 secondary-limit answer with retry-after: 2 waits it out and completes.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createOctokitGitHub } from "#adapters/github/octokit-github.js"
import { rateLimitWaitMs } from "#adapters/github/rate-limits.js"
import { GitHubError } from "#domain/errors.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import { loadConfig } from "#main/config.js"
import { createContainer } from "#main/container.js"
import { commentPayload } from "../doubles/github/webhook-payloads.js"
import { type GitHubDouble, secondaryRateLimit, startGitHubDouble } from "../doubles/github-double.js"
import { SCRIPTED_MODEL_PRICES, startScriptedModelServer } from "../doubles/scripted-model-server.js"
import { createCapturingLogger } from "../support/logger.js"
import { waitForRun } from "../support/runs.js"

const TOKEN = "ghp_limitsTestToken_0123456789"
const REPO = "acme/limits"
const repo = parseRepoRef(REPO)

describe("GitHub rate limits and transient faults (Octokit adapter)", () => {
  let github: GitHubDouble
  beforeAll(async () => {
    github = await startGitHubDouble({ tokens: { [TOKEN]: { login: "prwright-bot", repos: "*" } } })
    await github.createRepo(REPO, { files: { "README.md": "# limits\n" } })
  })
  afterAll(() => github?.close())

  const adapter = (sleeps: number[], extra: { maxWaitMs?: number; now?: () => number } = {}) =>
    createOctokitGitHub({
      token: TOKEN,
      baseUrl: github.apiUrl,
      limits: {
        sleep: async (ms) => {
          sleeps.push(ms)
        },
        random: () => 0.5,
        ...extra,
      },
    })

  it("waits out a secondary limit for the retry-after GitHub gives (real time), then posts once", async () => {
    const n = github.createIssue(REPO, { title: "t", body: "b" })
    github.failNext(secondaryRateLimit(2, { method: "POST", path: /\/issues\/\d+\/comments$/ }))
    const real = createOctokitGitHub({ token: TOKEN, baseUrl: github.apiUrl })
    const started = Date.now()
    await real.createIssueComment(repo, n, "hello")
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900)
    expect(github.comments(REPO, n).map((c) => c.body)).toEqual(["hello"])
  })

  it("waits for x-ratelimit-reset on a primary limit, and a minute for a secondary limit without retry-after", async () => {
    const n = github.createIssue(REPO, { title: "t", body: "b" })
    const now = 1_700_000_000_000
    github.failNext({
      method: "GET",
      path: /\/issues\/\d+$/,
      status: 403,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(now / 1000 + 30) },
      message: "API rate limit exceeded for user ID 1.",
    })
    github.failNext({ ...secondaryRateLimit(0), headers: {}, method: "GET", path: /\/issues\/\d+$/ })
    const sleeps: number[] = []
    const issue = await adapter(sleeps, { now: () => now }).getIssue(repo, n)
    expect(issue.number).toBe(n)
    expect(sleeps).toEqual([31_000, 60_000])
  })

  it("retries 5xx and network faults with exponential backoff; 404 and 422 are not retried", async () => {
    const n = github.createIssue(REPO, { title: "t", body: "b" })
    github.failNext({ method: "GET", path: /\/issues\/\d+$/, status: 502, message: "Bad Gateway", times: 2 })
    const sleeps: number[] = []
    expect((await adapter(sleeps).getIssue(repo, n)).number).toBe(n)
    expect(sleeps).toEqual([1000, 2000])

    const notFound: number[] = []
    await expect(adapter(notFound).getIssue(repo, 9999)).rejects.toMatchObject({ status: 404 })
    expect(notFound).toEqual([])

    const down: number[] = []
    const unreachable = createOctokitGitHub({
      token: TOKEN,
      baseUrl: "http://127.0.0.1:9/api/v3",
      limits: { sleep: async (ms) => void down.push(ms), random: () => 0.5, maxRetries: 2 },
    })
    const error = await unreachable.getIssue(repo, 1).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GitHubError)
    expect((error as GitHubError).retryable).toBe(true)
    expect(down).toEqual([1000, 2000])
  })

  it("a wait longer than the bound is not waited: the call fails retryable and says when", async () => {
    const n = github.createIssue(REPO, { title: "t", body: "b" })
    github.failNext(secondaryRateLimit(3600, { method: "GET", path: /\/issues\/\d+$/ }))
    const sleeps: number[] = []
    const error = await adapter(sleeps, { maxWaitMs: 60_000 })
      .getIssue(repo, n)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GitHubError)
    expect((error as GitHubError).retryable).toBe(true)
    expect((error as GitHubError).message).toMatch(/rate limit.*in 3600s/)
    expect(sleeps).toEqual([])
  })

  it("GETs are conditional: an unchanged resource answers 304 and the cached answer is returned", async () => {
    const n = github.createIssue(REPO, { title: "cached", body: "b" })
    const client = adapter([])
    const before = github.notModifiedCount
    const first = await client.getIssue(repo, n)
    const second = await client.getIssue(repo, n)
    expect(second).toEqual(first)
    expect(github.notModifiedCount).toBe(before + 1)
    // a change on GitHub is seen at once (the ETag no longer matches)
    github.state.repos.get(REPO)!.issues.get(n)!.title = "renamed"
    expect((await client.getIssue(repo, n)).title).toBe("renamed")
  })

  it("reads the waits GitHub asks for", () => {
    const at = (status: number, headers: Record<string, string>, message = "") =>
      rateLimitWaitMs({ status, message, response: { headers, data: { message } } }, 0)
    expect(at(403, { "retry-after": "2" })).toBe(2000)
    expect(at(429, {})).toBe(60_000)
    expect(at(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "10" })).toBe(11_000)
    expect(at(403, {}, "Resource not accessible by integration")).toBeUndefined()
    expect(at(500, { "retry-after": "2" })).toBeUndefined()
  })
})

describe("a run meets a secondary rate limit", () => {
  let github: GitHubDouble
  let dir: string
  afterAll(async () => {
    await github?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it("a 403 secondary-limit answer with retry-after: 2 on the plan comment is waited out and the run completes", async () => {
    github = await startGitHubDouble({ tokens: { [TOKEN]: { login: "prwright-bot", repos: "*" } } })
    await github.createRepo(REPO, { files: { "README.md": "# limits\n" } })
    github.grant(REPO, "alice", "write")
    const n = github.createIssue(REPO, { title: "Plan me", body: "please" })
    const model = await startScriptedModelServer({
      apiKey: "sk-limits",
      script: [{ toolCalls: [{ name: "submit_plan", arguments: { plan: "1. Do it" } }] }],
    })
    dir = await mkdtemp(path.join(tmpdir(), "prwright-limits-"))
    const logger = createCapturingLogger()
    const container = await createContainer(
      loadConfig({
        PRWRIGHT_DATA_DIR: dir,
        GITHUB_API_URL: github.apiUrl,
        GITHUB_TOKEN: TOKEN,
        GITHUB_WEBHOOK_SECRET: "whsec-limits",
        LLM_PROVIDER: "openai-compatible",
        LLM_MODEL: "scripted",
        PRWRIGHT_MODEL_PRICES: SCRIPTED_MODEL_PRICES,
        LLM_BASE_URL: model.baseUrl,
        LLM_API_KEY: "sk-limits",
        PRWRIGHT_API_TOKEN: "prw_limits_token_0123456",
      }),
      { logger },
    )
    try {
      container.startWorkers(["comment"])
      // every comment the run posts or edits meets the limit once
      github.failNext(secondaryRateLimit(2, { path: /\/issues\/(\d+\/)?comments(\/\d+)?$/, times: 1 }))
      const started = Date.now()
      const outcome = await container.webhooks.handle({
        name: "issue_comment",
        deliveryId: "limits-1",
        payload: commentPayload({ repo: REPO, issue: n, body: "/prwright plan", sender: { login: "alice" } }),
      })
      expect(outcome.outcome).toBe("started")
      const run = await waitForRun(
        container.store,
        (outcome as { jobId: string }).jobId,
        (r) => ["completed", "failed", "cancelled"].includes(r.status),
        30_000,
      )
      expect(run.status).toBe("completed")
      expect(run.attempts).toBe(1)
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900)
      expect(github.comments(REPO, n).some((c) => c.body.includes("1. Do it"))).toBe(true)
      expect(github.requests.some((r) => r.status === 403)).toBe(true)
    } finally {
      await container.close()
      await model.close()
    }
  })
})
