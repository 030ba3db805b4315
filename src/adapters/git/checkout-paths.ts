/**
 * Confines paths to a checkout: they are relative, never climb with `..`, never enter `.git`, and never
 * follow a symlink whose real path leaves the checkout.
 */
import { realpath } from "node:fs/promises"
import path from "node:path"
import { ValidationError } from "#domain/errors.js"

export interface ResolvedPath {
  /** '/'-separated path relative to the root; "" for the root itself */
  relative: string
  absolute: string
}

const refuse = (input: string, why: string): never => {
  throw new ValidationError(`path ${JSON.stringify(input)} ${why}`, [{ field: "path", message: why }])
}

/** Real path of `absolute`, or of its nearest existing ancestor joined with the rest (for paths not yet created). */
const realpathOfExisting = async (absolute: string): Promise<string> => {
  const missing: string[] = []
  let current = absolute
  for (;;) {
    try {
      return path.join(await realpath(current), ...missing.reverse())
    } catch (error) {
      const parent = path.dirname(current)
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || parent === current) throw error
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
    const real = await realpathOfExisting(absolute)
    if (!inside(real)) refuse(input, "is a symlink (or passes through one) that leads outside the repository")
    return { relative, absolute }
  }
}
