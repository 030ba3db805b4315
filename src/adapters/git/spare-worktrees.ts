/**
 * Recycled working trees. Writing every file of a large repository dominates the cost of a fresh worktree;
 * a disposed run's worktree, parked here, becomes the next run's checkout after a forced `git checkout`
 * and `git clean -ffdx`, which rewrite only what differs. Everything a previous run left (edits,
 * untracked and ignored files, a rewritten `.git` file) is reset or removed before reuse, and any
 * failure on the way falls back to a fresh worktree.
 *
 * Callers run these under the mirror's lock. Parked trees live in `dataDir/spares/…`, on the same
 * filesystem as the runs, so parking and taking are renames; trees parked by an earlier process are
 * removed the first time this process touches that mirror.
 */
import { randomBytes } from "node:crypto"
import { mkdir, readdir, rename, rm } from "node:fs/promises"
import path from "node:path"
import { replaceHostFile } from "./confined-fs.js"
import { runGit } from "./run-git.js"

export interface ParkedWorktree {
  dir: string
  /** the worktree's administrative directory in the mirror */
  gitDir: string
}

export interface SparePool {
  /** moves a parked tree to `runDir` and resets it to `sha`; undefined when none is parked or reuse failed */
  take(options: {
    mirrorDir: string
    runDir: string
    sha: string
    branch?: string | undefined
    signal?: AbortSignal | undefined
  }): Promise<ParkedWorktree | undefined>

  /** parks a disposed run's tree; false when the pool is full (the caller removes the tree) */
  park(mirrorDir: string, tree: ParkedWorktree): Promise<boolean>
}

/**
 * Points a moved worktree and its administrative directory at each other again, as `git worktree move`
 * does. The tree's `.git` is whatever the last sandboxed command left (a symlink to a host file, a
 * directory, a FIFO): it is removed unfollowed and written anew from the recorded git dir.
 */
const relink = async (tree: ParkedWorktree, dir: string) => {
  await replaceHostFile(path.join(dir, ".git"), `gitdir: ${tree.gitDir}\n`)
  await replaceHostFile(path.join(tree.gitDir, "gitdir"), `${path.join(dir, ".git")}\n`)
}

export const createSparePool = (options: {
  dataDir: string
  gitBinary: string
  limit: number
}): SparePool => {
  const parked = new Map<string, ParkedWorktree[]>()
  const swept = new Set<string>()
  const sparesOf = (mirrorDir: string) =>
    path.join(options.dataDir, "spares", path.relative(path.join(options.dataDir, "mirrors"), mirrorDir))

  const remove = async (mirrorDir: string, dir: string) => {
    await rm(dir, { recursive: true, force: true })
    await runGit({ args: ["worktree", "prune"], cwd: mirrorDir, gitBinary: options.gitBinary }).catch(
      () => undefined,
    )
  }

  const sweep = async (mirrorDir: string) => {
    if (swept.has(mirrorDir)) return
    swept.add(mirrorDir)
    const dir = sparesOf(mirrorDir)
    const leftovers = await readdir(dir).catch(() => [])
    if (leftovers.length > 0) await remove(mirrorDir, dir)
  }

  return {
    async take({ mirrorDir, runDir, sha, branch, signal }) {
      await sweep(mirrorDir)
      const tree = parked.get(mirrorDir)?.pop()
      if (!tree) return undefined
      const git = (args: string[]) =>
        runGit({
          args: ["--git-dir", tree.gitDir, "--work-tree", runDir, ...args],
          cwd: runDir,
          gitBinary: options.gitBinary,
          signal,
          isolated: true,
        })
      try {
        await rename(tree.dir, runDir)
        await relink(tree, runDir)
        await git([
          "checkout",
          "--force",
          "--quiet",
          "--no-recurse-submodules",
          ...(branch ? ["-B", branch] : ["--detach"]),
          sha,
        ])
        await git(["clean", "-ffdxq"])
        return tree
      } catch {
        await remove(mirrorDir, runDir)
        await remove(mirrorDir, tree.dir)
        return undefined
      }
    },

    async park(mirrorDir, tree) {
      await sweep(mirrorDir)
      const trees = parked.get(mirrorDir) ?? []
      if (trees.length >= options.limit) return false
      const dir = path.join(sparesOf(mirrorDir), randomBytes(6).toString("hex"))
      try {
        await mkdir(path.dirname(dir), { recursive: true })
        await rename(tree.dir, dir)
        await relink(tree, dir)
      } catch {
        await remove(mirrorDir, dir)
        return false
      }
      trees.push({ dir, gitDir: tree.gitDir })
      parked.set(mirrorDir, trees)
      return true
    },
  }
}
