import { execFile } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createGitCliWorkspace } from "#adapters/git/git-cli-workspace.js"
import { createOctokitGitHub, gitAuthHeader } from "#adapters/github/octokit-github.js"
import type { Checkout, Workspace } from "#application/ports/workspace.js"
import { CancelledError, GitHubError, NotFoundError, ValidationError } from "#domain/errors.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import { pushFiles } from "../doubles/github/git-push.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import { createCapturingLogger } from "../support/logger.js"

const run = promisify(execFile)
const TOKEN = `ghs_workspaceSecret${randomBytes(8).toString("hex")}`
const LIMITED = `ghs_workspaceLimited${randomBytes(8).toString("hex")}`
const WRONG = `ghs_workspaceWrong${randomBytes(8).toString("hex")}`
const app = parseRepoRef("octo/app")

const manyLines = Array.from({ length: 30 }, (_, i) => `needle line ${i + 1}`).join("\n")

const walk = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir, { withFileTypes: true })
  const files = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name)
      return entry.isDirectory() ? walk(full) : entry.isFile() ? [full] : []
    }),
  )
  return files.flat()
}

const rejection = async (promise: Promise<unknown>): Promise<Error> =>
  promise.then(
    () => {
      throw new Error("expected a rejection")
    },
    (error: Error) => error,
  )

