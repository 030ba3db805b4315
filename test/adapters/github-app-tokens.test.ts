/**
 * GitHub App installation tokens against the GitHub double: the JWT is verified with the app's public key,
 * tokens are minted once and shared, re-minted near expiry, looked up per repository, and failures say
 * what to fix without carrying the key, the JWT or a token.
 */
import { generateKeyPairSync } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { inspect } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createGitCliWorkspace } from "#adapters/git/git-cli-workspace.js"
import { createInstallationTokens, repoOfCloneUrl } from "#adapters/github/app-tokens.js"
import { createOctokitGitHub, gitAuthHeader } from "#adapters/github/octokit-github.js"
import { GitHubError } from "#domain/errors.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import { openApiProblems } from "../doubles/github/openapi-shape.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"

const pair = () =>
  generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  })
const app = pair()
const stranger = pair()
const APP_ID = "4242"
const demo = parseRepoRef("octo/demo")
const tools = parseRepoRef("octo/tools")
const other = parseRepoRef("acme/other")
const absent = parseRepoRef("octo/absent")
const paused = parseRepoRef("paused/repo")

describe("createInstallationTokens against the GitHub double", () => {
  let double: GitHubDouble
  // a double whose tokens live 4 minutes: less than the 5-minute margin, so every call mints anew
  let shortLived: GitHubDouble

  const apps = {
    [APP_ID]: {
      publicKey: app.publicKey,
      slug: "prwright-test",
      installations: {
        "11": { repos: ["octo/demo", "octo/tools"] },
        "12": { repos: ["acme/other"] },
        "13": { repos: ["paused/repo"], suspended: true },
      },
    },
  }

  beforeAll(async () => {
    double = await startGitHubDouble({ tokens: {}, apps })
    shortLived = await startGitHubDouble({ tokens: {}, apps, appTokenTtlMs: 4 * 60_000 })
    for (const d of [double, shortLived]) {
      await d.createRepo("octo/demo", { files: { "README.md": "demo\n" }, private: true })
      await d.createRepo("acme/other", { files: { "README.md": "other\n" } })
      d.createIssue("octo/demo", { title: "Bug", body: "It breaks" })
    }
  })
  afterAll(async () => {
    await double?.close()
    await shortLived?.close()
  })

  const lookups = (d: GitHubDouble) => d.requests.filter((r) => r.path.endsWith("/installation")).length
  const clean = (error: unknown, d: GitHubDouble) => {
    const text = `${(error as Error).message}\n${inspect(error, { depth: 8 })}`
    for (const jwt of d.appJwts) expect(text).not.toContain(jwt)
    for (const { token } of d.mintedTokens) expect(text).not.toContain(token)
    expect(text).not.toContain(app.privateKey.split("\n")[1])
  }
  const rejection = async (promise: Promise<unknown>, d: GitHubDouble): Promise<GitHubError> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(GitHubError)
    clean(error, d)
    return error as GitHubError
  }

  it("many concurrent callers share one installation lookup and one mint; the answers fit GitHub's schemas", async () => {
    const bodies = new Map<string, unknown>()
    const recordingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      bodies.set(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`, await response.clone().json())
      return response
    }
    const tokens = createInstallationTokens({
      appId: APP_ID,
      privateKey: app.privateKey,
      baseUrl: double.apiUrl,
      fetch: recordingFetch,
    })
    const before = double.mintedTokens.length
    const got = await Promise.all(Array.from({ length: 8 }, () => tokens.tokenFor(demo)))
    expect(new Set(got).size).toBe(1)
    expect(double.mintedTokens.length - before).toBe(1)
    expect(double.mintedTokens.at(-1)).toMatchObject({ token: got[0], installationId: 11, appId: APP_ID })
    // later calls come from the cache
    expect(await tokens.tokenFor(demo)).toBe(got[0])
    expect(double.mintedTokens.length - before).toBe(1)
    expect(
      openApiProblems(
        "apps/get-repo-installation",
        200,
        bodies.get("GET /api/v3/repos/octo/demo/installation"),
      ),
    ).toEqual([])
    expect(
      openApiProblems(
        "apps/create-installation-access-token",
        201,
        bodies.get("POST /api/v3/app/installations/11/access_tokens"),
      ),
    ).toEqual([])
    // the token works for the installation's private repository, and only there
    const auth = { authorization: `token ${got[0]}` }
    expect((await fetch(`${double.apiUrl}/repos/octo/demo`, { headers: auth })).status).toBe(200)
    expect((await fetch(`${double.apiUrl}/repos/acme/other`, { headers: auth })).status).toBe(404)
  })

  it("looks the installation up per repository: a second repo of the same installation reuses its token", async () => {
    const tokens = createInstallationTokens({
      appId: APP_ID,
      privateKey: app.privateKey,
      baseUrl: double.apiUrl,
    })
    const lookupsBefore = lookups(double)
    const mintsBefore = double.mintedTokens.length
    const a = await tokens.tokenFor(demo)
    const b = await tokens.tokenFor(tools)
    const c = await tokens.tokenFor(other)
    expect(b).toBe(a)
    expect(c).not.toBe(a)
    expect(lookups(double) - lookupsBefore).toBe(3)
    expect(double.mintedTokens.slice(mintsBefore).map((m) => m.installationId)).toEqual([11, 12])
    await tokens.tokenFor(demo)
    await tokens.tokenFor(other)
    expect(lookups(double) - lookupsBefore).toBe(3)
  })

  it("mints again once the token is within 5 minutes of expiring", async () => {
    // tokens that live 6 minutes: fresh for one more minute, then due for renewal
    const sixMinutes = await startGitHubDouble({ tokens: {}, apps, appTokenTtlMs: 6 * 60_000 })
    try {
      let now = Date.now()
      const tokens = createInstallationTokens({
        appId: APP_ID,
        privateKey: app.privateKey,
        baseUrl: sixMinutes.apiUrl,
        clock: { now: () => new Date(now) },
      })
      const first = await tokens.tokenFor(demo)
      now += 30_000
      expect(await tokens.tokenFor(demo)).toBe(first)
      now += 60_000 // 90 s in: under 5 minutes left
      const second = await tokens.tokenFor(demo)
      expect(second).not.toBe(first)
      expect(sixMinutes.mintedTokens.map((m) => m.token)).toEqual([first, second])
    } finally {
      await sixMinutes.close()
    }
  })

  it("the Octokit adapter authenticates each call with the repository's installation token", async () => {
    const tokens = createInstallationTokens({
      appId: APP_ID,
      privateKey: app.privateKey,
      baseUrl: shortLived.apiUrl,
    })
    const github = createOctokitGitHub({ auth: tokens.tokenFor, baseUrl: shortLived.apiUrl })
    const issue = await github.getIssue(demo, 1)
    expect(issue.title).toBe("Bug")
    shortLived.expireAppTokens()
    // every minted token is now refused; the adapter asks for a token per call and gets a fresh one
    const comment = await github.createIssueComment(demo, 1, "planned")
    expect(shortLived.comments("octo/demo", 1).map((c) => c.id)).toContain(comment.id)
    expect(shortLived.comments("octo/demo", 1).at(-1)?.user).toBe("prwright-test[bot]")
    expect(await github.findIssueComment(demo, 1, "planned")).toMatchObject({ id: comment.id })
    expect(shortLived.mintedTokens.length).toBeGreaterThanOrEqual(3)
    // a repository the app is not installed on fails with the installation's fix, not a generic 404
    const error = await rejection(github.getIssue(absent, 1), shortLived)
    expect(error.message).toMatch(/GitHub App \(id 4242\) is not installed on octo\/absent: install it/)
  })

  it("git asks for the token again at push time, so a push after the clone's token expired still works", async () => {
    const tokens = createInstallationTokens({
      appId: APP_ID,
      privateKey: app.privateKey,
      baseUrl: shortLived.apiUrl,
    })
    const dataDir = await mkdtemp(path.join(tmpdir(), "app-token-push-"))
    try {
      const workspace = createGitCliWorkspace({
        dataDir,
        // as the container wires it
        authHeader: async (cloneUrl) => gitAuthHeader(await tokens.tokenFor(repoOfCloneUrl(cloneUrl))),
      })
      const cloneUrl = `${shortLived.webUrl}/octo/demo.git`
      const checkout = await workspace.checkout({
        repo: demo,
        cloneUrl,
        ref: "main",
        runId: "app-push",
        branch: "prwright/app",
      })
      await checkout.writeFile("NOTES.md", "pushed with an installation token\n")
      const sha = await checkout.commit({
        message: "notes",
        paths: ["NOTES.md"],
        author: { name: "bot", email: "bot@example.invalid" },
      })
      shortLived.expireAppTokens()
      const minted = shortLived.mintedTokens.length
      await checkout.push({ branch: "prwright/app" })
      expect(await shortLived.refSha("octo/demo", "refs/heads/prwright/app")).toBe(sha)
      expect(shortLived.mintedTokens.length).toBeGreaterThan(minted)
      await checkout.dispose()
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it("maps failures to GitHubErrors that name the fix and carry no secret", async () => {
    const tokens = createInstallationTokens({
      appId: APP_ID,
      privateKey: app.privateKey,
      baseUrl: double.apiUrl,
    })
    const notInstalled = await rejection(tokens.tokenFor(absent), double)
    expect(notInstalled.status).toBe(404)
    expect(notInstalled.retryable).toBe(false)
    expect(notInstalled.message).toMatch(
      /the GitHub App \(id 4242\) is not installed on octo\/absent: install it/,
    )

    const suspended = await rejection(tokens.tokenFor(paused), double)
    expect(suspended.status).toBe(403)
    expect(suspended.message).toMatch(/suspended/)

    const wrongKey = createInstallationTokens({
      appId: APP_ID,
      privateKey: stranger.privateKey,
      baseUrl: double.apiUrl,
    })
    const refused = await rejection(wrongKey.tokenFor(demo), double)
    expect(refused.status).toBe(401)
    expect(refused.retryable).toBe(false)
    expect(refused.message).toMatch(
      /^GitHub refused the app's JWT: check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY/,
    )
    const wrongId = createInstallationTokens({
      appId: "9999",
      privateKey: app.privateKey,
      baseUrl: double.apiUrl,
    })
    expect((await rejection(wrongId.tokenFor(demo), double)).status).toBe(401)

    const unreachable = createInstallationTokens({
      appId: APP_ID,
      privateKey: app.privateKey,
      baseUrl: "http://127.0.0.1:1/api/v3",
    })
    const network = await rejection(unreachable.tokenFor(demo), double)
    expect(network.retryable).toBe(true)
    expect(network.message).toMatch(/could not reach GitHub at http:\/\/127\.0\.0\.1:1\/api\/v3/)
    // a failed lookup is not remembered: installing the app later works without a restart
    ;(apps[APP_ID]!.installations as Record<string, { repos: string[] }>)["14"] = { repos: ["octo/absent"] }
    await expect(tokens.tokenFor(absent)).resolves.toMatch(/^ghs_/)
    expect(double.mintedTokens.at(-1)?.installationId).toBe(14)
  })

  it("derives the repository from a clone URL", () => {
    expect(repoOfCloneUrl("https://github.com/octo/demo.git")).toEqual(demo)
    expect(repoOfCloneUrl(`${double.webUrl}/octo/demo.git`).fullName).toBe("octo/demo")
    expect(repoOfCloneUrl("https://ghe.example.com/octo/tools").fullName).toBe("octo/tools")
  })
})
