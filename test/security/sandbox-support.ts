/**
 * Shared by the sandbox attack tests: whether bwrap can build a sandbox on this host, and a real
 * `git worktree` checkout laid out the way the workspace makes one (a mirror holding the worktree's
 * metadata, the checkout's `.git` a file naming it), with the mounts the workspace records for it.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import type { CheckoutMounts } from "#application/ports/workspace.js"

export { bwrapWorks } from "../support/bwrap.js"

/** in the suite's title: said loudly in the report where the attacks could not run */
export const SKIP_NO_BWRAP =
  "skipped where bubblewrap cannot create namespaces: the attacks need a real sandbox"

export const git = (args: string[], cwd: string): string =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
    cwd,
    stdio: "pipe",
  }).toString()

export interface WorktreeFixture {
  parent: string
  mirror: string
  worktree: string
  /** what the workspace records at checkout time (the mirror's git dir, read-only) */
  mounts: CheckoutMounts
}

/** a temp dir holding a repository with one commit and a worktree of it */
export const makeWorktree = (): WorktreeFixture => {
  const parent = realpathSync(mkdtempSync(path.join(tmpdir(), "prwright-security-")))
  const mirror = path.join(parent, "mirror")
  mkdirSync(mirror)
  git(["init", "--quiet", "-b", "main"], mirror)
  writeFileSync(path.join(mirror, "README.md"), "hello\n")
  git(["add", "README.md"], mirror)
  git(["commit", "--quiet", "-m", "first"], mirror)
  const worktree = path.join(parent, "worktree")
  git(["worktree", "add", "--quiet", "--detach", worktree], mirror)
  return { parent, mirror, worktree, mounts: { readOnly: [path.join(mirror, ".git")], writable: [] } }
}
