import { inspect } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createOctokitGitHub, gitAuthHeader } from "#adapters/github/octokit-github.js"
import { GitHubError } from "#domain/errors.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import { pushFiles } from "../doubles/github/git-push.js"
import { openApiProblems } from "../doubles/github/openapi-shape.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"

const TOKEN = "ghp_octokitAdapterToken0000000001"
const LIMITED = "ghp_octokitAdapterLimited00000002"
const demo = parseRepoRef("octo/demo")
const secret = parseRepoRef("octo/secret")

const rejection = async (promise: Promise<unknown>): Promise<GitHubError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(GitHubError)
  const text = `${(error as Error).message}\n${inspect(error, { depth: 8 })}`
  expect(text).not.toContain(TOKEN)
  expect(text).not.toContain(LIMITED)
  return error as GitHubError
}

describe("createOctokitGitHub against the GitHub double", () => {
  let double: GitHubDouble
  let issueNumber: number

  beforeAll(async () => {
    double = await startGitHubDouble({
      tokens: {
        [TOKEN]: { login: "prwright-bot", repos: "*" },
        [LIMITED]: { login: "outsider", repos: ["octo/demo"] },
      },
    })
    await double.createRepo("octo/demo", { files: { "README.md": "demo\n" } })
    await double.createRepo("octo/secret", { files: { "README.md": "secret\n" }, private: true })
    issueNumber = double.createIssue("octo/demo", {
      title: "Add a flag",
      body: "Please add --verbose",
      labels: ["enhancement", "prwright:plan"],
      user: "alice",
    })
  })
  afterAll(async () => {
    await double?.close()
  })

  it("reads a repository and its issue, and the raw answers fit GitHub's OpenAPI schemas", async () => {
    const bodies = new Map<string, unknown>()
    const recordingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      const url = new URL(input instanceof Request ? input.url : String(input))
      bodies.set(`${init?.method ?? "GET"} ${url.pathname}`, await response.clone().json())
      return response
    }
    const github = createOctokitGitHub({ token: TOKEN, baseUrl: double.apiUrl, fetch: recordingFetch })

    const repo = await github.getRepository(demo)
    expect(repo).toEqual({
      fullName: "octo/demo",
      cloneUrl: `${double.webUrl}/octo/demo.git`,
      defaultBranch: "main",
      private: false,
      htmlUrl: `${double.webUrl}/octo/demo`,
    })
    const issue = await github.getIssue(demo, issueNumber)
    expect(issue).toEqual({
      number: issueNumber,
      title: "Add a flag",
      body: "Please add --verbose",
      state: "open",
      htmlUrl: `${double.webUrl}/octo/demo/issues/${issueNumber}`,
      author: "alice",
      labels: ["enhancement", "prwright:plan"],
      isPullRequest: false,
    })
    expect(openApiProblems("repos/get", 200, bodies.get("GET /api/v3/repos/octo/demo"))).toEqual([])
    expect(
      openApiProblems("issues/get", 200, bodies.get(`GET /api/v3/repos/octo/demo/issues/${issueNumber}`)),
    ).toEqual([])
    expect(double.requests.at(-1)?.headers.authorization).toBe("token [redacted]")
    expect(double.requests.at(-1)?.headers["user-agent"]).toContain("prwright")
  })

  it("creates a comment and edits it in place", async () => {
    const github = createOctokitGitHub({ token: TOKEN, baseUrl: double.apiUrl })
    const created = await github.createIssueComment(demo, issueNumber, "Planning…")
    expect(created.body).toBe("Planning…")
    expect(created.htmlUrl).toContain(`/octo/demo/issues/${issueNumber}#issuecomment-${created.id}`)
    const updated = await github.updateIssueComment(demo, created.id, "The plan")
    expect(updated).toEqual({ ...created, body: "The plan" })
    expect(double.comments("octo/demo", issueNumber).map((c) => c.body)).toEqual(["The plan"])
  })

  it("finds, creates (idempotently per branch) and updates pull requests", async () => {
    const github = createOctokitGitHub({ token: TOKEN, baseUrl: double.apiUrl })
    const branch = "prwright/issue-1-add-a-flag"
    const { cloneUrl } = await github.getRepository(demo)
    await pushFiles({ cloneUrl, token: TOKEN, branch, baseBranch: "main", files: { "flag.ts": "x\n" } })
    expect(await github.findPullRequest(demo, branch)).toBeUndefined()

    const pr = { title: "Add --verbose", body: "Closes #1", head: branch, base: "main", draft: true }
    const created = await github.createPullRequest(demo, pr)
    expect(created).toEqual({
      number: expect.any(Number),
      htmlUrl: `${double.webUrl}/octo/demo/pull/${created.number}`,
      state: "open",
      draft: true,
      head: branch,
      base: "main",
      title: "Add --verbose",
      body: "Closes #1",
    })
    // a retried job creates again: GitHub answers 422 "already exists", and the open one is returned
    const again = await github.createPullRequest(demo, { ...pr, title: "Second try" })
    expect(again).toEqual(created)
    expect(double.pullRequests("octo/demo")).toHaveLength(1)
    const rejected = double.requests.filter((r) => r.method === "POST" && r.path.endsWith("/pulls"))
    expect(rejected.map((r) => r.status)).toEqual([201, 422])

    expect(await github.findPullRequest(demo, branch)).toEqual(created)
    expect(await github.findPullRequest(demo, "prwright/other")).toBeUndefined()
    const updated = await github.updatePullRequest(demo, created.number, { body: "Closes #1\n\nDone." })
    expect(updated).toEqual({ ...created, body: "Closes #1\n\nDone." })
    const retitled = await github.updatePullRequest(demo, created.number, { title: "Add a --verbose flag" })
    expect(retitled).toMatchObject({ title: "Add a --verbose flag", body: "Closes #1\n\nDone." })
    expect(double.pullRequests("octo/demo")[0]).toMatchObject({ title: "Add a --verbose flag", draft: true })
  })

  it("explains pull request failures: missing branch (422), no access (403), unknown number (404)", async () => {
    const github = createOctokitGitHub({ token: TOKEN, baseUrl: double.apiUrl })
    const missing = await rejection(
      github.createPullRequest(demo, {
        title: "t",
        body: "b",
        head: "nope/branch",
        base: "main",
        draft: false,
      }),
    )
    expect(missing.status).toBe(422)
    expect(missing.retryable).toBe(false)
    expect(missing.message).toMatch(
      /head invalid.*branch nope\/branch does not exist on GitHub; push it first/,
    )

    const forbidden = await rejection(
      createOctokitGitHub({
        token: TOKEN,
        baseUrl: double.apiUrl,
        fetch: async () =>
          new Response(
            JSON.stringify({
              message: "Resource not accessible by integration",
              documentation_url: "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
              status: "403",
            }),
            { status: 403, headers: { "content-type": "application/json", "x-ratelimit-remaining": "4999" } },
          ),
      }).createPullRequest(demo, { title: "t", body: "b", head: "x", base: "main", draft: false }),
    )
    expect(forbidden.status).toBe(403)
    expect(forbidden.retryable).toBe(false)
    expect(forbidden.message).toMatch(/Resource not accessible by integration.*pull_requests: write/)

    const unknown = await rejection(github.updatePullRequest(demo, 9999, { title: "x" }))
    expect(unknown.status).toBe(404)
    expect(unknown.message).toMatch(/pull request octo\/demo#9999 was not found/)
  })

  it("maps 401 to a non-retryable GitHubError that names GITHUB_TOKEN", async () => {
    const github = createOctokitGitHub({ token: "ghp_wrongwrongwrong", baseUrl: double.apiUrl })
    const error = await rejection(github.getRepository(demo))
    expect(error.status).toBe(401)
    expect(error.code).toBe("unauthorized")
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/GitHub refused the token \(401 Bad credentials\): check GITHUB_TOKEN/)
    expect(error.message).not.toContain("ghp_wrongwrongwrong")
  })

  it("maps 404 on a hidden repository to a non-retryable error that says how to grant access", async () => {
    const github = createOctokitGitHub({ token: LIMITED, baseUrl: double.apiUrl })
    const error = await rejection(github.getRepository(secret))
    expect(error.status).toBe(404)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(
      /repository octo\/secret was not found, or the token cannot read it: give the token access/,
    )

    const missingIssue = await rejection(github.getIssue(demo, 999))
    expect(missingIssue.message).toMatch(/issue octo\/demo#999 was not found/)
    const missingComment = await rejection(github.updateIssueComment(demo, 424242, "x"))
    expect(missingComment.message).toMatch(/comment 424242 on octo\/demo was not found/)
  })

  it("treats rate limits, 5xx and network failures as retryable once its own waits are spent", async () => {
    // the adapter's waits and retries are covered by github-rate-limits.test.ts; here they are off
    const limits = { maxRetries: 0, maxWaitMs: 0 }
    const answer =
      (status: number, message: string, headers: Record<string, string> = {}): typeof fetch =>
      async () =>
        new Response(JSON.stringify({ message, documentation_url: "https://docs.github.com/rest" }), {
          status,
          headers: { "content-type": "application/json", ...headers },
        })
    const reset = String(Math.floor(Date.now() / 1000) + 60)
    const limited = await rejection(
      createOctokitGitHub({
        token: TOKEN,
        baseUrl: double.apiUrl,
        limits,
        fetch: answer(403, "API rate limit exceeded for user ID 1.", {
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": reset,
        }),
      }).getIssue(demo, 1),
    )
    expect(limited.retryable).toBe(true)
    expect(limited.message).toMatch(/rate limit/)

    const secondary = await rejection(
      createOctokitGitHub({
        token: TOKEN,
        baseUrl: double.apiUrl,
        limits,
        fetch: answer(429, "slow down", { "retry-after": "30" }),
      }).getIssue(demo, 1),
    )
    expect(secondary.retryable).toBe(true)
    expect(secondary.message).toContain("in 30s")

    const forbidden = await rejection(
      createOctokitGitHub({
        token: TOKEN,
        baseUrl: double.apiUrl,
        limits,
        fetch: answer(403, "Resource not accessible by integration"),
      }).createIssueComment(demo, 1, "x"),
    )
    expect(forbidden.retryable).toBe(false)
    expect(forbidden.message).toMatch(/issues: write/)

    const down = await rejection(
      createOctokitGitHub({
        token: TOKEN,
        baseUrl: double.apiUrl,
        limits,
        fetch: answer(502, "Server Error"),
      }).getRepository(demo),
    )
    expect(down.status).toBe(502)
    expect(down.retryable).toBe(true)

    const unreachable = await rejection(
      createOctokitGitHub({ token: TOKEN, baseUrl: "http://127.0.0.1:9/api/v3", limits }).getRepository(demo),
    )
    expect(unreachable.retryable).toBe(true)
    expect(unreachable.message).toMatch(/could not reach GitHub at http:\/\/127\.0\.0\.1:9\/api\/v3/)
  })

  it("gitAuthHeader is HTTP Basic with x-access-token and the token as password", () => {
    const header = gitAuthHeader("abc123")
    expect(header).toMatch(/^Basic /)
    expect(Buffer.from(header.slice(6), "base64").toString()).toBe("x-access-token:abc123")
  })
})
