import type { RunEventData } from "#domain/run-event.js"
import { truncateMiddle } from "../agent/truncate.js"
import type { RunDirs } from "../ports/run-dirs.js"
import type { Sandbox } from "../ports/sandbox.js"
import type { CheckoutMounts } from "../ports/workspace.js"
import type { Ecosystem } from "../repo-config.js"
import { parseTestOutput, type TestRun } from "../test-results.js"
import { clearReports, readReport, reportingCommand } from "./test-reports.js"

/**
 * Runs the repository's test command in the sandbox, without network, and reads its verdict: from
 * the machine report when the runner wrote one (test-reports.ts), else from the printed output.
 */
export const runTestCommand = async (options: {
  sandbox: Sandbox
  root: string
  /** the checkout's recorded git metadata (Checkout.mounts) */
  mounts?: CheckoutMounts
  command: string
  timeoutMs: number
  signal: AbortSignal
  /** the run's directories: where a machine report can be read back */
  dirs?: RunDirs | undefined
  ecosystems?: readonly Ecosystem[]
}): Promise<TestRun> => {
  const { dirs } = options
  await clearReports(dirs)
  const result = await options.sandbox.run({
    command: dirs ? reportingCommand(options.command, options.ecosystems ?? []) : options.command,
    root: options.root,
    mounts: options.mounts,
    network: "none",
    timeoutMs: options.timeoutMs,
    maxOutputBytes: 128 * 1024,
    signal: options.signal,
  })
  const report = await readReport(dirs)
  const output = report?.output === undefined ? result.output : `${result.output}${report.output}`
  return {
    command: options.command,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    ...(report
      ? {
          passed: report.passed,
          failed: report.failed,
          failures: report.failures,
          passes: report.passes,

          source: "report" as const,
        }
      : { ...parseTestOutput(result.output), source: "output" as const }),
    durationMs: result.durationMs,
    output: truncateMiddle(output, 128 * 1024),
  }
}

/** A short text of a test run for the model: the verdict, the failing names, the tail of the output. */
export const describeTestRun = (run: TestRun, maxChars = 6000): string => {
  const head = `\`${run.command}\` ${run.timedOut ? "timed out" : `exited with ${run.exitCode}`}${
    run.failed !== undefined ? `; ${run.failed} failed` : ""
  }${run.passed !== undefined ? `, ${run.passed} passed` : ""}.`
  const failures = run.failures.length > 0 ? `\nFailing: ${run.failures.slice(0, 20).join("; ")}` : ""
  const tail = run.output.length > maxChars ? `…${run.output.slice(-maxChars)}` : run.output
  return `${head}${failures}\n\nOutput:\n${tail}`
}

const MAX_EVENT_OUTPUT = 32 * 1024

/** The event that records a test run in the run's log. */
export const testResultEvent = (phase: "baseline" | "verify", run: TestRun): RunEventData => {
  const output = truncateMiddle(run.output, MAX_EVENT_OUTPUT)
  return {
    type: "test-result",
    phase,
    command: run.command,
    exitCode: run.exitCode,
    // events are stored as written: a count the runner did not print stays out of the JSON
    ...(run.passed === undefined ? {} : { passed: run.passed }),
    ...(run.failed === undefined ? {} : { failed: run.failed }),
    durationMs: Math.round(run.durationMs),
    output,
    bytes: Buffer.byteLength(run.output),
    truncated: output.length < run.output.length,
  }
}

/** The event that records the change a run publishes. */
export const diffEvent = (diff: string, files: string[]): RunEventData => {
  const shown = truncateMiddle(diff, MAX_EVENT_OUTPUT)
  return {
    type: "diff",
    diff: shown,
    files,
    truncated: shown.length < diff.length,
    bytes: Buffer.byteLength(diff),
  }
}
