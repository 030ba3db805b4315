/**
 * A small Checkout over a real git repository in a temp directory, for agent tests (the git
 * workspace adapter has its own suite). Confinement follows the port: absolute paths, `..` and
 * symlinks leading outside (the file itself or any parent) are refused with a ValidationError.
 */
import { execFile } from "node:child_process"
import { lstat, mkdir, readdir, readFile, realpath, stat, writeFile } from "node:fs/promises"
import path from "node:path"
import { promisify } from "node:util"
import type {
  Checkout,
  DirEntry,
  FileChange,
  SearchQuery,
  SearchResult,
} from "#application/ports/workspace.js"
import { ValidationError } from "#domain/errors.js"

const exec = promisify(execFile)

const git = async (root: string, args: string[], okCodes: number[] = [0]): Promise<string> => {
  try {
    const { stdout } = await exec("git", args, { cwd: root, maxBuffer: 64 * 1024 * 1024 })
    return stdout
  } catch (error) {
    const failure = error as { code?: number; stdout?: string }
    if (typeof failure.code === "number" && okCodes.includes(failure.code)) return failure.stdout ?? ""
    throw error
  }
}

const IDENTITY = ["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]

/** Writes `files` into `root`, makes it a git repository with one commit, and returns its Checkout. */
export const createTempCheckout = async (root: string, files: Record<string, string>): Promise<Checkout> => {
  for (const [relative, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, relative)), { recursive: true })
    await writeFile(path.join(root, relative), content)
  }
  await git(root, ["init", "-q", "-b", "main"])
  await git(root, ["add", "-A"])
  await git(root, [...IDENTITY, "commit", "-q", "-m", "initial"])
  const headSha = (await git(root, ["rev-parse", "HEAD"])).trim()
  const realRoot = await realpath(root)

  const inside = (candidate: string): boolean => {
    const rel = path.relative(realRoot, candidate)
    return !(rel.startsWith("..") || path.isAbsolute(rel))
  }
  /** the nearest existing ancestor (or the path itself), resolved through symlinks */
  const realOfNearest = async (full: string): Promise<string> => {
    for (let current = full; ; current = path.dirname(current)) {
      const exists = await lstat(current).then(
        () => true,
        () => false,
      )
      if (exists) return realpath(current).catch(() => current)
      if (current === path.dirname(current)) return current
    }
  }
  const resolveInside = async (relative: string): Promise<string> => {
    if (path.isAbsolute(relative))
      throw new ValidationError(`${relative} is absolute: use a path relative to the checkout`)
    const full = path.resolve(realRoot, relative)
    if (!inside(full) || !inside(await realOfNearest(full))) {
      throw new ValidationError(`${relative} is outside the checkout: paths must stay inside the repository`)
    }
    if (path.relative(realRoot, full).split(path.sep)[0] === ".git") {
      throw new ValidationError(`${relative} is inside .git: the repository's metadata is not editable`)
    }
    return full
  }
  const walk = async (dir: string, depth: number, out: DirEntry[]): Promise<void> => {
    if (depth === 0) return
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      // like git and ripgrep: a symlink is listed, not followed
      if (entry.name === ".git") continue
      const full = path.join(dir, entry.name)
      const rel = path.relative(realRoot, full).split(path.sep).join("/")
      if (entry.isDirectory()) {
        out.push({ path: `${rel}/`, kind: "dir" })
        await walk(full, depth - 1, out)
      } else out.push({ path: rel, kind: "file" })
    }
  }
  const status = async (): Promise<FileChange[]> => {
    const raw = await git(realRoot, ["status", "--porcelain=v1", "-z", "--untracked-files=all"])
    const changes: FileChange[] = []
    const fields = raw.split("\0").filter(Boolean)
    for (let i = 0; i < fields.length; i += 1) {
      const field = fields[i] as string
      const code = field.slice(0, 2)
      const file = field.slice(3)
      if (code.startsWith("R") || code.startsWith("C")) i += 1
      const kind = code === "??" || code.includes("A") ? "added" : code.includes("D") ? "deleted" : "modified"
      changes.push({ path: file, kind })
    }
    return changes.sort((a, b) => a.path.localeCompare(b.path))
  }

  return {
    root: realRoot,
    mounts: { readOnly: [], writable: [] },
    headSha,
    baseSha: headSha,
    ref: "main",
    committedChanges: async () => [],
    stat: async (relative) => {
      const info = await stat(await resolveInside(relative)).catch(() => undefined)
      return info && { kind: info.isDirectory() ? "dir" : "file", size: info.size }
    },
    readFile: async (relative) => readFile(await resolveInside(relative), "utf8"),
    writeFile: async (relative, content) => {
      const full = await resolveInside(relative)
      await mkdir(path.dirname(full), { recursive: true })
      await writeFile(full, content)
    },
    listDir: async (relative, depth) => {
      const out: DirEntry[] = []
      await walk(await resolveInside(relative), depth, out)
      return out
    },
    search: async (query: SearchQuery): Promise<SearchResult> => {
      const regex = new RegExp(query.pattern, query.caseSensitive ? "" : "i")
      const entries: DirEntry[] = []
      await walk(await resolveInside(query.path ?? "."), 10, entries)
      const matches: SearchResult["matches"] = []
      const files = []
      for (const entry of entries) {
        if (entry.kind === "file" && (await lstat(path.join(realRoot, entry.path))).isFile())
          files.push(entry)
      }
      for (const entry of files.sort((a, b) => a.path.localeCompare(b.path))) {
        const lines = (await readFile(path.join(realRoot, entry.path), "utf8")).split("\n")
        lines.forEach((text, index) => {
          if (regex.test(text)) matches.push({ path: entry.path, line: index + 1, text })
        })
      }
      return { matches: matches.slice(0, query.maxResults), total: matches.length }
    },
    status,
    diff: async (paths) => {
      const untracked = new Set(
        (await status()).filter((change) => change.kind === "added").map((change) => change.path),
      )
      const wanted = paths ?? [...untracked]
      const tracked = wanted.filter((file) => !untracked.has(file))
      let out =
        paths === undefined || tracked.length > 0
          ? await git(realRoot, ["diff", "HEAD", "--", ...tracked])
          : ""
      for (const file of wanted.filter((f) => untracked.has(f)).sort()) {
        out += await git(realRoot, ["diff", "--no-index", "--", "/dev/null", file], [1])
      }
      return out
    },
    commit: async ({ message, paths }) => {
      await git(realRoot, ["add", "-A", "--", ...paths])
      const staged = await git(realRoot, ["diff", "--cached", "--name-only"])
      if (staged.trim().length === 0) return undefined
      await git(realRoot, [...IDENTITY, "commit", "-q", "-m", message])
      return (await git(realRoot, ["rev-parse", "HEAD"])).trim()
    },
    push: async () => {
      throw new Error("the temp checkout has no remote")
    },
    dispose: async () => {},
  }
}
