/**
 * The writing half of `str_replace_based_edit_tool`, with the semantics of Anthropic's text editor
 * tool that models are trained on: `create` makes a NEW file and refuses an existing one (so a
 * model cannot wipe a file by mistake: to change a file, use str_replace or insert; bash can still
 * replace a whole file on purpose), `str_replace` needs exactly one match, `insert` goes after a
 * line (0 = top), and `undo_edit` steps back through this run's own edits of one file.
 * Every write goes through `checkout.writeFile`, so the checkout's path confinement applies.
 */
import { posix } from "node:path"
import { z } from "zod"
import type { Checkout } from "#application/ports/workspace.js"
import { normalizePath, numbered, viewPath } from "./read-only-tools.js"

export const EDIT_COMMANDS = ["view", "create", "str_replace", "insert", "undo_edit"] as const
export type EditCommand = (typeof EDIT_COMMANDS)[number]

export const editToolInput = z.strictObject({
  command: z
    .enum(EDIT_COMMANDS)
    .describe(
      "view: show a file with line numbers or list a directory. create: make a new file (refused if it exists). str_replace: replace old_str, which must occur exactly once, with new_str. insert: insert new_str after line insert_line (0 = at the top). undo_edit: revert your last edit of path.",
    ),
  path: z.string().describe('Path relative to the repository root, e.g. "src/index.ts"; "." is the root.'),
  file_text: z.string().optional().describe("create: the whole content of the new file."),
  old_str: z
    .string()
    .optional()
    .describe("str_replace: the exact text to replace, whitespace included; must occur exactly once."),
  new_str: z
    .string()
    .optional()
    .describe("str_replace: the replacement (omit to delete old_str). insert: the text to insert."),
  insert_line: z
    .number()
    .int()
    .optional()
    .describe("insert: the line after which to insert; 0 inserts at the top."),
  view_range: z
    .tuple([z.number().int(), z.number().int()])
    .optional()
    .describe("view: [start, end] 1-based line numbers of a file to show; end -1 means to the end."),
})
export type EditInput = z.infer<typeof editToolInput>

export interface EditResult {
  output: string
  /** true when a file was written or removed */
  changed: boolean
}

export interface Editor {
  run(input: EditInput): Promise<EditResult>
  /** paths this run changed with the editor and has not undone to their original state, sorted */
  editedPaths(): string[]
}

/** lines of context shown around an edit */
const SNIPPET_CONTEXT = 4
/** undo steps kept per file */
const MAX_HISTORY = 50

const lineOf = (text: string, index: number): number => {
  let line = 1
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) line += 1
  return line
}

const splitLines = (text: string): string[] => (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n")

/** numbered lines [from, to] of `text`, widened by the context, as `view` shows them */
const snippet = (path: string, text: string, from: number, to: number): string => {
  const lines = splitLines(text)
  const start = Math.max(1, from - SNIPPET_CONTEXT)
  const end = Math.min(lines.length, Math.max(to, from) + SNIPPET_CONTEXT)
  const body = lines
    .slice(start - 1, end)
    .map((line, i) => numbered(line, start + i))
    .join("\n")
  return `Here is ${path} lines ${start}-${end} after the edit:\n${body}\nCheck that the change is what you meant (indentation, duplicates); undo_edit reverts it.`
}

const occurrences = (text: string, needle: string): number[] => {
  const found: number[] = []
  // step by one, so overlapping matches count too: they make the replacement just as ambiguous
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) found.push(i)
  return found
}

/** lines a-b where old_str matches when leading/trailing whitespace of each line is ignored */
const looseMatch = (text: string, needle: string): [number, number] | undefined => {
  const wanted = splitLines(needle).map((line) => line.trim())
  if (wanted.every((line) => line.length === 0)) return undefined
  const lines = splitLines(text).map((line) => line.trim())
  for (let i = 0; i + wanted.length <= lines.length; i += 1) {
    if (wanted.every((line, j) => lines[i + j] === line)) return [i + 1, i + wanted.length]
  }
  return undefined
}

const required = <T>(value: T | undefined, name: string, command: EditCommand): T => {
  if (value === undefined) throw new Error(`${command} needs the ${name} parameter`)
  return value
}

