/**
 * The git metadata a sandboxed command in a worktree checkout may see, from the workspace's own records
 * (the mirror's path and the worktree's git dir recorded at checkout), never from the checkout's `.git`
 * file. It is the least that lets `git status`, `git diff` and `git log` work, all read-only:
 *
 * - the worktree's own git dir (`<mirror>/worktrees/<name>`: HEAD, index, commondir), and
 * - of the mirror: HEAD, config, objects, refs, and info/shallow where they exist.
 *
 * Not mounted: the rest of the mirror (other runs' worktree dirs with their indexes and HEADs, reflogs,
 * FETCH_HEAD, hooks). Nothing is writable: a writable index or object store would let a command change
 * what the host's own git later reads and commits (see docs/security.md).
 */
import { lstat } from "node:fs/promises"
import path from "node:path"
import type { CheckoutMounts } from "#application/ports/workspace.js"

/** Entries of the mirror (its common git dir) a worktree's git needs; packed-refs only where present. */
export const MIRROR_ENTRIES = ["HEAD", "config", "objects", "refs", "packed-refs", "info", "shallow"] as const

const isPlain = async (file: string): Promise<boolean> => {
  try {
    const info = await lstat(file)
    return info.isFile() || info.isDirectory()
  } catch {
    return false
  }
}

export const recordCheckoutMounts = async (mirrorDir: string, gitDir: string): Promise<CheckoutMounts> => {
  const readOnly = [gitDir]
  for (const entry of MIRROR_ENTRIES) {
    const file = path.join(mirrorDir, entry)
    if (await isPlain(file)) readOnly.push(file)
  }
  return { readOnly, writable: [] }
}
