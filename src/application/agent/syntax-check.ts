/**
 * A syntax check of a file right after the agent edited it, in the sandbox, for the languages whose
 * checker is cheap and usually installed: JavaScript (`node --check`), Python (the standard
 * library's parser, as `python3 -m py_compile` does, without writing `__pycache__` into the
 * checkout), Go (`gofmt -e`) and JSON. A missing checker skips the check silently. The model sees
 * a failure at once, next to the edit, instead of at the next test run.
 */
import type { Sandbox } from "#application/ports/sandbox.js"
import type { CheckoutMounts } from "#application/ports/workspace.js"
import { truncateMiddle } from "./truncate.js"

const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`

interface Check {
  pattern: RegExp
  tool: string
  label: string
  command: (path: string) => string
}

const CHECKS: Check[] = [
  { pattern: /\.(m|c)?js$/i, tool: "node", label: "node --check", command: (p) => `node --check ${p}` },
  {
    pattern: /\.py$/i,
    tool: "python3",
    label: "python3 syntax check",
    command: (p) =>
      `python3 -c 'import ast, sys; ast.parse(open(sys.argv[1], "rb").read(), sys.argv[1])' ${p}`,
  },
  {
    pattern: /\.go$/i,
    tool: "gofmt",
    label: "gofmt -e",
    command: (p) => `XDG_CONFIG_HOME=/dev/null gofmt -e -l ${p} >/dev/null`,
  },
  {
    pattern: /\.json$/i,
    tool: "node",
    label: "JSON.parse",
    command: (p) => `node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' ${p}`,
  },
]

/** exit status of the wrapper when the checker is not installed */
const MISSING = 127

export const syntaxCheckFor = (path: string): { label: string } | undefined => {
  const check = CHECKS.find((candidate) => candidate.pattern.test(path))
  return check ? { label: check.label } : undefined
}

/** A note for the model after an edit of `path`, or undefined (no checker for the language, or none installed). */
export const checkSyntax = async (options: {
  sandbox: Sandbox
  root: string
  mounts?: CheckoutMounts | undefined
  path: string
  signal: AbortSignal
  /** the run's HOME, /tmp and environment, as every command of the run gets them */
  home?: string | undefined
  tmp?: string | undefined
  env?: Record<string, string> | undefined
}): Promise<string | undefined> => {
  const check = CHECKS.find((candidate) => candidate.pattern.test(options.path))
  if (!check) return undefined
  const result = await options.sandbox.run({
    command: `command -v ${check.tool} >/dev/null 2>&1 || exit ${MISSING}; ${check.command(quote(options.path))}`,
    root: options.root,
    mounts: options.mounts,
    network: "none",
    timeoutMs: 20_000,
    maxOutputBytes: 8_000,
    signal: options.signal,
    home: options.home,
    tmp: options.tmp,
    env: options.env,
  })
  if (result.aborted || result.timedOut) return undefined
  if (result.exitCode === MISSING) return undefined
  if (result.exitCode === 0) return `syntax check passed (${check.label})`
  return `syntax check FAILED (${check.label}): the file does not parse; fix it before going on:\n${truncateMiddle(result.output.trim(), 1_500)}`
}
