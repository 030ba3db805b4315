import { execFile } from "node:child_process"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { promisify } from "node:util"
import { gzipSync } from "node:zlib"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { basicAuthHeader, gitHeaderEnv, pushFiles } from "./github/git-push.js"
import { openApiProblems } from "./github/openapi-shape.js"
import { type GitHubDouble, startGitHubDouble } from "./github-double.js"

const run = promisify(execFile)
// biome-ignore lint/suspicious/noExplicitAny: the tests read GitHub's JSON freely; the OpenAPI check types it
const json = async (res: Response): Promise<any> => res.json()
const TOKEN = "ghp_doubleTestTokenAllAccess0001"
const LIMITED = "ghp_doubleTestTokenPublicOnly002"

describe("GitHub double", () => {
  let double: GitHubDouble
  let work: string

  beforeAll(async () => {
    double = await startGitHubDouble({
      tokens: {
        [TOKEN]: { login: "prwright-bot", repos: "*" },
        [LIMITED]: { login: "outsider", repos: ["octo/public"] },
      },
    })
    await double.createRepo("octo/public", {
      files: { "README.md": "# public\n", "src/index.ts": "export {}\n" },
    })
    await double.createRepo("octo/secret", {
      files: { "a.txt": "a\n" },
      private: true,
      defaultBranch: "trunk",
    })
    work = await mkdtemp(path.join(tmpdir(), "double-test-"))
  })
  afterAll(async () => {
    await double?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  const api = (route: string, init: RequestInit & { token?: string | null } = {}) => {
    const headers = new Headers(init.headers)
    if (init.token !== null) headers.set("authorization", `token ${init.token ?? TOKEN}`)
    if (init.body) headers.set("content-type", "application/json")
    return fetch(`${double.apiUrl}${route}`, { ...init, headers })
  }

  it("serves GET /repos/{o}/{r} in GitHub's shape, with clone_url on the double's git endpoint", async () => {
    const res = await api("/repos/octo/secret")
    expect(res.status).toBe(200)
    expect(res.headers.get("x-ratelimit-limit")).toBe("5000")
    const body = await json(res)
    expect(body).toMatchObject({
      full_name: "octo/secret",
      private: true,
      default_branch: "trunk",
      clone_url: `${double.webUrl}/octo/secret.git`,
      html_url: `${double.webUrl}/octo/secret`,
      permissions: { pull: true, push: true },
    })
    expect(openApiProblems("repos/get", 200, body)).toEqual([])
  })

  it("the OpenAPI check is not vacuous: it reports missing and mistyped fields", async () => {
    const body = await json(await api("/repos/octo/public"))
    const { clone_url: _dropped, ...rest } = body
    expect(openApiProblems("repos/get", 200, { ...rest, private: "no" })).toEqual(
      expect.arrayContaining([expect.stringContaining("clone_url"), expect.stringContaining("private")]),
    )
  })

  it("serves issues and comments in GitHub's shape", async () => {
    const number = double.createIssue("octo/public", { title: "Bug", body: "It breaks", labels: ["bug"] })
    const issue = await json(await api(`/repos/octo/public/issues/${number}`))
    expect(issue).toMatchObject({ number, title: "Bug", body: "It breaks", state: "open", comments: 0 })
    expect(issue.labels.map((label: { name: string }) => label.name)).toEqual(["bug"])
    expect(openApiProblems("issues/get", 200, issue)).toEqual([])

    const created = await api(`/repos/octo/public/issues/${number}/comments`, {
      method: "POST",
      body: JSON.stringify({ body: "first" }),
    })
    expect(created.status).toBe(201)
    const comment = await json(created)
    expect(comment.user.login).toBe("prwright-bot")
    expect(openApiProblems("issues/create-comment", 201, comment)).toEqual([])

    const patched = await api(`/repos/octo/public/issues/comments/${comment.id}`, {
      method: "PATCH",
      body: JSON.stringify({ body: "edited" }),
    })
    expect(patched.status).toBe(200)
    expect(openApiProblems("issues/update-comment", 200, await json(patched))).toEqual([])
    expect(double.comments("octo/public", number).map((c) => c.body)).toEqual(["edited"])

    const list = await json(await api(`/repos/octo/public/issues/${number}/comments`))
    expect(list.map((c: { id: number }) => c.id)).toEqual([comment.id])
    expect(openApiProblems("issues/list-comments", 200, list)).toEqual([])
    expect((await json(await api(`/repos/octo/public/issues/${number}`))).comments).toBe(1)

    const empty = await api(`/repos/octo/public/issues/${number}/comments`, { method: "POST", body: "{}" })
    expect(empty.status).toBe(422)
    expect((await json(empty)).message).toBe("Validation Failed")
  })

  it("serves GET /user for the token's login", async () => {
    const user = await json(await api("/user", { token: LIMITED }))
    expect(user.login).toBe("outsider")
    expect(openApiProblems("users/get-authenticated", 200, user)).toEqual([])
  })

  it("answers auth and visibility failures like GitHub", async () => {
    const missing = await api("/repos/octo/public", { token: null })
    expect(missing.status).toBe(401)
    const bad = await api("/repos/octo/public", { token: "ghp_nope" })
    expect(bad.status).toBe(401)
    expect(await json(bad)).toMatchObject({
      message: "Bad credentials",
      documentation_url: expect.any(String),
    })
    const bearer = await fetch(`${double.apiUrl}/user`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(bearer.status).toBe(200)

    const hidden = await api("/repos/octo/secret", { token: LIMITED })
    expect(hidden.status).toBe(404)
    expect(await json(hidden)).toMatchObject({ message: "Not Found" })
    expect((await api("/repos/octo/nothing")).status).toBe(404)
    expect((await api("/repos/octo/public/issues/999")).status).toBe(404)
  })

  it("serves git over smart HTTP with Basic token auth; push works; gzip request bodies are accepted", async () => {
    const cloneUrl = `${double.webUrl}/octo/public.git`
    const dir = path.join(work, "clone")
    await run("git", ["clone", "--quiet", cloneUrl, dir], {
      env: gitHeaderEnv(cloneUrl, basicAuthHeader(TOKEN)),
    })
    expect(await readFile(path.join(dir, "README.md"), "utf8")).toBe("# public\n")

    const sha = await pushFiles({ cloneUrl, token: TOKEN, branch: "main", files: { "NEW.md": "new\n" } })
    expect(await double.refSha("octo/public", "refs/heads/main")).toBe(sha)

    // protocol v2 ls-refs, gzipped as git does for large requests
    const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, "0")}${line}`
    const request = `${pkt("command=ls-refs\n")}0001${pkt("ref-prefix refs/heads/\n")}0000`
    const res = await fetch(`${cloneUrl}/git-upload-pack`, {
      method: "POST",
      body: gzipSync(request),
      headers: {
        authorization: basicAuthHeader(TOKEN),
        "content-type": "application/x-git-upload-pack-request",
        "content-encoding": "gzip",
        "git-protocol": "version=2",
      },
    })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain(`${sha} refs/heads/main`)
  })

  it("refuses git without credentials (401 + WWW-Authenticate) and hides repositories the token cannot see (404)", async () => {
    const url = `${double.webUrl}/octo/secret.git/info/refs?service=git-upload-pack`
    const anonymous = await fetch(url)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get("www-authenticate")).toBe('Basic realm="GitHub"')
    expect((await fetch(url, { headers: { authorization: basicAuthHeader("ghp_wrong") } })).status).toBe(401)
    expect((await fetch(url, { headers: { authorization: basicAuthHeader(LIMITED) } })).status).toBe(404)

    const failed = run("git", ["ls-remote", `${double.webUrl}/octo/secret.git`], {
      env: gitHeaderEnv(double.webUrl, basicAuthHeader(LIMITED)),
    })
    await expect(failed).rejects.toThrow(/not found/)
  })

  it("keeps tokens out of its request log, and flags a token carried in a URL", async () => {
    const log = JSON.stringify(double.requests)
    expect(double.requests.length).toBeGreaterThan(5)
    expect(log).not.toContain(TOKEN)
    expect(log).not.toContain(LIMITED)
    expect(log).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString("base64"))
    expect(double.requests.find((r) => r.kind === "git")?.headers.authorization).toBe("Basic [redacted]")
    expect(double.tokenSeenInUrl).toBe(false)

    await fetch(`${double.apiUrl}/user?access_token=${TOKEN}`)
    expect(double.tokenSeenInUrl).toBe(true)
    expect(JSON.stringify(double.requests)).not.toContain(TOKEN)
  })
})
