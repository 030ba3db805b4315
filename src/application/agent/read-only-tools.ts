/**
 * The tools a planning run gets: the shared editor tool restricted to `view`, and `search`.
 * Names and parameters follow INTERFACES.md ("Agent tools"); the implementing agent reuses the
 * `view` and `search` functions with its fuller tool set. A tool that fails throws: the AI SDK hands
 * the message back to the model as an error result, so a bad path is a hint, not a crash.
 */
import { tool } from "ai"
import { z } from "zod"
import type { Checkout } from "#application/ports/workspace.js"
import { errorMessage } from "#domain/errors.js"
import { truncateMiddle } from "./truncate.js"

/** lines shown when `view` has no view_range */
export const VIEW_WINDOW_LINES = 200
/** characters one view shows at most: a longer window ends early (at a line), never cut in the middle */
export const VIEW_WINDOW_CHARS = 16_000
/** longer lines (minified files, data) are cut so one line cannot flood the context */
export const MAX_LINE_CHARS = 500
export const MAX_DIR_ENTRIES = 400
export const MAX_SEARCH_RESULTS = 50
/** cap on what one tool call hands back to the model */
export const MAX_TOOL_OUTPUT_CHARS = 20_000

const ROOT_ALIASES = new Set(["", ".", "./", "/"])
/** "." for the root aliases, otherwise the path without a leading "./" */
export const normalizePath = (path: string): string => {
  const trimmed = path.trim()
  return ROOT_ALIASES.has(trimmed) ? "." : trimmed.replace(/^\.\/+/, "")
}

/** one line as `view` shows it: right-aligned number, tab, the line (cut when very long) */
export const numbered = (line: string, number: number): string => {
  const shown =
    line.length > MAX_LINE_CHARS
      ? `${line.slice(0, MAX_LINE_CHARS)}… [line cut, ${line.length} characters in all]`
      : line
  return `${String(number).padStart(6)}\t${shown}`
}

const viewFile = async (checkout: Checkout, path: string, viewRange?: [number, number]): Promise<string> => {
  const text = await checkout.readFile(path)
  if (text.includes("\u0000"))
    return `${path} looks like a binary file (${text.length} bytes); it is not shown.`
  if (text.length === 0) return `${path} is empty.`
  const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n")
  const total = lines.length
  let start = 1
  let end = Math.min(total, VIEW_WINDOW_LINES)
  if (viewRange) {
    const [from, to] = viewRange
    if (!Number.isInteger(from) || from < 1 || from > total) {
      throw new Error(
        `view_range start ${from} is outside ${path}, which has ${total} lines (use 1..${total})`,
      )
    }
    if (to !== -1 && (!Number.isInteger(to) || to < from)) {
      throw new Error(`view_range end ${to} must be -1 (to the end) or a line number >= the start (${from})`)
    }
    start = from
    end = to === -1 ? total : Math.min(to, total)
  }
  // Stop at the last whole line that fits the character cap: the header then tells the truth.
  const shown: string[] = []
  let chars = 0
  for (let number = start; number <= end; number += 1) {
    const line = numbered(lines[number - 1] ?? "", number)
    if (shown.length > 0 && chars + line.length + 1 > VIEW_WINDOW_CHARS) break
    shown.push(line)
    chars += line.length + 1
  }
  const last = start + shown.length - 1
  const header = `Here is ${path} (lines ${start}-${last} of ${total}), with line numbers:\n`
  const cutByChars = last < end
  const more =
    last < total
      ? `\n[${total - last} more lines not shown${cutByChars ? ` (a view stops at ${VIEW_WINDOW_CHARS} characters)` : ""}: call view with view_range [${last + 1}, ${Math.min(total, last + VIEW_WINDOW_LINES)}] to see more, or search for what you need]`
      : ""
  return `${header}${shown.join("\n")}${more}`
}

const viewDirectory = async (checkout: Checkout, path: string): Promise<string> => {
  const entries = await checkout.listDir(path, 2)
  const paths = entries.map((entry) => entry.path).sort()
  // at most MAX_DIR_ENTRIES entries and VIEW_WINDOW_CHARS characters: the list ends early, never cut
  const shown: string[] = []
  let chars = 0
  for (const entry of paths.slice(0, MAX_DIR_ENTRIES)) {
    if (chars + entry.length + 1 > VIEW_WINDOW_CHARS) break
    shown.push(entry)
    chars += entry.length + 1
  }
  const label = path === "." ? "the repository root" : path
  const header = `Files and directories up to 2 levels deep in ${label} (directories end with /):\n`
  const more =
    paths.length > shown.length
      ? `\n[${paths.length - shown.length} more entries not shown: view a subdirectory to see them]`
      : ""
  return `${header}${shown.length > 0 ? shown.join("\n") : "(empty)"}${more}`
}

