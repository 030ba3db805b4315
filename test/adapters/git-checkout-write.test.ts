import { execFile } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createGitCliWorkspace } from "#adapters/git/git-cli-workspace.js"
import { gitAuthHeader } from "#adapters/github/octokit-github.js"
import type { Checkout, Workspace } from "#application/ports/workspace.js"
import { GitHubError, NonRetryableError, RetryableError, ValidationError } from "#domain/errors.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import { pushFiles } from "../doubles/github/git-push.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import { createCapturingLogger } from "../support/logger.js"
import { findSecrets, scanFiles } from "../support/secret-scan.js"

const run = promisify(execFile)
const TOKEN = `ghs_writeSecret${randomBytes(8).toString("hex")}`
const READ_ONLY = `ghs_writeReadOnly${randomBytes(8).toString("hex")}`
const repo = parseRepoRef("octo/web")
const author = { name: "prwright[bot]", email: "prwright@example.invalid" }

const rejection = async (promise: Promise<unknown>): Promise<Error> =>
  promise.then(
    () => {
      throw new Error("expected a rejection")
    },
    (error: Error) => error,
  )

describe("git checkout: write, commit, push", () => {
  let double: GitHubDouble
  let dataDir: string
  let outside: string
  let cloneUrl: string
  let workspace: Workspace
  const logger = createCapturingLogger()
  const open: Checkout[] = []

  const checkout = async (runId: string, branch?: string, ws = workspace) => {
    const result = await ws.checkout({ repo, cloneUrl, ref: "main", runId, branch })
    open.push(result)
    return result
  }
  const gitIn = async (cwd: string, args: string[]) => (await run("git", args, { cwd })).stdout.trim()

  beforeAll(async () => {
    double = await startGitHubDouble({
      tokens: {
        [TOKEN]: { login: "prwright-bot", repos: "*" },
        [READ_ONLY]: { login: "reader", repos: "*", push: false },
      },
    })
    const created = await double.createRepo("octo/web", {
      files: {
        "README.md": "# Web\n",
        ".gitignore": "dist/\n*.log\n",
        "src/app.ts": "export const app = 1\n",
        "src/old.ts": "export const old = true\n",
        "logo.png": "PNG\0\0\0\u0001binary",
      },
    })
    cloneUrl = created.cloneUrl
    dataDir = await mkdtemp(path.join(tmpdir(), "checkout-write-"))
    outside = await mkdtemp(path.join(tmpdir(), "checkout-outside-"))
    workspace = createGitCliWorkspace({ dataDir, authHeader: async () => gitAuthHeader(TOKEN), logger })
  })

  afterAll(async () => {
    for (const c of open) await c.dispose().catch(() => undefined)
    await double?.close()
    for (const dir of [dataDir, outside]) if (dir) await rm(dir, { recursive: true, force: true })
  })

  it("commits exactly the given paths, pushes them with the header, and the branch holds just that", async () => {
    const co = await checkout("run-commit", "prwright/issue-1-title")
    expect(await gitIn(co.root, ["symbolic-ref", "--short", "HEAD"])).toBe("prwright/issue-1-title")

    await co.writeFile("src/app.ts", "export const app = 2\n")
    await co.writeFile("src/new/deep/feature.ts", "export const feature = true\n")
    await unlink(path.join(co.root, "src/old.ts"))
    // a setup step's leftovers: not part of the change
    await writeFile(path.join(co.root, "package-lock.json"), "{}\n")
    await mkdir(path.join(co.root, "dist"))
    await writeFile(path.join(co.root, "dist", "bundle.js"), "ignored\n")

    expect(await co.status()).toEqual([
      { path: "package-lock.json", kind: "added" },
      { path: "src/app.ts", kind: "modified" },
      { path: "src/new/deep/feature.ts", kind: "added" },
      { path: "src/old.ts", kind: "deleted" },
    ])

    const diff = await co.diff()
    expect(diff).toContain("diff --git a/src/new/deep/feature.ts b/src/new/deep/feature.ts")
    expect(diff).toContain("new file mode 100644")
    expect(diff).toContain("+export const feature = true")
    expect(diff).toContain("-export const app = 1\n+export const app = 2")
    expect(diff).toContain("deleted file mode 100644")
    expect(diff).not.toContain("dist/bundle.js")
    const only = await co.diff(["src/app.ts", "does/not/exist.ts"])
    expect(only).toContain("src/app.ts")
    expect(only).not.toContain("feature.ts")
    expect(only).not.toContain("package-lock.json")

    const paths = ["src/app.ts", "src/new/deep/feature.ts", "src/old.ts", "never/written.ts"]
    const sha = await co.commit({ message: "Fix the app\n\nCloses #1", paths, author })
    expect(sha).toMatch(/^[0-9a-f]{40}$/)
    // what was not listed stays uncommitted, and status now tells the truth about the rest
    expect(await co.status()).toEqual([{ path: "package-lock.json", kind: "added" }])
    expect(await co.commit({ message: "again", paths, author })).toBeUndefined()

    const [authorLine, committerLine, subject] = (
      await gitIn(co.root, ["log", "-1", "--format=%an <%ae>%n%cn <%ce>%n%s%n%G?"])
    ).split("\n")
    expect(authorLine).toBe("prwright[bot] <prwright@example.invalid>")
    expect(committerLine).toBe(authorLine)
    expect(subject).toBe("Fix the app")

    await co.push({ branch: "prwright/issue-1-title" })
    expect(await double.refSha("octo/web", "refs/heads/prwright/issue-1-title")).toBe(sha)
    expect(await double.branchFiles("octo/web", "prwright/issue-1-title")).toEqual({
      ".gitignore": "dist/\n*.log\n",
      "README.md": "# Web\n",
      "logo.png": "PNG\0\0\0\u0001binary",
      "src/app.ts": "export const app = 2\n",
      "src/new/deep/feature.ts": "export const feature = true\n",
    })
    const prDiff = await double.diff("octo/web", "main", "prwright/issue-1-title")
    expect(prDiff).toContain("+export const feature = true")
    expect(prDiff).not.toContain("package-lock.json")
    // the mirror knows the pushed tip without another fetch
    const mirror = path.join(dataDir, "mirrors", "octo", "web.git")
    expect(await gitIn(mirror, ["rev-parse", "refs/remotes/origin/prwright/issue-1-title"])).toBe(sha)
    await co.dispose()
  })

  it("a later checkout of the same branch resumes from the pushed tip; a new branch starts from ref", async () => {
    const tip = await double.refSha("octo/web", "refs/heads/prwright/issue-1-title")
    const resumed = await checkout("run-resume", "prwright/issue-1-title")
    expect(resumed.headSha).toBe(tip)
    expect(await resumed.readFile("src/new/deep/feature.ts")).toBe("export const feature = true\n")
    expect(await resumed.status()).toEqual([])

    const fresh = await checkout("run-fresh", "prwright/issue-2-other")
    expect(fresh.headSha).toBe(await double.refSha("octo/web", "refs/heads/main"))
    expect(await fresh.stat("src/new")).toBeUndefined()

    // the same branch cannot be checked out twice at once on one worker
    const busy = await rejection(checkout("run-busy", "prwright/issue-2-other"))
    expect(busy).toBeInstanceOf(RetryableError)
    expect(busy.message).toMatch(/checked out by another run/)
    await fresh.dispose()
    const mirror = path.join(dataDir, "mirrors", "octo", "web.git")
    // a disposed checkout's local branch is gone; GitHub's branches are untouched
    expect(await gitIn(mirror, ["for-each-ref", "--format=%(refname)", "refs/heads/"])).not.toContain(
      "issue-2-other",
    )
  })

  it("rejects a non-fast-forward push with a clear, non-retryable error unless forced", async () => {
    const branch = "prwright/issue-3-race"
    await pushFiles({ cloneUrl, token: TOKEN, branch, baseBranch: "main", files: { "a.txt": "first\n" } })
    const co = await checkout("run-race", branch)
    const other = await pushFiles({ cloneUrl, token: TOKEN, branch, files: { "b.txt": "someone else\n" } })
    await co.writeFile("c.txt", "mine\n")
    const mine = await co.commit({ message: "mine", paths: ["c.txt"], author })

    const error = await rejection(co.push({ branch }))
    expect(error).toBeInstanceOf(NonRetryableError)
    expect((error as NonRetryableError).retryable).toBe(false)
    expect(error.message).toMatch(/rejected \(non-fast-forward\).*push with force/)
    expect(await double.refSha("octo/web", `refs/heads/${branch}`)).toBe(other)

    await co.push({ branch, force: true })
    expect(await double.refSha("octo/web", `refs/heads/${branch}`)).toBe(mine)
  })

  it("maps a push the token may not make to a 403 that names contents: write", async () => {
    const readOnly = createGitCliWorkspace({ dataDir, authHeader: async () => gitAuthHeader(READ_ONLY) })
    const co = await checkout("run-readonly", "prwright/issue-4-ro", readOnly)
    await co.writeFile("x.txt", "x\n")
    await co.commit({ message: "x", paths: ["x.txt"], author })
    const error = await rejection(co.push({ branch: "prwright/issue-4-ro" }))
    expect(error).toBeInstanceOf(GitHubError)
    expect((error as GitHubError).status).toBe(403)
    expect(error.message).toMatch(/contents: write/)
    expect(error.message).not.toContain(READ_ONLY)
    await expect(co.push({ branch: "-bad" })).rejects.toBeInstanceOf(ValidationError)
  })

  it("confines writes like reads, including through symlinked parents and dangling links", async () => {
    const co = await checkout("run-confine")
    await symlink(outside, path.join(co.root, "out-dir"))
    await symlink(path.join(outside, "not-yet", "deeper"), path.join(co.root, "dangling"))
    await symlink("src", path.join(co.root, "src-link"))
    for (const [bad, why] of [
      ["../escape.txt", /leaves the repository/],
      ["/tmp/escape.txt", /must be relative/],
      [".git/config", /inside \.git/],
      ["out-dir/escape.txt", /leads outside the repository/],
      ["out-dir/new/dir/escape.txt", /leads outside the repository/],
      ["dangling", /leads outside the repository/],
      ["dangling/file.txt", /leads outside the repository/],
      ["src", /is a directory/],
    ] as const) {
      const error = await rejection(co.writeFile(bad, "pwned\n"))
      expect(error, bad).toBeInstanceOf(ValidationError)
      expect(error.message, bad).toMatch(why)
    }
    expect(await run("find", [outside, "-mindepth", "1"]).then((r) => r.stdout)).toBe("")

    // a link that stays inside is fine, and writes its target
    await co.writeFile("src-link/linked.ts", "inside\n")
    expect(await readFile(path.join(co.root, "src", "linked.ts"), "utf8")).toBe("inside\n")
    await co.writeFile("a/b/c/new.txt", "made parents\n")
    expect(await co.readFile("a/b/c/new.txt")).toBe("made parents\n")
  })

  it("commits nothing ignored, summarises binary diffs, and trusts its own git dir over the checkout's .git", async () => {
    const co = await checkout("run-edge", "prwright/issue-5-edge")
    await co.writeFile("debug.log", "ignored\n")
    const ignored = await rejection(co.commit({ message: "x", paths: ["debug.log"], author }))
    expect(ignored).toBeInstanceOf(ValidationError)
    expect(ignored.message).toMatch(/\.gitignore excludes it/)
    await expect(co.commit({ message: "  ", paths: ["README.md"], author })).rejects.toThrow(
      /message is empty/,
    )
    await expect(
      co.commit({ message: "x", paths: ["README.md"], author: { name: "a\nb", email: "e" } }),
    ).rejects.toThrow(/author/)
    expect(await co.commit({ message: "nothing", paths: [], author })).toBeUndefined()

    await writeFile(path.join(co.root, "logo.png"), Buffer.from([0x89, 0x50, 0, 0, 1, 2, 3]))
    expect(await co.diff(["logo.png"])).toContain("Binary files a/logo.png and b/logo.png differ")

    // repository code in the sandbox can rewrite `.git`; prwright's git must not follow it
    const evil = path.join(co.root, "evil-gitdir")
    const marker = path.join(outside, "fsmonitor-ran")
    await run("git", ["init", "--quiet", "--bare", evil])
    await run("git", ["config", "core.bare", "false"], { cwd: evil })
    // plain `git status` in the checkout would run this (verified by hand); prwright's must not
    await run("git", ["config", "core.fsmonitor", `touch ${marker}`], { cwd: evil })
    await writeFile(path.join(co.root, ".git"), `gitdir: ${evil}\n`)
    const changes = await co.status()
    expect(changes).toContainEqual({ path: "logo.png", kind: "modified" })
    expect(changes).toContainEqual({ path: "evil-gitdir/config", kind: "added" })
    await expect(readFile(marker)).rejects.toThrow(/ENOENT/)
    expect(await co.commit({ message: "Update logo", paths: ["logo.png"], author })).toMatch(/^[0-9a-f]{40}$/)
  })

  it("validates branch names before touching git", async () => {
    for (const bad of ["-x", "a..b", "a b", "a~1", "a/.hidden", "x.lock", "HEAD", "a//b", "a@{1}", "end/"]) {
      await expect(
        workspace.checkout({ repo, cloneUrl, ref: "main", runId: "run-badbranch", branch: bad }),
      ).rejects.toBeInstanceOf(ValidationError)
    }
  })

  it("leaves the token nowhere: not under dataDir, not in logs, not in the double's request log", () => {
    expect(scanFiles(dataDir, [TOKEN, READ_ONLY])).toEqual([])
    expect(findSecrets(JSON.stringify([double.requests, logger.lines]), [TOKEN, READ_ONLY])).toEqual([])
    expect(double.tokenSeenInUrl).toBe(false)
    const pushes = double.requests.filter((r) => r.kind === "git" && r.path.includes("receive-pack"))
    expect(pushes.length).toBeGreaterThan(3)
    expect(pushes.every((r) => r.headers.authorization === "Basic [redacted]")).toBe(true)
  })
})
