/**
 * The implementing run's tool set (names and parameters as INTERFACES.md "Agent tools" fixes them)
 * and the plumbing every call goes through: calls run one at a time (the AI SDK starts a step's calls
 * in parallel, and two edits of one file must not race), a call that keeps getting the same answer
 * with the working tree unchanged is nudged and then stopped, each edited file is syntax-checked, budget warnings ride on tool results, outputs are truncated and scrubbed of the
 * checkout's absolute path and of secret values, and `submit` is reviewed once before it counts.
 */
import { createHash } from "node:crypto"
import { tool } from "ai"
import { z } from "zod"
import type { Sandbox } from "#application/ports/sandbox.js"
import type { Checkout } from "#application/ports/workspace.js"
import { errorMessage } from "#domain/errors.js"
import { createScrubber as scrubSecrets } from "#domain/secret-scrubber.js"
import { bashToolInput, runBash } from "./bash-tool.js"
import type { BudgetTracker } from "./budget.js"
import { createEditor, type EditInput, editToolInput } from "./edit-tool.js"
import {
  guardTool,
  MAX_SEARCH_RESULTS,
  normalizePath,
  searchCheckout,
  searchToolInput,
} from "./read-only-tools.js"
import { createRepeatGuard } from "./repeat-guard.js"
import { reviewMessage } from "./review.js"
import { checkSyntax, syntaxCheckFor } from "./syntax-check.js"

export interface Submission {
  title: string
  summary: string
}

export interface ToolStop {
  reason: "repeat"
  detail: string
}

const submitInput = z.strictObject({
  title: z.string().describe('Pull request title: short, imperative, e.g. "Fix add() for negative numbers".'),
  summary: z
    .string()
    .describe("Markdown for the pull request body: what changed and why, and how you tested it."),
})

