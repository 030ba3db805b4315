/**
 * Weakness 1 and 3 from the host's side: the host's own git (which pushes with a token) must not be
 * steered by anything a command wrote in the checkout — a rewritten `.git` file naming another git dir
 * (`/`, the data dir, a crafted repository with hooks and an fsmonitor), a nested repository's config,
 * or `.gitattributes` filters — and the git metadata the sandbox sees comes from the workspace's records,
 * read-only and minimal.
 */
import { execFile } from "node:child_process"
import { access, chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises"
import path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createBwrapSandbox } from "#adapters/sandbox/bwrap-sandbox.js"
import type { Checkout } from "#application/ports/workspace.js"
import { type CheckoutFixture, startCheckoutFixture } from "./checkout-fixture.js"

const exec = promisify(execFile)
const author = { name: "prwright[bot]", email: "prwright@example.invalid" }

const bwrapWorks = await exec("bwrap", [
  "--unshare-all",
  "--unshare-user",
  "--ro-bind",
  "/",
  "/",
  "--dev",
  "/dev",
  "--proc",
  "/proc",
  "true",
]).then(
  () => true,
  () => false,
)

const gone = (file: string) =>
  access(file).then(
    () => false,
    () => true,
  )

describe("attack: files a command leaves in the checkout steer the host's git", () => {
  let fx: CheckoutFixture
  let co: Checkout
  let mirrorDir: string
  let marker: string
  let evilRepo: string

  beforeAll(async () => {
    fx = await startCheckoutFixture({ "README.md": "# target\n", "src/a.ts": "export const a = 1\n" })
    co = await fx.checkout("steer", "prwright/steer")
    mirrorDir = path.join(fx.dataDir, "mirrors", "octo", "target.git")
    marker = path.join(fx.outside, "ran")
    // a repository of the attacker's making: a hook, an fsmonitor, a filter and an external diff that
    // each leave the marker when git runs them
    evilRepo = path.join(fx.outside, "evil.git")
    await exec("git", ["init", "--quiet", "--bare", evilRepo])
    const script = path.join(fx.outside, "payload.sh")
    await writeFile(script, `#!/bin/sh\necho "$0 $*" >> '${marker}'\ncat\n`)
    await chmod(script, 0o755)
    const config = `[core]\n\tfsmonitor = ${script}\n\thooksPath = ${fx.outside}\n[filter "evil"]\n\tclean = ${script}\n\tsmudge = ${script}\n[diff]\n\texternal = ${script}\n`
    await writeFile(
      path.join(evilRepo, "config"),
      `[core]\n\trepositoryformatversion = 0\n\tbare = false\n${config}`,
    )
    for (const hook of [
      "pre-commit",
      "post-commit",
      "reference-transaction",
      "post-checkout",
      "post-index-change",
    ]) {
      await writeFile(path.join(fx.outside, hook), `#!/bin/sh\necho ${hook} >> '${marker}'\n`)
      await chmod(path.join(fx.outside, hook), 0o755)
    }
  })
  afterAll(async () => fx?.close())

  it("a .git file pointing at /, the data dir or a crafted repository changes nothing the host does", async () => {
    for (const target of ["/", fx.dataDir, evilRepo]) {
      await writeFile(path.join(co.root, ".git"), `gitdir: ${target}\n`)
      await writeFile(path.join(co.root, ".gitattributes"), "* filter=evil diff=evil\n")
      await co.writeFile("src/a.ts", `export const a = ${JSON.stringify(target)}\n`)
      const status = await co.status()
      expect(status.map((c) => c.path)).toEqual(
        [".git", ".gitattributes", "src/a.ts"].filter((p) => p !== ".git"),
      )
      expect(await co.diff(["src/a.ts"])).toContain(`+export const a = ${JSON.stringify(target)}`)
      const sha = await co.commit({ message: `edit for ${target}`, paths: ["src/a.ts"], author })
      // the commit went to the recorded worktree's branch in the mirror, nowhere else
      const { stdout } = await exec("git", ["rev-parse", "refs/heads/prwright/steer"], { cwd: mirrorDir })
      expect(stdout.trim()).toBe(sha)
    }
    await rm(path.join(co.root, ".gitattributes"))
    expect(await gone(marker)).toBe(true)
  })

  it("a nested repository's config and attributes never run a program on the host", async () => {
    const nested = path.join(co.root, "vendor", "evil")
    await mkdir(path.join(nested, ".git"), { recursive: true })
    await exec("git", ["init", "--quiet", nested])
    await exec("git", [
      "-C",
      nested,
      "-c",
      "user.name=t",
      "-c",
      "user.email=t@t",
      "commit",
      "-q",
      "--allow-empty",
      "-m",
      "n",
    ])
    const config = await readFile(path.join(evilRepo, "config"), "utf8")
    await writeFile(path.join(nested, ".git", "config"), config)
    await writeFile(path.join(nested, ".gitattributes"), "* filter=evil\n")
    await writeFile(path.join(nested, "file.txt"), "nested\n")
    await co.status()
    await co.diff()
    await co.listDir(".", 3)
    await co.search({ pattern: "nested", maxResults: 5 })
    await co.writeFile("src/a.ts", "export const a = 'nested'\n")
    await co.commit({ message: "after nested", paths: ["src/a.ts"], author })
    expect(await gone(marker)).toBe(true)
    await rm(path.join(co.root, "vendor"), { recursive: true })
  })

  it("a .gitattributes naming a filter driver of the operator's own git config (e.g. git-lfs) does not run it", async () => {
    // the worker's global config defines a driver, as git-lfs's install does; the repository picks it
    const home = path.join(fx.outside, "home")
    await mkdir(home, { recursive: true })
    const payload = path.join(fx.outside, "payload.sh")
    await writeFile(
      path.join(home, ".gitconfig"),
      `[filter "lfs"]\n\tclean = ${payload}\n\tsmudge = ${payload}\n\trequired = false\n`,
    )
    const saved = process.env.HOME
    process.env.HOME = home
    try {
      await writeFile(path.join(co.root, ".gitattributes"), "* filter=lfs\n")
      await co.writeFile("src/a.ts", "export const a = 'filtered'\n")
      await co.status()
      expect(await co.diff(["src/a.ts"])).toContain("+export const a = 'filtered'")
      await co.commit({ message: "through a filter", paths: ["src/a.ts"], author })
      await co.search({ pattern: "filtered", maxResults: 5 })
    } finally {
      process.env.HOME = saved
      await rm(path.join(co.root, ".gitattributes"))
    }
    expect(await gone(marker)).toBe(true)
  })

  it("a diff stages the working tree without leaving its content in the mirror other runs can read", async () => {
    const content = `private draft ${Date.now()}\n`
    await co.writeFile("draft.txt", content)
    expect(await co.diff()).toContain("+private draft")
    const { stdout: blob } = await exec("sh", [
      "-c",
      `printf '%s' "$1" | git hash-object --stdin`,
      "sh",
      content,
    ])
    await expect(exec("git", ["cat-file", "-e", blob.trim()], { cwd: mirrorDir })).rejects.toThrow()
    await rm(path.join(co.root, "draft.txt"))
  })

  it("records the sandbox's git mounts from the workspace: the mirror's objects read-only, a per-run git dir writable", async () => {
    const other = await fx.checkout("steer-other")
    const sandboxGit = path.join(fx.dataDir, "sandbox-git", "steer")
    expect(co.mounts).toEqual({ readOnly: [path.join(mirrorDir, "objects")], writable: [sandboxGit] })
    expect(other.mounts.writable).toEqual([path.join(fx.dataDir, "sandbox-git", "steer-other")])
    // a rewritten .git file changes nothing in the record
    await writeFile(path.join(co.root, ".git"), "gitdir: /\n")
    expect(co.mounts).toEqual({ readOnly: [path.join(mirrorDir, "objects")], writable: [sandboxGit] })
    await other.dispose()
    await expect(access(path.join(fx.dataDir, "sandbox-git", "steer-other"))).rejects.toThrow()
  })

  it.skipIf(!bwrapWorks)(
    "in the sandbox, git status/diff/log/stash/commit work, and none of it reaches the host's git",
    async () => {
      const fresh = await fx.checkout("steer-sandbox", "prwright/steer-sandbox")
      const other = await fx.checkout("steer-neighbour")
      const gitDir = path.join(mirrorDir, "worktrees")
      await fresh.writeFile("README.md", "# changed in the sandbox test\n")
      const configBefore = await readFile(path.join(mirrorDir, "config"), "utf8")
      const { stdout: before } = await exec("git", ["rev-parse", "refs/heads/prwright/steer-sandbox"], {
        cwd: mirrorDir,
      })
      const sandbox = createBwrapSandbox()
      const result = await sandbox.run({
        command: [
          "git log --format=%s -1",
          "git status --short",
          "git stash -q && git status --short && echo stashed && git stash pop -q",
          "git status --short",
          "git diff --stat | tail -1",
          "git -c user.name=m -c user.email=m@example.invalid commit -qam sneaky && echo committed $(git rev-parse HEAD)",
          `test -e '${mirrorDir}/config' && echo mirror-config-visible || echo mirror-config-unseen`,
          // lands in the sandbox's own /tmp at most (the test's data dir is under /tmp), never on the host
          `{ mkdir -p '${mirrorDir}' && echo x > '${mirrorDir}/config'; } 2>/dev/null`,
          `ls '${gitDir}' 2>/dev/null || echo no-worktree-metadata-visible`,
        ].join("; "),
        root: fresh.root,
        mounts: fresh.mounts,
        network: "none",
        timeoutMs: 20_000,
      })
      const lines = result.output.trim().split("\n")
      expect(lines.slice(0, 5)).toEqual([
        "Initial commit",
        " M README.md",
        "stashed",
        " M README.md",
        " 1 file changed, 1 insertion(+), 1 deletion(-)",
      ])
      const sneaky = /^committed ([0-9a-f]{40})$/.exec(lines[5] ?? "")?.[1]
      expect(sneaky).toBeDefined()
      expect(lines.slice(6)).toEqual(["mirror-config-unseen", "no-worktree-metadata-visible"])
      expect(await readFile(path.join(mirrorDir, "config"), "utf8")).toBe(configBefore)
      // the host's branch, index and object store know nothing of it
      const { stdout: after } = await exec("git", ["rev-parse", "refs/heads/prwright/steer-sandbox"], {
        cwd: mirrorDir,
      })
      expect(after).toBe(before)
      await expect(
        exec("git", ["cat-file", "-e", `${sneaky}^{commit}`], { cwd: mirrorDir }),
      ).rejects.toThrow()
      expect(await fresh.status()).toEqual([{ path: "README.md", kind: "modified" }])
      await other.dispose()
      await fresh.dispose()
    },
  )
})

if (!bwrapWorks)
  console.warn("SKIPPED: bwrap cannot create namespaces here; the sandbox half of the mount test did not run")