export const createEditor = (options: {
  checkout: Checkout
  /** deletes a file this run created, for undo_edit of a create (the Checkout port has no delete) */
  removeFile: (path: string) => Promise<void>
}): Editor => {
  const { checkout } = options
  const history = new Map<string, Array<string | undefined>>()

  const keyOf = (raw: string): string => {
    const path = normalizePath(raw)
    return path === "." ? path : posix.normalize(path)
  }

  const readText = async (path: string, command: EditCommand): Promise<string> => {
    const stat = await checkout.stat(path)
    if (!stat)
      throw new Error(`${path} does not exist: check the path with view, or use create for a new file`)
    if (stat.kind === "dir") throw new Error(`${path} is a directory: ${command} works on files`)
    const text = await checkout.readFile(path)
    if (text.includes("\u0000"))
      throw new Error(`${path} is a binary file: the editor only changes text files`)
    return text
  }

  const write = async (path: string, before: string | undefined, after: string): Promise<void> => {
    await checkout.writeFile(path, after)
    const stack = history.get(path) ?? []
    stack.push(before)
    if (stack.length > MAX_HISTORY) stack.shift()
    history.set(path, stack)
  }

  const create = async (path: string, text: string): Promise<EditResult> => {
    const existing = await checkout.stat(path)
    if (existing) {
      throw new Error(
        existing.kind === "dir"
          ? `${path} is an existing directory: create needs the path of a new file`
          : `${path} already exists: create only makes new files. Change it with str_replace or insert (view it first)`,
      )
    }
    await write(path, undefined, text)
    const lines = splitLines(text).length
    return { output: `Created ${path} (${text.length === 0 ? "empty" : `${lines} lines`}).`, changed: true }
  }

  const replace = async (path: string, oldStr: string, newStr: string): Promise<EditResult> => {
    if (oldStr.length === 0) throw new Error("str_replace needs a non-empty old_str: to add text, use insert")
    if (oldStr === newStr) throw new Error("old_str and new_str are the same: nothing would change")
    const text = await readText(path, "str_replace")
    const found = occurrences(text, oldStr)
    if (found.length === 0) {
      const loose = looseMatch(text, oldStr)
      const hint = loose
        ? ` It matches lines ${loose[0]}-${loose[1]} if whitespace at the start and end of lines is ignored: copy the exact indentation from a view of those lines.`
        : " Check whitespace and indentation (tabs vs spaces), and view the file to copy the text exactly."
      throw new Error(`No match found for old_str in ${path}: nothing was changed.${hint}`)
    }
    if (found.length > 1) {
      const lines = [...new Set(found.map((index) => lineOf(text, index)))]
      throw new Error(
        `old_str was found ${found.length} times in ${path} (lines ${lines.join(", ")}): nothing was changed. Include more surrounding lines in old_str to make it unique.`,
      )
    }
    const at = found[0] as number
    const after = text.slice(0, at) + newStr + text.slice(at + oldStr.length)
    await write(path, text, after)
    const from = lineOf(text, at)
    return {
      output: `Edited ${path}. ${snippet(path, after, from, from + splitLines(newStr).length - 1)}`,
      changed: true,
    }
  }

  const insert = async (path: string, line: number, newStr: string): Promise<EditResult> => {
    const text = await readText(path, "insert")
    const lines = text.length === 0 ? [] : splitLines(text)
    if (line < 0 || line > lines.length) {
      throw new Error(
        `insert_line ${line} is outside ${path}, which has ${lines.length} lines (use 0..${lines.length})`,
      )
    }
    const added = newStr.length === 0 ? [""] : splitLines(newStr)
    const trailingNewline = text.length === 0 || text.endsWith("\n")
    const joined = [...lines.slice(0, line), ...added, ...lines.slice(line)].join("\n")
    const after = trailingNewline ? `${joined}\n` : joined
    await write(path, text, after)
    return {
      output: `Inserted ${added.length} line(s) into ${path} after line ${line}. ${snippet(path, after, line + 1, line + added.length)}`,
      changed: true,
    }
  }

  const undo = async (path: string): Promise<EditResult> => {
    const stack = history.get(path)
    if (!stack || stack.length === 0) throw new Error(`there is no edit of ${path} in this run to undo`)
    const before = stack.pop()
    if (stack.length === 0) history.delete(path)
    if (before === undefined) {
      await options.removeFile(path)
      return { output: `Undid the creation of ${path}: the file is removed.`, changed: true }
    }
    await checkout.writeFile(path, before)
    return { output: `Undid the last edit of ${path}. ${await viewPath(checkout, path)}`, changed: true }
  }

  return {
    async run(input) {
      const path = keyOf(input.path)
      switch (input.command) {
        case "view":
          return { output: await viewPath(checkout, path, input.view_range), changed: false }
        case "create":
          return create(path, required(input.file_text, "file_text", "create"))
        case "str_replace":
          return replace(path, required(input.old_str, "old_str", "str_replace"), input.new_str ?? "")
        case "insert":
          return insert(
            path,
            required(input.insert_line, "insert_line", "insert"),
            required(input.new_str, "new_str", "insert"),
          )
        case "undo_edit":
          return undo(path)
      }
    },
    editedPaths: () => [...history.keys()].sort(),
  }
}