const shellQuote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`

/** Masks each secret value in what the model sees; file text is otherwise shown as it is. */
export const createScrubber = (secrets: readonly string[] = []): ((text: string) => string) =>
  // very short values would mask ordinary words; real tokens and keys are long
  scrubSecrets(secrets, { minLength: 8, credentialShapes: false })

/** changed paths beyond this are fingerprinted by their names only (a diff of them all would be slow) */
const FINGERPRINT_MAX_PATHS = 200

export const createCodingTools = (options: {
  checkout: Checkout
  sandbox: Sandbox
  /** aborts on cancel and on an exhausted time budget: passed to every command */
  signal: AbortSignal
  tracker: BudgetTracker
  /** full output size per tool call id, for the run events */
  sizes: Map<string, number>
  scrub: (text: string) => string
  /** a tool asks the loop to stop after this step */
  onStop: (stop: ToolStop) => void
  /** check the syntax of each edited file in the sandbox (node --check, python, gofmt -e); default true */
  syntaxCheck?: boolean | undefined
  /** per-run persistent HOME and /tmp for every command (the workflow's; unset: fresh ones per command) */
  home?: string | undefined
  tmp?: string | undefined
  /** extra environment for every command (e.g. PATH with the run's venv); never a secret */
  env?: Record<string, string> | undefined
}) => {
  const { checkout, sandbox, signal, tracker, sizes } = options
  const runDirs = {
    home: options.home,
    tmp: options.tmp,
    env: options.env,
  }
  const repeats = createRepeatGuard()
  const editor = createEditor({
    checkout,
    removeFile: async (path) => {
      // stat first: the checkout refuses a path that leads outside it
      if (!(await checkout.stat(path))) return
      const result = await sandbox.run({
        command: `rm -f -- ${shellQuote(path)}`,
        root: checkout.root,
        mounts: checkout.mounts,
        network: "none",
        timeoutMs: 30_000,
        signal,
        ...runDirs,
      })
      if (result.exitCode !== 0)
        throw new Error(`could not remove ${path}: ${result.output.trim() || "rm failed"}`)
    },
  })
  let submission: Submission | undefined
  let reviewedAtStep: number | undefined
  let stopping = false
  let queue: Promise<unknown> = Promise.resolve()
  /** the working tree as the last bash call left it; undefined: not known (an edit since) */
  let tree: string | undefined

  /** what the working tree holds: changed paths and their diff, hashed */
  const treeFingerprint = async (): Promise<string> => {
    const hash = createHash("sha1")
    try {
      const changes = await checkout.status()
      for (const change of changes) hash.update(`${change.kind} ${change.path}\n`)
      if (changes.length > 0 && changes.length <= FINGERPRINT_MAX_PATHS)
        hash.update(await checkout.diff(changes.map((change) => change.path)))
    } catch (error) {
      hash.update(`unknown: ${errorMessage(error)}`)
    }
    return hash.digest("hex")
  }

  const serial = <T>(run: () => Promise<T>): Promise<T> => {
    const next = queue.then(run, run)
    queue = next.catch(() => undefined)
    return next
  }

  const withNotes = (text: string, notes: string[]): string =>
    notes.length === 0 ? text : `${text}\n\n${notes.map((note) => `[${note}]`).join("\n")}`

  const call = (
    name: string,
    input: unknown,
    toolCallId: string,
    body: () => Promise<{ output: string; changed?: boolean; notes?: string[] }>,
  ): Promise<string> =>
    serial(async () => {
      if (stopping || signal.aborted) {
        sizes.set(toolCallId, 0)
        throw new Error("not run: the run is stopping")
      }
      const notes: string[] = []
      const warning = tracker.warning(tracker.steps + 1)
      let changed = false
      let extra: string[] = []
      let output: string
      let failed = false
      tracker.toolStarted()
      try {
        const run = async () => {
          const result = await body()
          changed = result.changed ?? false
          extra = result.notes ?? []
          return result.output
        }
        output = await guardTool(checkout, sizes, toolCallId, run, options.scrub)
      } catch (error) {
        failed = true
        output = errorMessage(error)
      } finally {
        tracker.toolFinished()
      }
      notes.push(...extra.map(options.scrub))
      // Progress is judged on the working tree: any change (editor, sed -i, a generated file) resets the guard.
      if (changed) {
        repeats.reset()
        tree = undefined
      } else if (name === "bash" && !signal.aborted) {
        const now = await treeFingerprint()
        if (tree !== undefined && now !== tree) repeats.reset()
        tree = now
      }
      if (name !== "submit") {
        const verdict = repeats.record(name, input, output)
        if (verdict.action === "stop") {
          stopping = true
          const shown = JSON.stringify(input) ?? ""
          options.onStop({
            reason: "repeat",
            detail: `the model made the same ${name} call ${verdict.count} times, got the same answer each time, and changed no file in between: ${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}`,
          })
          notes.push(
            `This is the ${verdict.count}th time this exact call gave this exact answer with nothing changed in between; the run stops here.`,
          )
        } else if (verdict.action === "nudge") {
          notes.push(
            `You have run this exact call ${verdict.count} times, it answered the same each time and no file changed in between; it will not give a different answer. Try something different (another command, file or approach).`,
          )
        }
      }
      if (warning) notes.push(warning)
      if (failed) throw new Error(withNotes(output, notes))
      return withNotes(output, notes)
    })

  const afterEdit = async (input: EditInput): Promise<string[]> => {
    if (options.syntaxCheck === false || input.command === "view") return []
    const path = normalizePath(input.path)
    if (!syntaxCheckFor(path) || !(await checkout.stat(path).catch(() => undefined))) return []
    const note = await checkSyntax({
      sandbox,
      root: checkout.root,
      mounts: checkout.mounts,
      path,
      signal,
      ...runDirs,
    }).catch(() => undefined)
    return note ? [note] : []
  }

  const tools = {
    bash: tool({
      description:
        "Run a bash command in the repository root, in a sandbox without network. Returns the output (head and tail when long), the exit code and the duration.",
      inputSchema: bashToolInput,
      execute: (input, { toolCallId }) =>
        call("bash", input, toolCallId, async () => ({
          output: await runBash({
            sandbox,
            root: checkout.root,
            mounts: checkout.mounts,
            input,
            signal,
            ...runDirs,
          }),
        })),
    }),
    str_replace_based_edit_tool: tool({
      description:
        "View, create and edit files. view: a file with line numbers, or a directory listing. create: a new file. str_replace: replace text that occurs exactly once. insert: add text after a line. undo_edit: revert your last edit of a file.",
      inputSchema: editToolInput,
      execute: (input, { toolCallId }) =>
        call("str_replace_based_edit_tool", input, toolCallId, async () => {
          const result = await editor.run(input)
          return { ...result, notes: result.changed ? await afterEdit(input) : [] }
        }),
    }),
    search: tool({
      description: `Search the repository's files for a regular expression. Returns up to ${MAX_SEARCH_RESULTS} matches grouped by file (the path, then line: text), and how many more there are.`,
      inputSchema: searchToolInput,
      execute: (input, { toolCallId }) =>
        call("search", input, toolCallId, async () => ({ output: await searchCheckout(checkout, input) })),
    }),
    submit: tool({
      description:
        "Hand in your finished change with a pull request title and summary. The first call shows you your diff to review; call submit again to finish. prwright commits, pushes and opens the pull request.",
      inputSchema: submitInput,
      execute: (input, { toolCallId }) =>
        call("submit", input, toolCallId, async () => {
          if (input.title.trim().length === 0)
            throw new Error("the title is empty: give the pull request a short title")
          if (input.summary.trim().length === 0)
            throw new Error("the summary is empty: say what you changed, why, and how you tested it")
          const step = tracker.steps + 1
          if (reviewedAtStep === undefined) {
            reviewedAtStep = step
            return { output: await reviewMessage({ checkout, editedPaths: editor.editedPaths() }) }
          }
          if (reviewedAtStep === step) {
            throw new Error(
              "submit was called twice in one turn: read the review above, then call submit again",
            )
          }
          submission = { title: input.title.trim(), summary: input.summary.trim() }
          stopping = true
          return {
            output:
              "Submitted. prwright commits the change, pushes it and opens the pull request. The run ends here.",
          }
        }),
    }),
  }

  return {
    tools,
    submission: (): Submission | undefined => submission,
    editedPaths: (): string[] => editor.editedPaths(),
  }
}
