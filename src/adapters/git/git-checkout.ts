// Over ~300 lines: every Checkout operation on one worktree, each going through the confined host file access; candidates to split are reads vs. commit/push.
/**
 * A run's working copy: a `git worktree` of the repository's mirror, on a local branch or detached. Reads
 * and writes are confined to it (see checkout-paths.ts); listing and search skip .git and ignored files.
 *
 * Every git command names the worktree's git directory explicitly instead of following the checkout's
 * `.git` file: repository code runs in the sandbox with the checkout writable, and must not be able to
 * point prwright's own git (which may carry a token) at a config it wrote.
 */
import { mkdir, realpath, rm } from "node:fs/promises"
import path from "node:path"
import type { Logger } from "#application/ports/logging.js"
import type { Checkout, CheckoutMounts, DirEntry } from "#application/ports/workspace.js"
import { ValidationError } from "#domain/errors.js"
import {
  type CheckoutGit,
  commitPaths,
  diffAgainstHead,
  parseNameStatus,
  readStatus,
} from "./checkout-changes.js"
import { releaseSandboxGit } from "./checkout-mounts.js"
import { createPathGuard } from "./checkout-paths.js"
import { pushHead } from "./checkout-push.js"
import { searchWithGitGrep, searchWithRipgrep } from "./checkout-search.js"
import {
  isInside,
  lstatKind,
  openForRead,
  readCapped,
  refusePath,
  refuseSpecial,
  writeConfined,
} from "./confined-fs.js"
import { runGit } from "./run-git.js"

export type SearchBackend = "auto" | "ripgrep" | "git-grep"

export interface GitCheckoutOptions {
  /** real path of the worktree */
  root: string
  mirrorDir: string
  /** the worktree's administrative directory inside the mirror (`<mirror>/worktrees/<name>`) */
  gitDir: string
  /** what a sandboxed command may see of the git metadata (see checkout-mounts.ts) */
  mounts: CheckoutMounts
  /** the per-run git dir the sandbox writes (see checkout-mounts.ts); removed on dispose */
  sandboxGitDir?: string
  /** builds the sandbox's git dir anew from the host's, so its HEAD follows the host's commits */
  refreshSandboxGit?: () => Promise<unknown>
  /** the local branch checked out, or undefined for a detached HEAD */
  branch?: string | undefined
  /** where pushes go (no credentials in it) */
  cloneUrl: string
  fullName: string
  /** the Authorization header for pushes, asked for at push time (installation tokens expire) */
  authHeader?: (() => Promise<string | undefined>) | undefined
  headSha: string
  baseSha: string
  ref: string
  gitBinary: string
  ripgrepBinary: string
  searchBackend: SearchBackend
  maxFileBytes: number
  logger?: Logger | undefined
  /** records that the tree stays for inspection until the workspace's retention time removes it */
  keepFor?: ((root: string) => Promise<void>) | undefined

  /** parks the disposed tree for reuse by a later checkout; false when it should be removed instead */
  park?: () => Promise<boolean>
  /** runs mirror-changing work one at a time (worktree add/remove/prune share the mirror's metadata) */
  serialize: <T>(work: () => Promise<T>) => Promise<T>
}

const BINARY_SNIFF_BYTES = 8000

