/**
 * The write side of a checkout's history: what changed against HEAD (status, diff) and committing exactly
 * the paths asked for. Staging happens in a temporary index next to the worktree's own, so whatever else
 * is in the working tree or the real index (lockfiles or build output from a setup step, files the agent
 * staged itself) never slips into a commit.
 */
import { randomBytes } from "node:crypto"
import { copyFile, lstat, mkdir, rm, writeFile } from "node:fs/promises"
import path from "node:path"
import type { FileChange } from "#application/ports/workspace.js"
import { ValidationError } from "#domain/errors.js"
import { GitCommandError } from "./run-git.js"

/** Runs git on the checkout (explicit --git-dir/--work-tree); resolves with raw stdout. */
export type CheckoutGit = (
  args: string[],
  options?: { env?: Record<string, string>; signal?: AbortSignal | undefined },
) => Promise<string>

export interface ChangeContext {
  git: CheckoutGit
  /** the worktree's administrative directory (outside the checkout); temporary files go here */
  gitDir: string
  /**
   * the mirror's object store; when given, a diff's throwaway staging writes its blobs to a scratch
   * object dir (with this one as alternate) instead of the mirror, which later runs' sandboxes can read
   */
  objectsDir?: string
}

/** A pathspec that means exactly this path: no globbing, no magic from the path's own characters. */
export const literal = (relative: string): string => (relative === "" ? "." : `:(literal)${relative}`)

