/**
 * Machine-readable test results where the runner can write them, so verdicts and test names do not
 * depend on scraping output that may have been cut: pytest's JUnit XML (PYTEST_ADDOPTS), Maven and
 * Gradle's surefire-style JUnit XML collected after the run, and `go test -json` for Go's default
 * command. Reports go to the run's /tmp, where the host reads back only a regular file.
 */
import type { RunDirs } from "../ports/run-dirs.js"
import type { Ecosystem } from "../repo-config.js"
import { parseGoTestJson, parseJUnitXml, type TestRun } from "../test-results.js"

const JUNIT = ".prwright-junit.xml"
const GO_JSON = ".prwright-gotest.json"
const MAX_REPORT_BYTES = 8 * 1024 ** 2

const COLLECT_JUNIT = `find . -path ./node_modules -prune -o \\( -path '*/surefire-reports/TEST-*.xml' -o -path '*/test-results/test/TEST-*.xml' \\) -type f -print0 | xargs -0 -r cat > /tmp/${JUNIT} 2>/dev/null`

/** The command as the workflow runs it: the same tests, with a report written to /tmp. */
export const reportingCommand = (command: string, ecosystems: readonly Ecosystem[]): string => {
  const pytest = `export PYTEST_ADDOPTS="\${PYTEST_ADDOPTS:-} --junitxml=/tmp/${JUNIT}"`
  // Go's detected command and its package subsets: plain arguments, no shell syntax to keep
  const go = /^go test((?: '?\.[\w./-]*'?)+)$/.exec(command.trim())
  if (ecosystems.includes("go") && go) return `${pytest}\ngo test -json${go[1]} > /tmp/${GO_JSON}`
  if (ecosystems.includes("maven")) {
    // reports of an earlier run must not stand in for this one's
    const clean = `find . -path ./node_modules -prune -o -path '*/surefire-reports/TEST-*.xml' -type f -print0 | xargs -0 -r rm -f`
    return `${pytest}\n${clean}\n${command}\nrc=$?\n${COLLECT_JUNIT}\nexit $rc`
  }
  return `${pytest}\n${command}`
}

export const clearReports = async (dirs: RunDirs | undefined) => {
  await dirs?.removeTmpFile(JUNIT)
  await dirs?.removeTmpFile(GO_JSON)
}

/** What the report says, when there is one; `output` replaces the printed output (go test -json). */
export const readReport = async (
  dirs: RunDirs | undefined,
): Promise<
  (Pick<TestRun, "passed" | "failed" | "failures" | "passes"> & { output?: string }) | undefined
> => {
  if (!dirs) return undefined
  const json = await dirs.readTmpFile(GO_JSON, MAX_REPORT_BYTES)
  if (json) return parseGoTestJson(json)
  const xml = await dirs.readTmpFile(JUNIT, MAX_REPORT_BYTES)
  return xml ? parseJUnitXml(xml) : undefined
}