const formatBytes = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`

export const createGitCheckout = (options: GitCheckoutOptions): Checkout => {
  const { root, gitBinary } = options
  const guard = createPathGuard(root)
  let backend: SearchBackend = options.searchBackend
  let disposed = false

  const scoped = (args: string[]) => ["--git-dir", options.gitDir, "--work-tree", root, ...args]
  // local work on the checkout ignores the worker's own git config (see GitCommand.isolated); a push
  // (with auth) keeps it, for the operator's proxy and CA settings
  const git: CheckoutGit = async (args, extra = {}) =>
    (await runGit({ args: scoped(args), cwd: root, gitBinary, isolated: !("auth" in extra), ...extra }))
      .stdout
  const changes = { git, gitDir: options.gitDir, objectsDir: path.join(options.mirrorDir, "objects") }
  const mirrorGit = (args: string[]) => runGit({ args, cwd: options.mirrorDir, gitBinary })

  /**
   * What is at a confined path, without following a final symlink (the guard already resolved links that
   * stay inside). Anything but a regular file or a directory (a FIFO, socket or device a command left) is
   * refused here, before any read could block on it.
   */
  const checkoutStat = async (resolved: { real: string }, input: string) => {
    const info = await lstatKind(resolved.real)
    if (!info) return undefined
    if (info.kind !== "file" && info.kind !== "dir") return refuseSpecial(input, info.kind)
    return { kind: info.kind, size: info.size }
  }

  return {
    root,
    // from the workspace's own records, never from the checkout's `.git` file (see checkout-mounts.ts)
    mounts: options.mounts,
    headSha: options.headSha,
    baseSha: options.baseSha,
    ref: options.ref,

    async committedChanges() {
      return parseNameStatus(
        await git(["diff", "--name-status", "--no-renames", "-z", options.baseSha, "HEAD", "--"]),
      )
    },

    async stat(input) {
      return checkoutStat(await guard(input), input)
    },

    async readFile(input) {
      const resolved = await guard(input)
      const info = await checkoutStat(resolved, input)
      if (!info)
        throw new ValidationError(
          `file ${JSON.stringify(input)} does not exist: list the directory to see what is there`,
          [{ field: "path", message: "no such file" }],
        )
      if (info.kind === "dir")
        throw new ValidationError(`${JSON.stringify(input)} is a directory: list it instead of reading it`, [
          { field: "path", message: "is a directory" },
        ])
      const tooLarge = (bytes: number) =>
        new ValidationError(
          `file ${JSON.stringify(input)} is too large to read whole (${formatBytes(bytes)}, limit ${formatBytes(options.maxFileBytes)}): search it for the lines you need`,
          [{ field: "path", message: "file too large" }],
        )
      if (info.size > options.maxFileBytes) throw tooLarge(info.size)
      const { handle, size } = await openForRead({ root, real: resolved.real, input })
      try {
        if (size > options.maxFileBytes) throw tooLarge(size)
        const content = await readCapped(handle, options.maxFileBytes)
        if (content.length > options.maxFileBytes) throw tooLarge(content.length)
        if (content.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
          throw new ValidationError(
            `file ${JSON.stringify(input)} is binary (${formatBytes(content.length)}): only text files can be read`,
            [{ field: "path", message: "binary file" }],
          )
        }
        return content.toString("utf8")
      } finally {
        await handle.close()
      }
    },

    async listDir(input, depth) {
      const resolved = await guard(input)
      const info = await checkoutStat(resolved, input)
      if (!info)
        throw new ValidationError(`directory ${JSON.stringify(input)} does not exist`, [
          { field: "path", message: "no such directory" },
        ])
      if (info.kind !== "dir")
        throw new ValidationError(`${JSON.stringify(input)} is a file, not a directory: read it instead`, [
          { field: "path", message: "not a directory" },
        ])
      const levels = Math.max(1, Math.floor(depth))
      const prefix = resolved.relative ? `${resolved.relative}/` : ""
      // tracked + untracked-but-not-ignored files: what a developer sees in `git status`, minus .git
      const output = await git([
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        "--",
        resolved.relative ? `:(literal)${resolved.relative}` : ".",
      ])
      const entries = new Map<string, DirEntry>()
      for (const file of output.split("\0")) {
        if (!file.startsWith(prefix) || file === prefix) continue
        const parts = file.slice(prefix.length).split("/")
        for (let level = 1; level <= Math.min(levels, parts.length); level++) {
          const isLeaf = level === parts.length
          const entryPath = prefix + parts.slice(0, level).join("/")
          if (!isLeaf) entries.set(`${entryPath}/`, { path: `${entryPath}/`, kind: "dir" })
          else if (!entries.has(entryPath)) entries.set(entryPath, { path: entryPath, kind: "file" })
        }
      }
      // the index may still list files the run deleted; submodules show up as directories
      const checked = await Promise.all(
        [...entries.values()].map(async (entry): Promise<DirEntry | undefined> => {
          if (entry.kind === "dir") return entry
          const info = await lstatKind(path.join(root, entry.path)).catch(() => undefined)
          if (info?.kind === "dir") return { path: `${entry.path}/`, kind: "dir" }
          // a tracked file a command replaced with a FIFO, socket or device is not listed as a file
          return info?.kind === "file" || info?.kind === "symlink" ? entry : undefined
        }),
      )
      return checked
        .filter((entry): entry is DirEntry => entry !== undefined)
        .sort((a, b) => a.path.localeCompare(b.path))
    },

    async search(query) {
      if (!query.pattern)
        throw new ValidationError("search pattern is empty: give a regular expression", [
          { field: "pattern", message: "required" },
        ])
      const resolved = await guard(query.path ?? "")
      // ripgrep opens a path it is given even when it is a FIFO (and then waits forever); walks skip them
      if (resolved.relative !== "" && !(await checkoutStat(resolved, query.path ?? "")))
        throw new ValidationError(
          `${JSON.stringify(query.path)} does not exist: search a directory that does`,
          [{ field: "path", message: "no such file or directory" }],
        )
      const request = {
        cwd: root,
        pattern: query.pattern,
        path: resolved.relative,
        glob: query.glob,
        caseSensitive: query.caseSensitive,
        maxResults: Math.max(0, Math.floor(query.maxResults)),
        gitDir: options.gitDir,
      }
      if (backend !== "git-grep") {
        try {
          return await searchWithRipgrep(request, options.ripgrepBinary)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT" || backend === "ripgrep") throw error
          options.logger?.warn("ripgrep (rg) is not installed: searching with git grep instead", {
            binary: options.ripgrepBinary,
          })
          backend = "git-grep"
        }
      }
      return searchWithGitGrep(request, gitBinary)
    },

    async writeFile(input, content) {
      const resolved = await guard(input)
      if (resolved.relative === "")
        throw new ValidationError("cannot write to the repository root: give a file path", [
          { field: "path", message: "is the root" },
        ])
      if ((await checkoutStat(resolved, input))?.kind === "dir")
        throw new ValidationError(`${JSON.stringify(input)} is a directory: give a file path inside it`, [
          { field: "path", message: "is a directory" },
        ])
      const parent = path.dirname(resolved.real)
      await mkdir(parent, { recursive: true })
      // the parents exist now: they must still lead to the checkout (a swap after the guard is refused)
      if (!isInside(root, await realpath(parent)))
        refusePath(input, "passes through a symlink that leads outside the repository")
      await writeConfined({ root, real: resolved.real, input }, content)
    },

    status: () => readStatus(changes),

    async diff(paths) {
      return diffAgainstHead(changes, paths === undefined ? [] : await Promise.all(paths.map(guard)))
    },

    async commit({ message, paths, author }) {
      const confined = await Promise.all(paths.map(guard))
      const sha = await commitPaths(changes, { message, paths: confined, author })
      if (sha) {
        options.logger?.info("committed", { sha, files: confined.length })
        await options.refreshSandboxGit?.()
      }
      return sha
    },

    async push({ branch, force, signal }) {
      await pushHead({
        branch,
        force,
        signal,
        cloneUrl: options.cloneUrl,
        fullName: options.fullName,
        authHeader: options.authHeader,
        run: (args, extra) => git(args, extra),
      })
      const sha = (await git(["rev-parse", "--verify", "HEAD^{commit}"])).trim()
      // the mirror now knows what GitHub has, so the next checkout of this branch starts from it
      await options.serialize(() =>
        mirrorGit(["update-ref", "-m", "prwright: pushed", `refs/remotes/origin/${branch}`, sha]),
      )
      options.logger?.info("pushed", { branch, sha, force: force === true })
    },

    async dispose(disposal) {
      if (disposed) return
      disposed = true
      await options.serialize(async () => {
        if (options.sandboxGitDir) {
          // git's own bookkeeping (worktree remove, reuse, inspection) expects `.git` to name the real git dir
          await releaseSandboxGit({ dir: options.sandboxGitDir, gitDir: options.gitDir, root }).catch(
            (error: unknown) =>
              options.logger?.warn("could not release the sandbox's git dir", { error: String(error) }),
          )
        }
        if (options.branch) {
          // detached first, so the local branch can go and a recycled tree carries none
          const head = (await git(["rev-parse", "--verify", "--quiet", "HEAD"]).catch(() => "")).trim()
          if (head) await git(["update-ref", "--no-deref", "HEAD", head]).catch(() => undefined)
          // the local branch lives only as long as its working copy; what matters was pushed
          await mirrorGit(["update-ref", "-d", `refs/heads/${options.branch}`]).catch(() => undefined)
        }
        if (disposal?.keepForInspection && options.keepFor) {
          await options.keepFor(root)
          return
        }
        if (await options.park?.().catch(() => false)) return
        try {
          await mirrorGit(["worktree", "remove", "--force", root])
        } catch (error) {
          options.logger?.warn("git worktree remove failed; deleting the directory", { error: String(error) })
        }
        await rm(root, { recursive: true, force: true })
        await mirrorGit(["worktree", "prune"]).catch(() => undefined)
      })
    },
  }
}
