/**
 * Confines paths to a checkout: they are relative, never climb with `..`, never enter `.git`, and never
 * follow a symlink whose real path leaves the checkout.
 */
import { readlink, realpath } from "node:fs/promises"
import path from "node:path"
import { ValidationError } from "#domain/errors.js"

export interface ResolvedPath {
  /** '/'-separated path relative to the root; "" for the root itself */
  relative: string
  absolute: string
  /**
   * the real path (symlinks inside the checkout resolved), checked to be inside the root: what host-side
   * reads and writes open, with O_NOFOLLOW, so a link swapped in after this check is refused, not followed
   */
  real: string
}

const refuse = (input: string, why: string): never => {
  throw new ValidationError(`path ${JSON.stringify(input)} ${why}`, [{ field: "path", message: why }])
}

const MAX_LINK_HOPS = 40

/**
 * Real path of `absolute`, or of its nearest existing ancestor joined with the rest (for paths not yet
 * created). A dangling symlink on the way is followed by hand: a write through it would land on its target.
 */
const realpathOfExisting = async (absolute: string, hops = 0): Promise<string> => {
  const missing: string[] = []
  let current = absolute
  for (;;) {
    try {
      return path.join(await realpath(current), ...missing.reverse())
    } catch (error) {
      const parent = path.dirname(current)
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || parent === current) throw error
      const target = await readlink(current).catch(() => undefined)
      if (target !== undefined) {
        if (hops >= MAX_LINK_HOPS) throw Object.assign(new Error("too many symlinks"), { code: "ELOOP" })
        return realpathOfExisting(path.resolve(parent, target, ...missing.reverse()), hops + 1)
      }
      missing.push(path.basename(current))
      current = parent
    }
  }
}

/** `root` must already be a real path (no symlinks in it). */
export const createPathGuard = (root: string) => {
  const inside = (candidate: string): boolean =>
    candidate === root || candidate.startsWith(`${root}${path.sep}`)

  return async (input: string): Promise<ResolvedPath> => {
    if (typeof input !== "string") refuse(String(input), "must be a string")
    if (input.includes("\0")) refuse(input, "contains a NUL byte")
    if (path.isAbsolute(input) || /^[A-Za-z]:[\\/]/.test(input) || input.startsWith("~")) {
      refuse(input, "must be relative to the repository root (absolute paths are not allowed)")
    }
    const segments = input.split(/[\\/]+/).filter((part) => part.length > 0 && part !== ".")
    if (segments.includes("..")) refuse(input, "leaves the repository: '..' is not allowed")
    if (segments[0] === ".git") refuse(input, "is inside .git, which is not part of the repository's files")
    const relative = segments.join("/")
    const absolute = path.join(root, ...segments)
    const real = await realpathOfExisting(absolute).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ELOOP") return refuse(input, "is a symlink loop")
      throw error
    })
    if (!inside(real)) refuse(input, "is a symlink (or passes through one) that leads outside the repository")
    return { relative, absolute, real }
  }
}
