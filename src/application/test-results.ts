/**
 * What a test command said, reduced to what decides a run: the exit code, the counts when the
 * runner prints them, and the names of failing tests when it lists them. "Newly failing" compares
 * names when both runs listed them, else falls back to the exit codes.
 */
export interface TestRun {
  command: string
  exitCode: number | null
  timedOut: boolean
  passed?: number | undefined
  failed?: number | undefined
  /** identifiers of failing tests, as the runner printed them */
  failures: string[]
  /** identifiers of passing tests, when the runner's machine report lists them */
  passes?: string[] | undefined
  /** where the names came from: a machine report (JUnit XML) or the printed output */
  source?: "report" | "output"

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

const sum = (text: string, pattern: RegExp): number | undefined => {
  let total: number | undefined
  for (const match of text.matchAll(pattern)) total = (total ?? 0) + Number(match[1])
  return total
}

/** Counts and failing names from the output of common runners (node:test/TAP, vitest, jest, mocha, pytest, go, cargo, maven). */
export const parseTestOutput = (
  raw: string,
): { passed?: number | undefined; failed?: number | undefined; failures: string[] } => {
  const text = raw.replace(ANSI, "")
  const failures = new Set<string>()
  for (const m of text.matchAll(/^\s*not ok \d+ - (.+?)(?:\s+#.*)?$/gm)) failures.add(m[1]!.trim()) // TAP, node --test
  for (const m of text.matchAll(/^\s*(?:✗|×|✕) (.+?)(?: \d+ ?ms)?$/gm)) failures.add(m[1]!.trim()) // vitest, jest
  for (const m of text.matchAll(/^FAILED (\S+)/gm)) failures.add(m[1]!.trim()) // pytest -q
  for (const m of text.matchAll(/^--- FAIL: (\S+)/gm)) failures.add(m[1]!.trim()) // go test
  for (const m of text.matchAll(/^test (\S+) \.\.\. FAILED$/gm)) failures.add(m[1]!.trim()) // cargo test
  for (const m of text.matchAll(/^\s*\d+\) (Failure|Error):\n([A-Z][\w:]*#\w+)/gm)) failures.add(m[2]!) // minitest
  for (const m of text.matchAll(/^\s*\d+\) (?!Failure:|Error:)(.+)$/gm))
    if (/fail/i.test(text)) failures.add(m[1]!.trim()) // mocha
  for (const m of text.matchAll(/^\[ERROR\]\s+([A-Za-z_$][\w$.]*\.[A-Za-z_$][\w$]*):\d+/gm))
    failures.add(m[1]!) // maven surefire
  // cargo prints one summary per test binary (unit, integration, doc tests): the sum is the run's
  const cargoPassed = sum(text, /^test result: \w+\. (\d+) passed/gm)
  const cargoFailed = sum(text, /^test result: \w+\. \d+ passed; (\d+) failed/gm)
  // maven's last "Tests run:" line is the module's total
  const mavenRun = lastNumber(text, /Tests run: (\d+), Failures: \d+, Errors: \d+/g)
  const mavenBad =
    mavenRun === undefined
      ? undefined
      : (lastNumber(text, /Tests run: \d+, Failures: (\d+), Errors: \d+/g) ?? 0) +
        (lastNumber(text, /Tests run: \d+, Failures: \d+, Errors: (\d+)/g) ?? 0)

  const passed =
    cargoPassed ??
    (mavenRun !== undefined ? mavenRun - (mavenBad ?? 0) : undefined) ??
    lastNumber(text, /^# pass (\d+)/gm) ??
    lastNumber(text, /Tests?:?\s+.*?(\d+) passed/gm) ??
    lastNumber(text, /(\d+) passed/gm) ??
    lastNumber(text, /(\d+) passing/gm)
  const failed =
    cargoFailed ??
    mavenBad ??
    lastNumber(text, /^# fail (\d+)/gm) ??
    lastNumber(text, /Tests?:?\s+(\d+) failed/gm) ??
    lastNumber(text, /(\d+) failed/gm) ??
    lastNumber(text, /(\d+) failing/gm)
  return {
    passed,
    failed,
    failures: [...failures].slice(0, 200),
  }
}

const decode = (text: string): string =>
  text
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&amp;", "&")

const attribute = (tag: string, name: string): string | undefined => {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag)
  return match ? decode(match[1]!) : undefined
}

/**
 * Passing and failing tests from a JUnit XML report (pytest --junitxml, surefire, node's junit
 * reporter): every <testcase>, failed when it holds <failure> or <error>, skipped ones left out.
 * Names are `classname::name`. Undefined when the text holds no test case.
 */
export const parseJUnitXml = (
  xml: string,
): { passed: number; failed: number; failures: string[]; passes: string[] } | undefined => {
  const failures: string[] = []
  const passes: string[] = []
  const cases = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g
  for (const match of xml.matchAll(cases)) {
    const tag = match[1]!
    const body = match[3] ?? ""
    const name = attribute(tag, "name") ?? "?"
    const className = attribute(tag, "classname")
    const id = className ? `${className}::${name}` : name
    if (/<(failure|error)\b/.test(body)) failures.push(id)
    else if (!/<skipped\b/.test(body)) passes.push(id)
  }
  if (failures.length + passes.length === 0) return undefined
  return { passed: passes.length, failed: failures.length, failures: failures.slice(0, 500), passes }
}

/**
 * `go test -json` events: tests that passed and failed (subtests as `TestX/sub`), and the printed
 * output rebuilt from the events. Undefined when the text holds no test event.
 */
export const parseGoTestJson = (
  text: string,
): { passed: number; failed: number; failures: string[]; passes: string[]; output: string } | undefined => {
  const failures: string[] = []
  const passes: string[] = []
  let output = ""
  let any = false
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) {
      if (line.trim()) output += `${line}\n`
      continue
    }
    let event: { Action?: string; Test?: string; Output?: string }
    try {
      event = JSON.parse(line) as typeof event
    } catch {
      continue
    }
    any = true
    if (typeof event.Output === "string") output += event.Output
    if (!event.Test) continue
    if (event.Action === "fail") failures.push(event.Test)
    else if (event.Action === "pass") passes.push(event.Test)
  }
  if (!any) return undefined
  return { passed: passes.length, failed: failures.length, failures: failures.slice(0, 500), passes, output }
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
