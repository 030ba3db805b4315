/**
 * Running a command with some paths put back as they are at HEAD (the commit the run started from),
 * then restoring the run's versions: verification runs the repository's own tests and test script
 * (not the change's edits of them), and the proof of a fix runs the change's tests on the old code.
 * HEAD's content comes from the checkout's own diff, applied in reverse; nothing is read from a
 * file a sandboxed command chose. Removing a file goes through the sandbox (the checkout port has
 * no delete), with the path quoted.
 */
import { NonRetryableError } from "#domain/errors.js"
import type { Sandbox } from "../ports/sandbox.js"
import type { Checkout } from "../ports/workspace.js"
import { hashPaths } from "./change-set.js"

interface FileVersion {
  /** undefined: the file does not exist in this version */
  content: string | undefined
}

const splitLines = (text: string): { lines: string[]; endsWithNewline: boolean } => {
  if (text === "") return { lines: [], endsWithNewline: true }
  const endsWithNewline = text.endsWith("\n")
  const lines = text.split("\n")
  if (endsWithNewline) lines.pop()
  return { lines, endsWithNewline }
}

/**
 * HEAD's content of one file, from `git diff HEAD -- path` and the file's current content.
 * Throws when the diff is binary or does not fit the current content.
 */
export const contentAtHead = (diff: string, current: string | undefined): FileVersion => {
  if (diff.trim() === "") return { content: current }
  if (/^Binary files /m.test(diff) || /^GIT binary patch/m.test(diff)) {
    throw new Error("binary file: its earlier version cannot be rebuilt from the diff")
  }
  if (/^new file mode/m.test(diff) || /^--- \/dev\/null$/m.test(diff)) return { content: undefined }
  const { lines: now, endsWithNewline: nowEnds } = splitLines(current ?? "")
  const base: string[] = []
  let cursor = 0 // index into `now`
  let baseMissingNewline = false
  let reachedEnd = false
  const hunkLines = diff.split("\n")
  for (let i = 0; i < hunkLines.length; i++) {
    const header = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(hunkLines[i]!)
    if (!header) continue
    const newStart = Number(header[1])
    const newCount = header[2] === undefined ? 1 : Number(header[2])
    const start = newCount === 0 ? newStart : newStart - 1
    while (cursor < start) base.push(now[cursor++]!)
    let last: string | undefined
    for (i = i + 1; i < hunkLines.length; i++) {
      const line = hunkLines[i]!
      if (line.startsWith("@@") || line.startsWith("diff --git")) {
        i--
        break
      }
      const tag = line[0]
      if (tag === " ") {
        base.push(line.slice(1))
        cursor++
      } else if (tag === "-") base.push(line.slice(1))
      else if (tag === "+") cursor++
      else if (tag === "\\") {
        if (last === " " || last === "-") baseMissingNewline = true
        continue
      } else if (line === "") continue
      last = tag
    }
    if (cursor >= now.length) reachedEnd = true
  }
  if (cursor > now.length) throw new Error("the diff does not match the file's content")
  while (cursor < now.length) base.push(now[cursor++]!)
  const baseEndsWithNewline = reachedEnd ? !baseMissingNewline : nowEnds
  if (base.length === 0) return { content: "" }
  return { content: base.join("\n") + (baseEndsWithNewline ? "\n" : "") }
}

/** The run's files could not be put back after a run on HEAD's versions: never publish that tree. */
export class RestoreError extends NonRetryableError {}

const quote = (path: string) => `'${path.replaceAll("'", `'"'"'`)}'`

const readCurrent = async (checkout: Checkout, path: string): Promise<string | undefined> =>
  (await checkout.stat(path))?.kind === "file" ? checkout.readFile(path) : undefined

const removeFiles = async (sandbox: Sandbox, checkout: Checkout, paths: string[], signal: AbortSignal) => {
  if (paths.length === 0) return
  const result = await sandbox.run({
    command: `rm -f -- ${paths.map(quote).join(" ")}`,
    root: checkout.root,
    mounts: checkout.mounts,
    network: "none",
    timeoutMs: 30_000,
    signal,
  })
  if (result.exitCode !== 0) throw new Error(`could not remove files: ${result.output.slice(-500)}`)
}

/**
 * Runs `work` with `paths` as they are at HEAD, then writes the run's versions back and checks that
 * they are back byte for byte. Files that cannot be rebuilt (binary) make it throw before any change.
 */
export const withPathsAtHead = async <T>(
  options: { checkout: Checkout; sandbox: Sandbox; paths: string[]; signal: AbortSignal },
  work: () => Promise<T>,
): Promise<T> => {
  const { checkout, sandbox, signal } = options
  if (options.paths.length === 0) return work()
  const versions = new Map<string, { now: string | undefined; head: string | undefined }>()
  for (const path of options.paths) {
    const now = await readCurrent(checkout, path)
    versions.set(path, { now, head: contentAtHead(await checkout.diff([path]), now).content })
  }
  const expected = await hashPaths(checkout, options.paths)
  const put = async (which: "now" | "head") => {
    const absent: string[] = []
    for (const [path, version] of versions) {
      const content = version[which]
      if (content === undefined) absent.push(path)
      else await checkout.writeFile(path, content)
    }
    await removeFiles(sandbox, checkout, absent, signal)
  }
  try {
    // inside the try: a failure halfway through still puts every file back
    await put("head")
    return await work()
  } finally {
    await put("now")
    const restored = await hashPaths(checkout, options.paths)
    for (const [path, hash] of expected) {
      if (restored.get(path) !== hash) {
        // never publish a tree that differs from what the agent left
        // biome-ignore lint/correctness/noUnsafeFinally: a failed restore outranks the work's result
        throw new RestoreError(`could not restore ${path} after a test run on the earlier version`)
      }
    }
  }
}
