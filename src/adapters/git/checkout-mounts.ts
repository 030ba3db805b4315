/**
 * The git metadata a sandboxed command in a checkout sees, built from the workspace's own records (the
 * mirror and the worktree's git dir recorded at checkout), never from the checkout's `.git` file.
 *
 * The host's git never reads the checkout's `.git` file (every host command names its git dir), so that
 * file is free to point the sandbox's git somewhere else: a per-run "sandbox git dir" of its own,
 *
 *   <dataDir>/sandbox-git/<run>/common    config and HEAD copied from the mirror, a snapshot of its
 *                                         branches and tags (packed-refs), and an object store whose
 *                                         only alternate is the mirror's objects
 *   <dataDir>/sandbox-git/<run>/worktree  this worktree's HEAD and index, copied
 *
 * mounted writable, with the mirror's objects mounted read-only. `git status`, `diff`, `log`, `add`,
 * `stash` and even `commit` work in the sandbox, and every write lands in that per-run dir, which the host
 * never reads and removes with the run. Nothing the host's git reads (the mirror's config, refs and
 * objects, the worktree's own git dir and index) is writable or even visible there, apart from the
 * objects (read-only); other runs' worktree metadata is not mounted at all.
 */
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises"
import path from "node:path"
import type { CheckoutMounts } from "#application/ports/workspace.js"
import { replaceHostFile } from "./confined-fs.js"
import { runGit } from "./run-git.js"

export interface SandboxGitOptions {
  /** the per-run sandbox git dir (removed and made anew) */
  dir: string
  mirrorDir: string
  /** the worktree's own git dir, as recorded at checkout */
  gitDir: string
  /** the checkout's real path */
  root: string
  gitBinary: string
}

const copyIfPresent = (from: string, to: string) =>
  copyFile(from, to).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error
  })

/** Builds the sandbox's git dir and points the checkout's `.git` at it; returns what to mount. */
export const prepareSandboxGit = async (options: SandboxGitOptions): Promise<CheckoutMounts> => {
  const { dir, mirrorDir, gitDir, root } = options
  const common = path.join(dir, "common")
  const worktree = path.join(dir, "worktree")
  const objects = path.join(mirrorDir, "objects")
  await rm(dir, { recursive: true, force: true })
  await mkdir(path.join(common, "objects", "info"), { recursive: true })
  await mkdir(path.join(common, "refs", "heads"), { recursive: true })
  await mkdir(path.join(common, "refs", "tags"), { recursive: true })
  await mkdir(worktree, { recursive: true })
  await copyFile(path.join(mirrorDir, "config"), path.join(common, "config"))
  await copyFile(path.join(mirrorDir, "HEAD"), path.join(common, "HEAD"))
  await writeFile(path.join(common, "objects", "info", "alternates"), `${objects}\n`)
  // GitHub's branches and tags, and this worktree's own branch: not other runs' local branches
  const head = /^ref: (refs\/heads\/\S+)/.exec(await readFile(path.join(gitDir, "HEAD"), "utf8"))?.[1]
  const refs = await runGit({
    args: [
      "for-each-ref",
      "--format=%(objectname) %(refname)",
      "refs/remotes/",
      "refs/tags/",
      ...(head ? [head] : []),
    ],
    cwd: mirrorDir,
    gitBinary: options.gitBinary,
  })
  await writeFile(path.join(common, "packed-refs"), refs.stdout)
  await copyFile(path.join(gitDir, "HEAD"), path.join(worktree, "HEAD"))
  await copyIfPresent(path.join(gitDir, "index"), path.join(worktree, "index"))
  await writeFile(path.join(worktree, "commondir"), "../common\n")
  await writeFile(path.join(worktree, "gitdir"), `${path.join(root, ".git")}\n`)
  await replaceHostFile(path.join(root, ".git"), `gitdir: ${worktree}\n`)
  return { readOnly: [objects], writable: [dir] }
}

/** Points the checkout's `.git` back at its real git dir (for git's own worktree bookkeeping) and drops the sandbox's. */
export const releaseSandboxGit = async (options: Pick<SandboxGitOptions, "dir" | "gitDir" | "root">) => {
  await replaceHostFile(path.join(options.root, ".git"), `gitdir: ${options.gitDir}\n`)
  await rm(options.dir, { recursive: true, force: true })
}