/** Parses `git status --porcelain=v1 -z --no-renames` into changes of the working tree against HEAD. */
export const parseStatus = (output: string): FileChange[] => {
  const seen = new Map<string, { inHead: boolean; inTree: boolean }>()
  for (const entry of output.split("\0")) {
    if (entry.length < 4) continue
    const x = entry[0]
    const y = entry[1]
    const file = entry.slice(3)
    const known = seen.get(file)
    if (x === "?") {
      // untracked; after `git rm --cached` the same path is also listed as deleted from the index
      seen.set(file, { inHead: known?.inHead ?? false, inTree: true })
    } else if (x === "A") {
      if (y !== "D") seen.set(file, { inHead: false, inTree: true })
    } else if (x === "D") {
      seen.set(file, { inHead: true, inTree: known?.inTree ?? false })
    } else {
      seen.set(file, { inHead: true, inTree: y !== "D" })
    }
  }
  const changes: FileChange[] = []
  for (const [file, { inHead, inTree }] of seen) {
    if (inHead && inTree) changes.push({ path: file, kind: "modified" })
    else if (inTree) changes.push({ path: file, kind: "added" })
    else if (inHead) changes.push({ path: file, kind: "deleted" })
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

export const readStatus = async ({ git }: ChangeContext): Promise<FileChange[]> =>
  parseStatus(
    await git([
      // the cache of untracked directories makes repeated scans of a large tree cheap
      "-c",
      "core.untrackedCache=true",
      "status",
      "--porcelain=v1",
      "-z",
      "--untracked-files=all",
      "--no-renames",
      "--ignore-submodules=dirty",
    ]),
  )

const temporaryFile = (context: ChangeContext, kind: string) =>
  path.join(context.gitDir, `prwright-${kind}-${randomBytes(6).toString("hex")}`)

/** Runs `work` with GIT_INDEX_FILE pointing at a throwaway index that starts as a copy of the real one. */
const withTemporaryIndex = async <T>(
  context: ChangeContext,
  start: "copy" | "head",
  work: (env: Record<string, string>) => Promise<T>,
): Promise<T> => {
  const index = temporaryFile(context, "index")
  const env = { GIT_INDEX_FILE: index }
  try {
    if (start === "copy") {
      // a copy keeps the stat cache, so git re-reads only files that changed
      await copyFile(path.join(context.gitDir, "index"), index).catch(async () => {
        await context.git(["read-tree", "HEAD"], { env })
      })
    } else {
      await context.git(["read-tree", "HEAD"], { env })
    }
    return await work(env)
  } finally {
    await rm(index, { force: true })
    await rm(`${index}.lock`, { force: true })
  }
}

export interface ConfinedPath {
  /** '/'-separated, relative to the root; "" for the whole tree */
  relative: string
  absolute: string
}

/**
 * The pathspecs `git add` can take: paths that exist in the working tree, or that the index in `env` knows
 * (so their deletion is staged). A path that is neither would make `git add` fail as a whole.
 */
const addablePathspecs = async (
  context: ChangeContext,
  env: Record<string, string>,
  paths: ConfinedPath[],
): Promise<string[]> => {
  const tracked = (
    await context.git(["ls-files", "-z", "--cached", "--", ...paths.map((p) => literal(p.relative))], { env })
  )
    .split("\0")
    .filter(Boolean)
  const present = await Promise.all(
    paths.map(async ({ relative, absolute }) => {
      if (relative === "") return true
      if (
        await lstat(absolute).then(
          () => true,
          () => false,
        )
      )
        return true
      return tracked.some((file) => file === relative || file.startsWith(`${relative}/`))
    }),
  )
  return paths.filter((_, index) => present[index]).map((p) => literal(p.relative))
}

const ignoredPaths = (error: unknown): string[] | undefined => {
  if (!(error instanceof GitCommandError) || !/paths are ignored/.test(error.stderr)) return undefined
  return error.stderr
    .split("\n")
    .slice(1)
    .filter((line) => line.length > 0 && !line.startsWith("hint:"))
}

/** Runs `work` with git writing new objects to a scratch dir (read through the real store), removed after. */
const withScratchObjects = async <T>(
  context: ChangeContext,
  work: (env: Record<string, string>) => Promise<T>,
): Promise<T> => {
  if (!context.objectsDir) return work({})
  const scratch = temporaryFile(context, "objects")
  try {
    await mkdir(scratch)
    return await work({ GIT_OBJECT_DIRECTORY: scratch, GIT_ALTERNATE_OBJECT_DIRECTORIES: context.objectsDir })
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

/** Unified diff of the working tree against HEAD, new files included; binary files are named, not dumped. */
export const diffAgainstHead = (context: ChangeContext, paths: ConfinedPath[]): Promise<string> =>
  withScratchObjects(context, (objects) =>
    diffWith(
      {
        ...context,
        git: (args, options = {}) => context.git(args, { ...options, env: { ...objects, ...options.env } }),
      },
      paths,
    ),
  )

const diffWith = (context: ChangeContext, paths: ConfinedPath[]): Promise<string> =>
  withTemporaryIndex(context, "copy", async (env) => {
    const pathspecs = paths.length > 0 ? paths.map((p) => literal(p.relative)) : ["."]
    const addable = paths.length > 0 ? await addablePathspecs(context, env, paths) : ["."]
    if (addable.length > 0) {
      await context.git(["add", "-A", "--", ...addable], { env }).catch((error: unknown) => {
        // an ignored path is simply not part of the diff; git still staged the others
        if (!ignoredPaths(error)) throw error
      })
    }
    return context.git(
      [
        "diff",
        "--cached",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--no-renames",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "HEAD",
        "--",
        ...pathspecs,
      ],
      { env },
    )
  })

export interface CommitRequest {
  message: string
  /** already confined */
  paths: ConfinedPath[]
  author: { name: string; email: string }
}

const identityProblem = (value: string): boolean => value.trim().length === 0 || /[<>\n\r\0]/.test(value)

/** Commits exactly `paths` on top of HEAD; the new sha, or undefined when they hold no change. */
export const commitPaths = async (
  context: ChangeContext,
  request: CommitRequest,
): Promise<string | undefined> => {
  const { git } = context
  const { name, email } = request.author
  if (identityProblem(name) || identityProblem(email)) {
    throw new ValidationError(
      `commit author ${JSON.stringify(`${name} <${email}>`)} is not usable: give a non-empty name and email without '<', '>' or line breaks`,
      [{ field: "author", message: "invalid identity" }],
    )
  }
  if (request.message.trim().length === 0) {
    throw new ValidationError("commit message is empty: say what the change does", [
      { field: "message", message: "required" },
    ])
  }
  if (request.paths.length === 0) return undefined
  const parent = (await git(["rev-parse", "--verify", "HEAD^{commit}"])).trim()
  const parentTree = (await git(["rev-parse", "--verify", "HEAD^{tree}"])).trim()

  const sha = await withTemporaryIndex(context, "head", async (env) => {
    const pathspecs = await addablePathspecs(context, env, request.paths)
    if (pathspecs.length === 0) return undefined
    await git(["add", "-A", "--", ...pathspecs], { env }).catch((error: unknown) => {
      const ignored = ignoredPaths(error)
      if (!ignored) throw error
      throw new ValidationError(
        `cannot commit ${ignored.join(", ")}: .gitignore excludes ${ignored.length === 1 ? "it" : "them"}; leave ignored files out of the commit or change .gitignore`,
        [{ field: "paths", message: "ignored by .gitignore" }],
      )
    })
    const tree = (await git(["write-tree"], { env })).trim()
    if (tree === parentTree) return undefined
    const messageFile = temporaryFile(context, "message")
    await writeFile(messageFile, request.message.endsWith("\n") ? request.message : `${request.message}\n`)
    try {
      const identity = {
        GIT_AUTHOR_NAME: name,
        GIT_AUTHOR_EMAIL: email,
        GIT_COMMITTER_NAME: name,
        GIT_COMMITTER_EMAIL: email,
      }
      return (
        await git(["commit-tree", "--no-gpg-sign", "-p", parent, "-F", messageFile, tree], { env: identity })
      ).trim()
    } finally {
      await rm(messageFile, { force: true })
    }
  })
  if (!sha) return undefined
  // moves the checked-out branch (or a detached HEAD), refusing if HEAD moved meanwhile
  await git(["update-ref", "-m", "prwright: commit", "HEAD", sha, parent])
  // the real index now lags behind HEAD for these paths: bring them in line so status stays truthful
  await git(["reset", "--quiet", "--", ...request.paths.map((p) => literal(p.relative))])
  return sha
}

/** `git diff --name-status -z` output as FileChanges (A/M/D…; anything else counts as modified). */
export const parseNameStatus = (output: string): FileChange[] => {
  const fields = output.split("\0").filter((field) => field !== "")
  const changes: FileChange[] = []
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const code = fields[i]!.charAt(0)
    const kind = code === "A" ? "added" : code === "D" ? "deleted" : "modified"
    changes.push({ path: fields[i + 1]!, kind })
  }
  return changes
}
