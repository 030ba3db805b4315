/**
 * The change set is the agent phase's work only. After setup and the baseline the tree is
 * snapshotted (a content hash of every path that differs from HEAD); what the run commits is what
 * differs from that snapshot, minus what the verification runs themselves changed. Lockfiles
 * rewritten by setup, build output and files a test run writes never enter the pull request,
 * ignored or not; a file the model changed that setup had also touched is named in the PR body.
 */
import { createHash } from "node:crypto"
import { ValidationError } from "#domain/errors.js"
import type { Checkout } from "../ports/workspace.js"

/**
 * Untracked paths that are build or test output by convention, wherever a repository forgot to
 * ignore them: never part of a change, and not worth hashing (a Rust target/ holds thousands).
 */
const BUILD_OUTPUT = [
  /(^|\/)(node_modules|target|__pycache__|\.pytest_cache|\.mypy_cache|\.ruff_cache|\.tox|\.venv|\.gradle|\.nyc_output|coverage)\//,
  /\.(pyc|pyo|class|o|so|dylib)$/,
  /(^|\/)\.coverage$/,
]
export const isBuildOutput = (path: string): boolean => BUILD_OUTPUT.some((pattern) => pattern.test(path))

/** The paths git status lists, minus untracked build output. */
const candidatePaths = async (checkout: Checkout) =>
  (await checkout.status()).filter((change) => change.kind !== "added" || !isBuildOutput(change.path))

/** path → content hash, for every path that differed from HEAD when it was taken */
export type TreeSnapshot = Map<string, string>

const ABSENT = "absent"

/** A hash of the path's content; files the checkout will not read whole are known by their size. */
const hashOf = async (checkout: Checkout, path: string): Promise<string> => {
  const info = await checkout.stat(path).catch(() => undefined)
  if (!info) return ABSENT
  if (info.kind === "dir") return "dir"
  try {
    return createHash("sha256")
      .update(await checkout.readFile(path))
      .digest("hex")
  } catch {
    // binary or too large to read: its size stands in for its content
    return `unreadable:${info.size}`
  }
}

/** Hashes of the given paths as they are now. */
export const hashPaths = async (checkout: Checkout, paths: Iterable<string>): Promise<TreeSnapshot> => {
  const hashes: TreeSnapshot = new Map()
  for (const path of paths) hashes.set(path, await hashOf(checkout, path))
  return hashes
}

/** Every path that differs from HEAD, with its content hash. */
export const snapshotTree = async (checkout: Checkout): Promise<TreeSnapshot> =>
  hashPaths(
    checkout,
    (await candidatePaths(checkout)).map((change) => change.path),
  )

/**
 * Paths that differ now from `snapshot`. A path the snapshot does not list was equal to HEAD then,
 * so it differs when git status lists it now; a listed one differs when its hash changed.
 */
export const changedSince = async (checkout: Checkout, snapshot: TreeSnapshot): Promise<string[]> => {
  const changed: string[] = []
  for (const change of await candidatePaths(checkout)) {
    const before = snapshot.get(change.path)
    if (before === undefined || before !== (await hashOf(checkout, change.path))) changed.push(change.path)
  }
  return changed.sort()
}

export interface ChangeSet {
  /** what the commit holds */
  paths: string[]
  /** paths of the change that setup or the baseline had already touched (the commit carries both) */
  alsoTouchedBySetup: string[]
  /** paths left out because a verification run changed them */
  leftOut: string[]
  /** paths left out because the checkout refuses them (a link leading outside the repository) */
  refused: string[]
}

/** Whether the checkout refuses the path (a symlink, or a path through one, leading outside). */
const refusedByCheckout = async (checkout: Checkout, path: string): Promise<boolean> => {
  try {
    await checkout.stat(path)
    return false
  } catch (error) {
    if (error instanceof ValidationError) return true
    throw error
  }
}

/** The agent phase's work: what changed since the snapshot, minus what verification wrote. */
export const changeSet = async (
  checkout: Checkout,
  snapshot: TreeSnapshot,
  verifyOutput: ReadonlySet<string>,
): Promise<ChangeSet> => {
  const since = await changedSince(checkout, snapshot)
  const paths: string[] = []
  const refused: string[] = []
  for (const path of since.filter((candidate) => !verifyOutput.has(candidate))) {
    // a link out of the repository never enters a commit: the fix around it still does
    if (await refusedByCheckout(checkout, path)) refused.push(path)
    else paths.push(path)
  }
  return {
    paths,
    alsoTouchedBySetup: paths.filter((path) => snapshot.has(path)),
    leftOut: since.filter((path) => verifyOutput.has(path)),
    refused,
  }
}

/**
 * Runs a verification command and records what it changed (content that differs before and after
 * it), so that output is kept out of the change set. The paths compared are those that differ from
 * HEAD before or after the run.
 */
export const recordingOutput = async <T>(
  checkout: Checkout,
  verifyOutput: Set<string>,
  run: () => Promise<T>,
): Promise<T> => {
  const before = await snapshotTree(checkout)
  const result = await run()
  const after = await snapshotTree(checkout)
  for (const [path, hash] of after) if (before.get(path) !== hash) verifyOutput.add(path)
  for (const path of before.keys()) if (!after.has(path)) verifyOutput.add(path)
  return result
}
