/**
 * The implementing run's tool set (names and parameters as INTERFACES.md "Agent tools" fixes them)
 * and the plumbing every call goes through: calls run one at a time (the AI SDK starts a step's calls
 * in parallel, and two edits of one file must not race), repeated identical calls are nudged and
 * then stopped, budget warnings ride on tool results, outputs are truncated and scrubbed of the
 * checkout's absolute path and of secret values, and `submit` is reviewed once before it counts.
 */
import { tool } from "ai"
import { z } from "zod"
import type { Sandbox } from "#application/ports/sandbox.js"
import type { Checkout } from "#application/ports/workspace.js"
import { errorMessage } from "#domain/errors.js"
import { createScrubber as scrubSecrets } from "#domain/secret-scrubber.js"
import { bashToolInput, runBash } from "./bash-tool.js"
import type { BudgetTracker } from "./budget.js"
import { createEditor, editToolInput } from "./edit-tool.js"
import { guardTool, MAX_SEARCH_RESULTS, searchCheckout, searchToolInput } from "./read-only-tools.js"
import { createRepeatGuard } from "./repeat-guard.js"
import { reviewMessage } from "./review.js"

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
}) => {
  const { checkout, sandbox, signal, tracker, sizes } = options
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
      })
      if (result.exitCode !== 0)
        throw new Error(`could not remove ${path}: ${result.output.trim() || "rm failed"}`)
    },
  })
  let submission: Submission | undefined
  let reviewedAtStep: number | undefined
  let stopping = false
  let queue: Promise<unknown> = Promise.resolve()

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
    body: () => Promise<{ output: string; changed?: boolean }>,
  ): Promise<string> =>
    serial(async () => {
      if (stopping || signal.aborted) {
        sizes.set(toolCallId, 0)
        throw new Error("not run: the run is stopping")
      }
      const notes: string[] = []
      if (name !== "submit") {
        const verdict = repeats.record(name, input)
        if (verdict.action === "stop") {
          stopping = true
          const shown = JSON.stringify(input) ?? ""
          options.onStop({
            reason: "repeat",
            detail: `the model made the same ${name} call ${verdict.count} times without changing a file in between: ${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}`,
          })
          sizes.set(toolCallId, 0)
          throw new Error(
            `not run: this is the ${verdict.count}th time you made this exact call; the run stops here`,
          )
        }
        if (verdict.action === "nudge") {
          notes.push(
            `You have run this exact call ${verdict.count} times with no file changed in between; it will not give a different answer. Try something different (another command, file or approach).`,
          )
        }
      }
      const warning = tracker.warning(tracker.steps + 1)
      if (warning) notes.push(warning)
      let changed = false
      tracker.toolStarted()
      try {
        const run = async () => {
          const result = await body()
          changed = result.changed ?? false
          return result.output
        }
        return withNotes(await guardTool(checkout, sizes, toolCallId, run, options.scrub), notes)
      } catch (error) {
        throw new Error(withNotes(errorMessage(error), notes))
      } finally {
        tracker.toolFinished()
        if (changed) repeats.reset()
      }
    })

  const tools = {
    bash: tool({
      description:
        "Run a bash command in the repository root, in a sandbox without network. Returns the output (head and tail when long), the exit code and the duration.",
      inputSchema: bashToolInput,
      execute: (input, { toolCallId }) =>
        call("bash", input, toolCallId, async () => ({
          output: await runBash({ sandbox, root: checkout.root, mounts: checkout.mounts, input, signal }),
        })),
    }),
    str_replace_based_edit_tool: tool({
      description:
        "View, create and edit files. view: a file with line numbers, or a directory listing. create: a new file. str_replace: replace text that occurs exactly once. insert: add text after a line. undo_edit: revert your last edit of a file.",
      inputSchema: editToolInput,
      execute: (input, { toolCallId }) =>
        call("str_replace_based_edit_tool", input, toolCallId, () => editor.run(input)),
    }),
    search: tool({
      description: `Search the repository's files for a regular expression. Returns up to ${MAX_SEARCH_RESULTS} matches as path:line: text, and how many more there are.`,
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