describe("createGitCliWorkspace against the GitHub double", () => {
  let double: GitHubDouble
  let dataDir: string
  let cloneUrl: string
  let initialSha: string
  let workspace: Workspace
  const logger = createCapturingLogger()
  const open: Checkout[] = []

  const checkout = async (runId: string, ws: Workspace = workspace, ref = "main") => {
    const result = await ws.checkout({ repo: app, cloneUrl, ref, runId })
    open.push(result)
    return result
  }

  beforeAll(async () => {
    double = await startGitHubDouble({
      tokens: {
        [TOKEN]: { login: "prwright-bot", repos: "*" },
        [LIMITED]: { login: "outsider", repos: ["octo/other"] },
      },
    })
    const created = await double.createRepo("octo/app", {
      files: {
        "README.md": "# App\nSee src.\n",
        ".gitignore": "dist/\n*.log\n",
        "src/index.ts": "export const answer = 42\n",
        "src/util/math.ts": "export const add = (a: number, b: number) => a + b // Answer helper\n",
        "docs/guide.md": "The answer is in src/index.ts\n",
        "many.txt": manyLines,
        "image.bin": "PNG\0\0\0binary",
        "big.txt": "x".repeat(3000),
      },
    })
    initialSha = created.headSha
    // the clone URL comes from the API, as in production
    cloneUrl = (await createOctokitGitHub({ token: TOKEN, baseUrl: double.apiUrl }).getRepository(app))
      .cloneUrl
    dataDir = await mkdtemp(path.join(tmpdir(), "workspace-test-"))
    workspace = createGitCliWorkspace({
      dataDir,
      authHeader: async () => gitAuthHeader(TOKEN),
      logger,
      maxFileBytes: 2000,
    })
  })

  afterAll(async () => {
    for (const c of open) await c.dispose().catch(() => undefined)
    await double?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it("mirrors the repository, makes a worktree, and reads, lists and searches it", async () => {
    const co = await checkout("run-1")
    expect(co.headSha).toBe(initialSha)
    expect(co.ref).toBe("main")
    expect(co.root).toBe(path.join(dataDir, "runs", "run-1"))
    expect((await stat(path.join(dataDir, "mirrors", "octo", "app.git", "HEAD"))).isFile()).toBe(true)

    expect(await co.readFile("src/index.ts")).toBe("export const answer = 42\n")
    expect(await co.stat("src")).toMatchObject({ kind: "dir" })
    expect(await co.stat("README.md")).toEqual({ kind: "file", size: 15 })
    expect(await co.stat("nope.txt")).toBeUndefined()

    await mkdir(path.join(co.root, "dist"))
    await writeFile(path.join(co.root, "dist", "out.js"), "answer")
    await writeFile(path.join(co.root, "debug.log"), "answer")
    await writeFile(path.join(co.root, "notes.md"), "untracked answer\n")
    const top = (await co.listDir("", 1)).map((e) => e.path)
    expect(top).toEqual([
      ".gitignore",
      "big.txt",
      "docs/",
      "image.bin",
      "many.txt",
      "notes.md",
      "README.md",
      "src/",
    ])
    expect(await co.listDir("src", 3)).toEqual([
      { path: "src/index.ts", kind: "file" },
      { path: "src/util/", kind: "dir" },
      { path: "src/util/math.ts", kind: "file" },
    ])

    const found = await co.search({ pattern: "answer", maxResults: 10 })
    expect(found.matches).toEqual(
      expect.arrayContaining([
        { path: "src/index.ts", line: 1, text: "export const answer = 42" },
        { path: "notes.md", line: 1, text: "untracked answer" },
      ]),
    )
    expect(found.matches.map((m) => m.path)).not.toContain("debug.log")
    expect(found.matches.map((m) => m.path)).not.toContain("dist/out.js")
    expect(found.total).toBe(4) // index.ts, math.ts ("Answer", smart case), guide.md, notes.md

    expect((await co.search({ pattern: "answer", caseSensitive: true, maxResults: 10 })).total).toBe(3)
    const capped = await co.search({ pattern: "needle", maxResults: 5 })
    expect(capped.matches).toHaveLength(5)
    expect(capped.total).toBe(30)
    expect(
      (await co.search({ pattern: "answer", glob: "*.md", maxResults: 10 })).matches
        .map((m) => m.path)
        .sort(),
    ).toEqual(["docs/guide.md", "notes.md"])
    expect((await co.search({ pattern: "answer", path: "src/util", maxResults: 10 })).matches).toEqual([
      { path: "src/util/math.ts", line: 1, text: expect.stringContaining("Answer helper") },
    ])
    await expect(co.search({ pattern: "(unclosed", maxResults: 5 })).rejects.toBeInstanceOf(ValidationError)
  })

  it("refuses binary and oversized files with a clear message", async () => {
    const co = await checkout("run-files")
    await expect(co.readFile("image.bin")).rejects.toThrow(/binary/)
    await expect(co.readFile("big.txt")).rejects.toThrow(/too large to read whole .*search it/)
    await expect(co.readFile("src")).rejects.toThrow(/is a directory/)
  })

  it("falls back to git grep with the same results when ripgrep is missing", async () => {
    const lines = createCapturingLogger()
    const noRg = createGitCliWorkspace({
      dataDir,
      authHeader: async () => gitAuthHeader(TOKEN),
      logger: lines,
      ripgrepBinary: "rg-is-not-installed",
    })
    const co = await checkout("run-gitgrep", noRg)
    const withRg = await checkout("run-rg")
    for (const query of [
      { pattern: "answer", maxResults: 10 },
      { pattern: "needle", maxResults: 3 },
      { pattern: "answer", glob: "*.md", maxResults: 10 },
      { pattern: "add", path: "src", maxResults: 10 },
    ]) {
      const viaGit = await co.search(query)
      const viaRg = await withRg.search(query)
      expect(viaGit.total).toBe(viaRg.total)
      expect(viaGit.matches.length).toBe(viaRg.matches.length)
      if (query.maxResults >= viaRg.total) {
        const key = (m: { path: string; line: number }) => `${m.path}:${m.line}`
        expect(viaGit.matches.map(key).sort()).toEqual(viaRg.matches.map(key).sort())
      }
    }
    expect(lines.lines.some((l) => l.level === "warn" && l.message.includes("git grep"))).toBe(true)
  })

  it("confines paths: '..', absolute paths, .git and symlinks that leave the checkout are refused", async () => {
    const co = await checkout("run-paths")
    await symlink("/etc", path.join(co.root, "etc-link"))
    await symlink("../../..", path.join(co.root, "up"))
    await symlink("README.md", path.join(co.root, "readme-link"))
    for (const bad of ["../outside.txt", "src/../../x", "/etc/passwd"]) {
      const error = await rejection(co.readFile(bad))
      expect(error).toBeInstanceOf(ValidationError)
      expect(error.message).toMatch(/leaves the repository|must be relative/)
    }
    // thunks, so no rejection is left unobserved while an earlier one is awaited
    for (const attempt of [
      () => co.readFile("etc-link/passwd"),
      () => co.stat("etc-link"),
      () => co.listDir("up", 1),
      () => co.search({ pattern: "root", path: "etc-link", maxResults: 5 }),
    ]) {
      const error = await rejection(attempt())
      expect(error).toBeInstanceOf(ValidationError)
      expect(error.message).toMatch(/symlink .* leads outside the repository/)
    }
    await expect(co.readFile(".git")).rejects.toThrow(/inside \.git/)
    expect(await co.readFile("readme-link")).toBe("# App\nSee src.\n")
  })

  it("reuses the mirror: a second checkout fetches and sees a commit pushed to the double", async () => {
    const mirror = path.join(dataDir, "mirrors", "octo", "app.git")
    await writeFile(path.join(mirror, "marker"), "kept")
    const newSha = await pushFiles({
      cloneUrl,
      token: TOKEN,
      branch: "main",
      files: { "CHANGELOG.md": "v2\n" },
    })
    expect(await double.refSha("octo/app", "main")).toBe(newSha)

    const [a, b] = await Promise.all([checkout("run-2"), checkout("run-3")])
    expect(a.headSha).toBe(newSha)
    expect(b.headSha).toBe(newSha)
    expect(await a.readFile("CHANGELOG.md")).toBe("v2\n")
    expect(await readFile(path.join(mirror, "marker"), "utf8")).toBe("kept")
    // a commit that is no longer a branch tip still checks out
    expect((await checkout("run-old", workspace, initialSha)).headSha).toBe(initialSha)

    await b.dispose()
    await expect(stat(b.root)).rejects.toThrow()
    const { stdout } = await run("git", ["worktree", "list"], { cwd: mirror })
    expect(stdout).toContain(a.root)
    expect(stdout).not.toContain(b.root)
  })

  it("recycles a disposed working tree: the next checkout gets it reset, cleaned and re-linked", async () => {
    const lines = createCapturingLogger()
    const ws = createGitCliWorkspace({
      dataDir: path.join(dataDir, "recycle"),
      authHeader: async () => gitAuthHeader(TOKEN),
      logger: lines,
    })
    const first = await checkout("run-recycle-1", ws)
    await first.writeFile("README.md", "dirty\n")
    await first.writeFile("dist/app.js", "ignored build output\n")
    await first.writeFile("scratch/notes.txt", "untracked\n")
    await writeFile(path.join(first.root, ".git"), "gitdir: /nowhere\n")
    await first.dispose()
    await expect(stat(first.root)).rejects.toThrow()

    const second = await checkout("run-recycle-2", ws, initialSha)
    const reused = lines.lines.filter((l) => l.message === "checked out").map((l) => l.fields?.reused)
    expect(reused).toEqual([undefined, true])
    expect(second.root).toBe(path.join(dataDir, "recycle", "runs", "run-recycle-2"))
    expect(second.headSha).toBe(initialSha)
    expect(await second.readFile("README.md")).toBe("# App\nSee src.\n")
    expect(await second.stat("dist")).toBeUndefined()
    expect(await second.stat("scratch")).toBeUndefined()
    expect(await second.stat("CHANGELOG.md")).toBeUndefined()
    expect(await second.status()).toEqual([])
    // git run by hand in the checkout (as in the sandbox) finds its repository again
    const { stdout } = await run("git", ["rev-parse", "HEAD"], { cwd: second.root })
    expect(stdout.trim()).toBe(initialSha)
  })

  it("moves a mirror from the old layout (branches in refs/heads) to refs/remotes/origin", async () => {
    const legacyDir = path.join(dataDir, "legacy")
    const mirror = path.join(legacyDir, "mirrors", "octo", "app.git")
    await mkdir(path.dirname(mirror), { recursive: true })
    await run("git", ["init", "--quiet", "--bare", mirror])
    await run("git", ["config", "remote.origin.url", cloneUrl], { cwd: mirror })
    await run("git", ["config", "--add", "remote.origin.fetch", "+refs/heads/*:refs/heads/*"], {
      cwd: mirror,
    })
    await run("git", ["fetch", "--quiet", "origin", "+refs/heads/*:refs/heads/*"], {
      cwd: mirror,
      env: {
        ...process.env,
        GIT_CONFIG_COUNT: "1",
        GIT_CONFIG_KEY_0: `http.${new URL(cloneUrl).origin}/.extraHeader`,
        GIT_CONFIG_VALUE_0: `Authorization: ${gitAuthHeader(TOKEN)}`,
      },
    })
    const ws = createGitCliWorkspace({ dataDir: legacyDir, authHeader: async () => gitAuthHeader(TOKEN) })
    const co = await checkout("run-legacy", ws)
    expect(co.headSha).toBe(await double.refSha("octo/app", "refs/heads/main"))
    const refs = (await run("git", ["for-each-ref", "--format=%(refname)"], { cwd: mirror })).stdout
    expect(refs).toContain("refs/remotes/origin/main")
    expect(refs).not.toContain("refs/heads/main")
    const specs = (await run("git", ["config", "--get-all", "remote.origin.fetch"], { cwd: mirror })).stdout
    expect(specs.trim().split("\n")).toEqual([
      "+refs/heads/*:refs/remotes/origin/*",
      "+refs/tags/*:refs/tags/*",
    ])
  })

  it("maps a refused token to GitHubError 401 and an invisible repository to 404", async () => {
    const wrong = createGitCliWorkspace({ dataDir, authHeader: async () => gitAuthHeader(WRONG) })
    const unauthorized = await rejection(
      wrong.checkout({ repo: app, cloneUrl, ref: "main", runId: "run-wrong" }),
    )
    expect(unauthorized).toBeInstanceOf(GitHubError)
    expect((unauthorized as GitHubError).status).toBe(401)
    expect((unauthorized as GitHubError).retryable).toBe(false)
    expect(unauthorized.message).toMatch(/check GITHUB_TOKEN/)
    expect(JSON.stringify([unauthorized.message, (unauthorized.cause as Error).message])).not.toContain(WRONG)

    const anonymous = createGitCliWorkspace({ dataDir: path.join(dataDir, "anon") })
    const noToken = await rejection(
      anonymous.checkout({ repo: app, cloneUrl, ref: "main", runId: "run-anon" }),
    )
    expect((noToken as GitHubError).status).toBe(401)

    const limited = createGitCliWorkspace({ dataDir, authHeader: async () => gitAuthHeader(LIMITED) })
    const hidden = await rejection(
      limited.checkout({ repo: app, cloneUrl, ref: "main", runId: "run-hidden" }),
    )
    expect(hidden).toBeInstanceOf(GitHubError)
    expect((hidden as GitHubError).status).toBe(404)
    expect(hidden.message).toMatch(
      /repository octo\/app was not found at .*give the token access to octo\/app/,
    )

    await expect(checkout("run-noref", workspace, "no-such-branch")).rejects.toBeInstanceOf(NotFoundError)
    await expect(stat(path.join(dataDir, "runs", "run-noref"))).rejects.toThrow()
  })

  it("validates its inputs and honours cancellation", async () => {
    await expect(
      workspace.checkout({ repo: app, cloneUrl, ref: "--upload-pack=evil", runId: "r" }),
    ).rejects.toBeInstanceOf(ValidationError)
    await expect(
      workspace.checkout({ repo: app, cloneUrl, ref: "main", runId: "../escape" }),
    ).rejects.toBeInstanceOf(ValidationError)
    const withUser = cloneUrl.replace("http://", `http://x:${TOKEN}@`)
    await expect(
      workspace.checkout({ repo: app, cloneUrl: withUser, ref: "main", runId: "r" }),
    ).rejects.toThrow(/never in the URL/)
    await expect(
      workspace.checkout({ repo: app, cloneUrl: "ext::sh -c id", ref: "main", runId: "r" }),
    ).rejects.toBeInstanceOf(ValidationError)

    const controller = new AbortController()
    const pending = workspace.checkout({
      repo: app,
      cloneUrl,
      ref: "main",
      runId: "run-cancel",
      signal: controller.signal,
    })
    controller.abort()
    await expect(pending).rejects.toBeInstanceOf(CancelledError)
    await expect(stat(path.join(dataDir, "runs", "run-cancel"))).rejects.toThrow()
  })

  it("leaves the token nowhere: not in any file under dataDir, the mirror config, logs, or a URL", async () => {
    const header = gitAuthHeader(TOKEN)
    const secrets = [TOKEN, header.slice("Basic ".length)]
    const files = await walk(dataDir)
    expect(files.length).toBeGreaterThan(20)
    for (const file of files) {
      const content = (await readFile(file)).toString("latin1")
      for (const secret of secrets) expect(content.includes(secret), `${file} holds the token`).toBe(false)
    }
    const config = await readFile(path.join(dataDir, "mirrors", "octo", "app.git", "config"), "utf8")
    expect(config).not.toMatch(/extraheader|authorization/i)
    expect(config).toContain(`url = ${cloneUrl}`)

    const log = JSON.stringify([double.requests, logger.lines])
    for (const secret of secrets) expect(log).not.toContain(secret)
    expect(double.tokenSeenInUrl).toBe(false)
    const gitRequests = double.requests.filter((r) => r.kind === "git")
    expect(gitRequests.length).toBeGreaterThan(5)
    // every git request that got through carried the header from the first request on: no 401 round trip
    expect(
      gitRequests
        .filter((r) => r.status === 200)
        .every((r) => r.headers.authorization === "Basic [redacted]"),
    ).toBe(true)
  })
})