/** The `view` command of the editor tool: numbered, windowed file contents, or a 2-level listing. */
export const viewPath = async (
  checkout: Checkout,
  rawPath: string,
  viewRange?: [number, number],
): Promise<string> => {
  const path = normalizePath(rawPath)
  const stat = await checkout.stat(path)
  if (!stat) {
    throw new Error(
      `${path} does not exist: view "." to see the repository's files, or use search to find it`,
    )
  }
  if (stat.kind === "dir") {
    if (viewRange) throw new Error(`${path} is a directory: view_range only applies to files`)
    return viewDirectory(checkout, path)
  }
  return viewFile(checkout, path, viewRange)
}

export interface SearchInput {
  pattern: string
  path?: string | undefined
  glob?: string | undefined
  case_sensitive?: boolean | undefined
}

/** The `search` tool: matches as `path:line: text`, capped, with a count of the rest. */
export const searchCheckout = async (checkout: Checkout, input: SearchInput): Promise<string> => {
  const result = await checkout.search({
    pattern: input.pattern,
    path: input.path === undefined ? undefined : normalizePath(input.path),
    glob: input.glob,
    caseSensitive: input.case_sensitive ?? false,
    maxResults: MAX_SEARCH_RESULTS,
  })
  if (result.matches.length === 0) {
    return `No matches for ${JSON.stringify(input.pattern)}${input.path ? ` in ${input.path}` : ""}${input.glob ? ` (glob ${input.glob})` : ""}.`
  }
  // grouped by file: the path once, then `line: text` for each match in it
  const groups = new Map<string, string[]>()
  for (const match of result.matches) {
    const text = match.text.length > 300 ? `${match.text.slice(0, 300)}…` : match.text
    const group = groups.get(match.path) ?? []
    group.push(`  ${match.line}: ${text}`)
    groups.set(match.path, group)
  }
  const blocks = [...groups].map(
    ([path, lines]) =>
      `${path} (${lines.length} match${lines.length === 1 ? "" : "es"})\n${lines.join("\n")}`,
  )
  const rest = result.total - result.matches.length
  const more = rest > 0 ? `\n[${rest} more matches not shown: narrow the pattern or pass path/glob]` : ""
  return `${blocks.join("\n")}${more}`
}

/**
 * Runs a tool body, truncating its output for the model and recording the full size, and makes
 * sure no absolute path of the worker's disk reaches the model through an error message.
 */
export const guardTool = async (
  checkout: Checkout,
  sizes: Map<string, number>,
  toolCallId: string,
  run: () => Promise<string>,
  /** a further rewrite of every output and error message (e.g. masking secret values) */
  scrub: (text: string) => string = (text) => text,
): Promise<string> => {
  const hideRoot = (text: string) =>
    scrub(checkout.root ? text.replaceAll(checkout.root, "<checkout>") : text)
  try {
    const output = hideRoot(await run())
    sizes.set(toolCallId, Buffer.byteLength(output))
    return truncateMiddle(output, MAX_TOOL_OUTPUT_CHARS)
  } catch (error) {
    const message = hideRoot(errorMessage(error))
    sizes.set(toolCallId, Buffer.byteLength(message))
    throw new Error(truncateMiddle(message, 2_000))
  }
}

export const viewToolInput = z.strictObject({
  command: z
    .enum(["view"])
    .describe("Only `view` is available in a planning run: the repository is read-only."),
  path: z.string().describe('Path relative to the repository root, e.g. "src/index.ts"; "." is the root.'),
  view_range: z
    .tuple([z.number().int(), z.number().int()])
    .optional()
    .describe("[start, end] 1-based line numbers of a file to show; end -1 means to the end of the file."),
})

export const searchToolInput = z.strictObject({
  pattern: z.string().min(1).describe("Regular expression (ripgrep syntax) to look for."),
  path: z.string().optional().describe("Directory or file to search in, relative to the repository root."),
  glob: z.string().optional().describe('Only search files matching this glob, e.g. "*.ts" or "src/**/*.py".'),
  case_sensitive: z.boolean().optional().describe("Default: false (case-insensitive)."),
})

/** Read-only editor + search, as tool definitions for `generateText`. */
export const createReadOnlyTools = (options: { checkout: Checkout; sizes: Map<string, number> }) => {
  const { checkout, sizes } = options
  return {
    str_replace_based_edit_tool: tool({
      description:
        "View a file with line numbers (first lines by default; use view_range for more) or list a directory two levels deep. Read-only: only the `view` command exists here.",
      inputSchema: viewToolInput,
      execute: (input, { toolCallId }) =>
        guardTool(checkout, sizes, toolCallId, () => viewPath(checkout, input.path, input.view_range)),
    }),
    search: tool({
      description: `Search the repository's files for a regular expression. Returns up to ${MAX_SEARCH_RESULTS} matches grouped by file (the path, then line: text), and how many more there are.`,
      inputSchema: searchToolInput,
      execute: (input, { toolCallId }) =>
        guardTool(checkout, sizes, toolCallId, () => searchCheckout(checkout, input)),
    }),
  }
}
