import type { FileChange } from "./ports/workspace.js"

/**
 * The change a run would commit, from `git status` of its checkout: every path the model edited that
 * still differs from HEAD, and every other changed path except what setup and the baseline test run
 * left behind (`residue`: lockfiles, build output, caches). Sorted, each path once.
 */
export const changedPaths = (
  status: readonly FileChange[],
  editedPaths: Iterable<string>,
  residue: ReadonlySet<string> = new Set(),
): string[] => {
  const changed = new Set(status.map((change) => change.path))
  const paths = new Set<string>()
  for (const path of editedPaths) if (changed.has(path)) paths.add(path)
  for (const path of changed) if (!residue.has(path)) paths.add(path)
  return [...paths].sort()
}
