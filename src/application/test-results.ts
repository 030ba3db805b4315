/**
 * What a test command said, reduced to what decides a run: the exit code, the counts when the
 * runner prints them, and the names of failing tests when it lists them. "Newly failing" compares
 * names when both runs listed them, else falls back to the exit codes.
 */
export interface TestRun {
  command: string
  exitCode: number | null
  timedOut: boolean
  passed?: number
  failed?: number
  /** identifiers of failing tests, as the runner printed them */
  failures: string[]
  durationMs: number
  /** head+tail of the output */
  output: string
}

export const succeeded = (run: TestRun): boolean => run.exitCode === 0 && !run.timedOut

const lastNumber = (text: string, pattern: RegExp): number | undefined => {
  let value: number | undefined
  for (const match of text.matchAll(pattern)) value = Number(match[1])
  return value
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are control characters
const ANSI = /\u001b\[[0-9;]*m/g

/** Counts and failing names from the output of common runners (node:test/TAP, vitest, jest, mocha, pytest, go, cargo). */
export const parseTestOutput = (raw: string): { passed?: number; failed?: number; failures: string[] } => {
  const text = raw.replace(ANSI, "")
  const failures = new Set<string>()
  for (const m of text.matchAll(/^\s*not ok \d+ - (.+?)(?:\s+#.*)?$/gm)) failures.add(m[1]!.trim()) // TAP, node --test
  for (const m of text.matchAll(/^\s*(?:✗|×|✕) (.+?)(?: \d+ ?ms)?$/gm)) failures.add(m[1]!.trim()) // vitest, jest
  for (const m of text.matchAll(/^FAILED (\S+)/gm)) failures.add(m[1]!.trim()) // pytest -q
  for (const m of text.matchAll(/^--- FAIL: (\S+)/gm)) failures.add(m[1]!.trim()) // go test
  for (const m of text.matchAll(/^test (\S+) \.\.\. FAILED$/gm)) failures.add(m[1]!.trim()) // cargo test
  for (const m of text.matchAll(/^\s*\d+\) (.+)$/gm)) if (/fail/i.test(text)) failures.add(m[1]!.trim()) // mocha

  const passed =
    lastNumber(text, /^# pass (\d+)/gm) ??
    lastNumber(text, /Tests?:?\s+.*?(\d+) passed/gm) ??
    lastNumber(text, /(\d+) passed/gm) ??
    lastNumber(text, /(\d+) passing/gm)
  const failed =
    lastNumber(text, /^# fail (\d+)/gm) ??
    lastNumber(text, /Tests?:?\s+(\d+) failed/gm) ??
    lastNumber(text, /(\d+) failed/gm) ??
    lastNumber(text, /(\d+) failing/gm)
  return {
    ...(passed === undefined ? {} : { passed }),
    ...(failed === undefined ? {} : { failed: failed }),
    failures: [...failures].slice(0, 200),
  }
}

export interface TestComparison {
  /** failing after the change but not before */
  newlyFailing: string[]
  /** failing before the change and passing after */
  fixed: string[]
  /** failing both before and after: not blamed on the change */
  stillFailing: string[]
  /** true when the change made things worse */
  regressed: boolean
  verdict: "pass" | "fixed-some" | "unchanged-failures" | "regressed" | "no-tests"
}

export const compareTestRuns = (before: TestRun | undefined, after: TestRun | undefined): TestComparison => {
  if (!after) return { newlyFailing: [], fixed: [], stillFailing: [], regressed: false, verdict: "no-tests" }
  const beforeFailures = new Set(before?.failures ?? [])
  const afterFailures = new Set(after.failures)
  const named = afterFailures.size > 0 || (before !== undefined && beforeFailures.size > 0)
  let newlyFailing = [...afterFailures].filter((name) => !beforeFailures.has(name))
  const fixed = [...beforeFailures].filter((name) => !afterFailures.has(name))
  const stillFailing = [...afterFailures].filter((name) => beforeFailures.has(name))
  // Without names, a red run after a green baseline is a regression; red before and after is not blamed.
  if (!named && !succeeded(after) && (!before || succeeded(before))) newlyFailing = ["(test command failed)"]
  const beforeCount = before?.failed
  const afterCount = after.failed
  if (
    beforeCount !== undefined &&
    afterCount !== undefined &&
    afterCount > beforeCount &&
    newlyFailing.length === 0
  ) {
    newlyFailing = [`(${afterCount - beforeCount} more failing tests)`]
  }
  const regressed = newlyFailing.length > 0 || (after.timedOut && !before?.timedOut)
  const verdict = succeeded(after)
    ? "pass"
    : regressed
      ? "regressed"
      : fixed.length > 0
        ? "fixed-some"
        : "unchanged-failures"
  return { newlyFailing, fixed, stillFailing, regressed, verdict }
}
