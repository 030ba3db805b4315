/**
 * Text search in a checkout: ripgrep (`rg --json`) when it is installed, `git grep` otherwise. Both skip
 * .git, ignored and binary files; results are capped at `maxResults` while `total` counts every match.
 */
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import type { SearchResult } from "#application/ports/workspace.js"
import { CancelledError, ValidationError } from "#domain/errors.js"
import { gitEnvironment } from "./run-git.js"

export interface SearchRequest {
  cwd: string
  pattern: string
  /** relative, already confined; "" for the root */
  path: string
  glob?: string | undefined
  caseSensitive?: boolean | undefined

  maxResults: number
  signal?: AbortSignal
  /** the worktree's git directory, named explicitly rather than found through the checkout's `.git` file */
  gitDir?: string
  /** the search is stopped after this long (default SEARCH_TIMEOUT_MS) */
  timeoutMs?: number
}

/**
 * A search that takes longer is stopped: the last line of defence against a file swapped for a FIFO
 * after the path was checked (ripgrep would wait on it forever), and against pathological patterns.
 */
export const SEARCH_TIMEOUT_MS = 60_000

/** Counting stops here, so a pattern like "." in a huge repository stays cheap. */
export const MAX_COUNTED = 100_000
const MAX_LINE = 500

type Line = { path: string; line: number; text: string }

const clip = (text: string): string => {
  const line = text.replace(/\r?\n$/, "")
  return line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line
}

/** Streams a child's stdout line by line into `onLine`; resolves with the exit code and stderr. */
const streamLines = (
  binary: string,
  args: string[],
  options: {
    cwd: string
    signal?: AbortSignal | undefined
    env?: NodeJS.ProcessEnv
    timeoutMs?: number | undefined
  },
  onLine: (line: string) => boolean,
): Promise<{ code: number | null; stderr: string; stopped: boolean }> =>
  new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd: options.cwd, env: options.env, signal: options.signal })
    let stderr = ""
    let stopped = false
    const timeoutMs = options.timeoutMs ?? SEARCH_TIMEOUT_MS
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(
        new ValidationError(
          `the search took longer than ${Math.round(timeoutMs / 1000)} s and was stopped: narrow it with path or glob, or simplify the pattern`,
          [{ field: "pattern", message: "search timed out" }],
        ),
      )
    }, timeoutMs)
    child.once("close", () => clearTimeout(timer))
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += chunk.toString()
    })
    const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY })
    lines.on("line", (line) => {
      if (stopped) return
      if (!onLine(line)) {
        stopped = true
        child.kill()
      }
    })
    child.on("error", (error) => {
      clearTimeout(timer)
      if (options.signal?.aborted) reject(new CancelledError("the search was cancelled"))
      else reject(error)
    })
    child.on("close", (code) => resolve({ code, stderr, stopped }))
  })

const caseFlag = (request: SearchRequest, flags: { sensitive: string; insensitive: string }): string[] => {
  if (request.caseSensitive === true) return [flags.sensitive]
  if (request.caseSensitive === false) return [flags.insensitive]
  // smart case: a pattern with capitals is meant literally
  return /[A-Z]/.test(request.pattern) ? [flags.sensitive] : [flags.insensitive]
}

const badPattern = (request: SearchRequest, stderr: string): ValidationError =>
  new ValidationError(
    `search pattern ${JSON.stringify(request.pattern)} is not a valid regular expression: ${stderr.trim().split("\n").slice(-3).join(" ")}`,
    [{ field: "pattern", message: "invalid regular expression" }],
  )

export const searchWithRipgrep = async (request: SearchRequest, binary = "rg"): Promise<SearchResult> => {
  const matches: Line[] = []
  let total = 0
  const args = [
    "--json",
    "--no-config",
    "--hidden",
    "--glob",
    "!.git",
    ...caseFlag(request, { sensitive: "--case-sensitive", insensitive: "--ignore-case" }),
    ...(request.glob ? ["--glob", request.glob] : []),
    "--regexp",
    request.pattern,
    "--",
    request.path || ".",
  ]
  const result = await streamLines(
    binary,
    args,
    { cwd: request.cwd, signal: request.signal, timeoutMs: request.timeoutMs },
    (line) => {
      if (!line.startsWith('{"type":"match"')) return true
      total++
      if (matches.length < request.maxResults) {
        const data = (
          JSON.parse(line) as {
            data: { path: { text?: string }; lines: { text?: string }; line_number: number }
          }
        ).data
        if (data.path.text !== undefined) {
          matches.push({
            path: data.path.text.replace(/^\.\//, ""),
            line: data.line_number,
            text: clip(data.lines.text ?? ""),
          })
        }
      }
      return total < MAX_COUNTED
    },
  )
  if (result.code === 2 && total === 0 && !result.stopped) {
    if (/regex|parse error/i.test(result.stderr)) throw badPattern(request, result.stderr)
    throw new Error(`ripgrep failed: ${result.stderr.trim()}`)
  }
  return { matches, total }
}

/** rg globs without a '/' match a file name anywhere; git pathspecs need `**` for that. */
const gitPathspec = (request: SearchRequest): string[] => {
  const base = request.path ? `${request.path}/` : ""
  if (!request.glob) return request.path ? [`:(literal)${request.path}`] : ["."]
  const glob = request.glob.includes("/") ? request.glob.replace(/^\//, "") : `**/${request.glob}`
  return [`:(glob)${base}${glob}`]
}

export const searchWithGitGrep = async (request: SearchRequest, gitBinary = "git"): Promise<SearchResult> => {
  const matches: Line[] = []
  let total = 0
  const args = [
    ...(request.gitDir ? ["--git-dir", request.gitDir, "--work-tree", request.cwd] : []),
    "grep",
    "--untracked",
    "--no-color",
    "-n",
    "-z",
    "-I",
    "-E",
    ...caseFlag(request, { sensitive: "--no-ignore-case", insensitive: "-i" }),
    "-e",
    request.pattern,
    "--",
    ...gitPathspec(request),
  ]
  const env = gitEnvironment({ isolated: true })
  const result = await streamLines(
    gitBinary,
    args,
    { cwd: request.cwd, signal: request.signal, env, timeoutMs: request.timeoutMs },
    (line) => {
      const first = line.indexOf("\0")
      const second = line.indexOf("\0", first + 1)
      if (first === -1 || second === -1) return true
      total++
      if (matches.length < request.maxResults) {
        matches.push({
          path: line.slice(0, first),
          line: Number(line.slice(first + 1, second)),
          text: clip(line.slice(second + 1)),
        })
      }
      return total < MAX_COUNTED
    },
  )
  if (result.code !== null && result.code > 1 && !result.stopped) {
    if (/regex|regexp|unmatched|invalid/i.test(result.stderr)) throw badPattern(request, result.stderr)
    throw new Error(`git grep failed: ${result.stderr.trim()}`)
  }
  return { matches, total }
}
