/**
 * The `bash` tool: one command in the sandbox, in the checkout, without network. The model sees
 * the head and tail of the output, the exit code and how long it took; a timeout or an abort is
 * said plainly, so the model can react (a narrower command, a longer timeout) instead of guessing.
 */
import { z } from "zod"
import type { Sandbox } from "#application/ports/sandbox.js"
import type { CheckoutMounts } from "#application/ports/workspace.js"

export const DEFAULT_BASH_TIMEOUT_SECONDS = 120
export const MAX_BASH_TIMEOUT_SECONDS = 900
/** what the sandbox keeps of a command's output (head + tail); about what one tool result may hold */
export const BASH_OUTPUT_BYTES = 16_000

export const bashToolInput = z.strictObject({
  command: z
    .string()
    .describe("The bash command to run in the repository root, e.g. `npm test 2>&1 | tail -50`."),
  timeout_seconds: z
    .number()
    .optional()
    .describe(
      `Kill the command after this many seconds (default ${DEFAULT_BASH_TIMEOUT_SECONDS}, at most ${MAX_BASH_TIMEOUT_SECONDS}).`,
    ),
})
export type BashInput = z.infer<typeof bashToolInput>

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

export const runBash = async (options: {
  sandbox: Sandbox
  root: string
  /** the checkout's recorded git metadata (Checkout.mounts) */
  mounts?: CheckoutMounts
  input: BashInput
  signal: AbortSignal
  /** per-run persistent HOME and /tmp; extra environment (never a secret) */
  home?: string | undefined
  tmp?: string | undefined
  env?: Record<string, string> | undefined
}): Promise<string> => {
  const { input } = options
  if (input.command.trim().length === 0) throw new Error("the command is empty: pass the bash command to run")
  const requested = input.timeout_seconds ?? DEFAULT_BASH_TIMEOUT_SECONDS
  if (!Number.isFinite(requested) || requested <= 0) {
    throw new Error(
      `timeout_seconds must be a positive number of seconds (at most ${MAX_BASH_TIMEOUT_SECONDS})`,
    )
  }
  const timeoutSeconds = Math.min(requested, MAX_BASH_TIMEOUT_SECONDS)
  const result = await options.sandbox.run({
    command: input.command,
    root: options.root,
    mounts: options.mounts,
    network: "none",
    timeoutMs: Math.round(timeoutSeconds * 1000),
    maxOutputBytes: BASH_OUTPUT_BYTES,
    signal: options.signal,
    home: options.home,
    tmp: options.tmp,
    env: options.env,
  })
  const notes: string[] = []
  if (requested > MAX_BASH_TIMEOUT_SECONDS)
    notes.push(`timeout_seconds was lowered to the maximum, ${MAX_BASH_TIMEOUT_SECONDS}`)
  if (result.truncated) {
    notes.push(
      `the output was ${result.outputBytes} bytes; only its head and tail are shown: filter it (grep, tail, head) to see the part you need`,
    )
  }
  let status: string
  if (result.aborted)
    status = `the command was stopped after ${seconds(result.durationMs)} because the run is being stopped`
  else if (result.timedOut) {
    status = `the command timed out after ${timeoutSeconds} s and was killed: run something narrower, or pass a larger timeout_seconds (at most ${MAX_BASH_TIMEOUT_SECONDS})`
  } else if (result.exitCode === null)
    status = `the command was killed by ${result.signal ?? "a signal"} after ${seconds(result.durationMs)}`
  else status = `exit code ${result.exitCode}, ${seconds(result.durationMs)}`
  const output = result.output.length > 0 ? result.output.replace(/\n?$/, "\n") : "(no output)\n"
  return `${output}[${status}]${notes.map((note) => `\n[${note}]`).join("")}`
}
