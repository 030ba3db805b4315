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

  it("serves pull requests in GitHub's shapes, with GitHub's 422 bodies, and shows what a branch holds", async () => {
    const cloneUrl = `${double.webUrl}/octo/public.git`
    const branch = "feature/pr"
    const headSha = await pushFiles({
      cloneUrl,
      token: TOKEN,
      branch,
      baseBranch: "main",
      files: { "src/index.ts": "export const x = 1\n", "docs/new.md": "new\n" },
    })
    const post = (body: unknown) =>
      api("/repos/octo/public/pulls", { method: "POST", body: JSON.stringify(body) })

    const created = await post({ title: "Add x", body: "Closes #1", head: branch, base: "main", draft: true })
    expect(created.status).toBe(201)
    const pr = await json(created)
    expect(openApiProblems("pulls/create", 201, pr)).toEqual([])
    expect(pr).toMatchObject({
      title: "Add x",
      body: "Closes #1",
      state: "open",
      draft: true,
      head: { ref: branch, sha: headSha, label: `octo:${branch}`, repo: { full_name: "octo/public" } },
      base: { ref: "main" },
      commits: 1,
      changed_files: 2,
      html_url: `${double.webUrl}/octo/public/pull/${pr.number}`,
    })
    expect(created.headers.get("location")).toBe(pr.url)

    const duplicate = await post({ title: "again", head: `octo:${branch}`, base: "main" })
    expect(duplicate.status).toBe(422)
    expect(await json(duplicate)).toMatchObject({
      message: "Validation Failed",
      errors: [
        {
          resource: "PullRequest",
          code: "custom",
          message: `A pull request already exists for octo:${branch}.`,
        },
      ],
      documentation_url: expect.stringContaining("docs.github.com"),
    })
    const noBranch = await post({ title: "t", head: "missing", base: "main" })
    expect(noBranch.status).toBe(422)
    expect((await json(noBranch)).errors).toEqual([
      { resource: "PullRequest", field: "head", code: "invalid" },
    ])
    const noChange = await post({ title: "t", head: "main", base: "main" })
    expect((await json(noChange)).errors[0].message).toBe("No commits between main and main")

    const listed = await json(await api(`/repos/octo/public/pulls?head=octo:${encodeURIComponent(branch)}`))
    expect(listed.map((p: { number: number }) => p.number)).toEqual([pr.number])
    expect(openApiProblems("pulls/list", 200, listed)).toEqual([])
    expect(await json(await api("/repos/octo/public/pulls?head=octo:other"))).toEqual([])
    expect(await json(await api("/repos/octo/public/pulls?state=closed"))).toEqual([])

    const got = await json(await api(`/repos/octo/public/pulls/${pr.number}`))
    expect(openApiProblems("pulls/get", 200, got)).toEqual([])
    const patched = await api(`/repos/octo/public/pulls/${pr.number}`, {
      method: "PATCH",
      body: JSON.stringify({ title: "Add x (v2)", state: "closed" }),
    })
    const closed = await json(patched)
    expect(openApiProblems("pulls/update", 200, closed)).toEqual([])
    expect(closed).toMatchObject({ title: "Add x (v2)", state: "closed", closed_at: expect.any(String) })
    expect(double.pullRequests("octo/public").map((p) => p.state)).toEqual(["closed"])
    expect((await api("/repos/octo/public/pulls/999")).status).toBe(404)

    const files = await double.branchFiles("octo/public", branch)
    expect(files["docs/new.md"]).toBe("new\n")
    expect(files["src/index.ts"]).toBe("export const x = 1\n")
    const diff = await double.diff("octo/public", "main", branch)
    expect(diff).toContain("+export const x = 1")
    expect(diff).toContain("diff --git a/docs/new.md b/docs/new.md")
  })

  it("hosts an existing repository, and refuses pushes from a token without push access (403)", async () => {
    const source = path.join(work, "source")
    await run("git", ["init", "--quiet", "-b", "trunk", source])
    await run(
      "git",
      ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "--quiet", "--allow-empty", "-m", "one"],
      {
        cwd: source,
      },
    )
    const hosted = await double.createRepo("octo/imported", { from: source })
    expect(await json(await api("/repos/octo/imported"))).toMatchObject({ default_branch: "trunk" })
    expect(await double.refSha("octo/imported", "refs/heads/trunk")).toBe(hosted.headSha)

    const readOnly = await startGitHubDouble({
      tokens: { ghp_readonly0000000000000000000001: { login: "r", repos: "*", push: false } },
    })
    try {
      const repo = await readOnly.createRepo("octo/ro", { files: { "a.txt": "a\n" } })
      const failed = pushFiles({
        cloneUrl: repo.cloneUrl,
        token: "ghp_readonly0000000000000000000001",
        branch: "main",
        files: { "b.txt": "b\n" },
      })
      await expect(failed).rejects.toThrow(/403/)
    } finally {
      await readOnly.close()
    }
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
