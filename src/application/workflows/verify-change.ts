/**
 * Verification decides, not the model. The repository's test command runs on the change with the
 * repository's own tests and test configuration (as at the run's starting commit): a change that
 * edits or deletes existing tests, or the test script, is flagged and cannot turn it green. The proof
 * of the fix runs the change's tests on the old code: tests that fail there and pass on the change
 * are the "fails before / passes after" rows of the pull request.
 */
import { errorMessage } from "#domain/errors.js"
import { nodeTestScript } from "../repo-config.js"
import { compareTestRuns, succeeded, type TestRun } from "../test-results.js"
import { changeSet, recordingOutput } from "./change-set.js"
import { contentAtHead, RestoreError, withPathsAtHead } from "./paths-at-head.js"
import { runTestCommand } from "./repo-commands.js"
import type { Proof, ProofRow, RunState, Verification } from "./run-state.js"
import { isTestConfig, isTestPath, testScriptChanged } from "./test-files.js"
import { subsetCommand } from "./test-subset.js"

type Needs = Pick<
  RunState,
  "checkout" | "config" | "sandbox" | "dirs" | "snapshot" | "verifyOutput" | "context" | "baseline"
>

const runTests =
  (state: Needs, timeoutMs: number, command = state.config!.test!) =>
  async () => {
    const { checkout, config, context } = state
    return runTestCommand({
      sandbox: state.sandbox,
      root: checkout!.root,
      mounts: checkout!.mounts,
      command,
      timeoutMs,
      signal: context.signal,
      dirs: state.dirs,
      ecosystems: config?.ecosystems ?? [],
    })
  }

/** True when a unified diff changes or removes existing lines (not only adds). */
export const removesLines = (diff: string): boolean =>
  diff.split("\n").some((line) => line.startsWith("-") && !line.startsWith("---"))

/** The change's paths, and which of them are existing tests or test configuration it edits or deletes. */
const classify = async (state: Needs) => {
  const checkout = state.checkout!
  const { paths } = await changeSet(checkout, state.snapshot ?? new Map(), state.verifyOutput)
  const kinds = new Map((await checkout.status()).map((change) => [change.path, change.kind]))
  const editedTests: string[] = []
  for (const path of paths) {
    const kind = kinds.get(path)
    if (kind !== "modified" && kind !== "deleted") continue
    if (isTestPath(path) || isTestConfig(path)) {
      // adding tests to an existing file is not editing its tests; changing or removing lines is
      if (kind === "deleted" || removesLines(await checkout.diff([path]))) editedTests.push(path)
    } else if (path === "package.json") {
      const now = kind === "deleted" ? undefined : await checkout.readFile(path)
      const before = contentAtHead(await checkout.diff([path]), now).content
      if (testScriptChanged(before, now)) editedTests.push(path)
    }
  }
  return { paths, kinds, editedTests }
}

/** Runs the test command on the change, with the repository's own tests in place. */
export const verifyChange = async (state: Needs, timeoutMs: number): Promise<Verification> => {
  const { editedTests } = await classify(state)
  const after = await recordingOutput(state.checkout!, state.verifyOutput, () =>
    withPathsAtHead(
      {
        checkout: state.checkout!,
        sandbox: state.sandbox,
        paths: editedTests,
        signal: state.context.signal,
      },
      runTests(state, timeoutMs),
    ),
  )
  return {
    after,
    comparison: compareTestRuns(state.baseline, after),
    editedTests,
    passed: succeeded(after),
  }
}

/** package.json's `test` script, when there is a readable one. */
const testScriptOf = async (state: Needs): Promise<string | undefined> => {
  try {
    const text = await state.checkout!.readFile("package.json")
    return nodeTestScript(JSON.parse(text) as Record<string, unknown>)
  } catch {
    return undefined
  }
}

/** Tests that fail on the old code with the change's tests, and pass on the change. */
export const proveFix = async (
  state: Needs,
  verification: Verification,
  timeoutMs: number,
): Promise<Proof> => {
  const { paths, kinds } = await classify(state)
  const tests = paths.filter((path) => isTestPath(path) && kinds.get(path) !== "deleted")
  const code = paths.filter((path) => !isTestPath(path) && !isTestConfig(path))
  if (tests.length === 0) return { kind: "not-shown", reason: "the change adds or changes no test" }
  if (code.length === 0) return { kind: "not-shown", reason: "the change touches only tests" }
  const checkout = state.checkout!
  const script = paths.includes("package.json") ? undefined : await testScriptOf(state)
  const subset = subsetCommand(state.config!, tests, script)
  let before: TestRun
  try {
    before = await recordingOutput(state.checkout!, state.verifyOutput, () =>
      withPathsAtHead(
        { checkout, sandbox: state.sandbox, paths: code, signal: state.context.signal },
        runTests(state, timeoutMs, subset),
      ),
    )
  } catch (error) {
    if (state.context.signal.aborted || error instanceof RestoreError) throw error
    return { kind: "not-shown", reason: `the old code could not be tested: ${errorMessage(error)}` }
  }
  const after = verification.after
  const failingAfter = new Set(after.failures)
  const passingAfter = new Set(after.passes ?? [])
  const rows: ProofRow[] = before.failures
    .filter((name) => !failingAfter.has(name) && (passingAfter.size === 0 || passingAfter.has(name)))
    .map((name) => ({ name, before: "failed" as const, after: "passed" as const }))
  // tests the change adds that the old code's (whole) run did not even list: a compile error, an import of new code
  if (!subset && before.passes && after.passes) {
    const known = new Set([...before.passes, ...before.failures])
    for (const name of after.passes)
      if (!known.has(name)) rows.push({ name, before: "absent", after: "passed" })
  }
  // no names to match (the old code did not build with the new tests, say): the command as a whole
  if (rows.length === 0 && !succeeded(before) && succeeded(after)) {
    rows.push({ name: before.command, before: "failed", after: "passed" })
  }
  if (rows.length === 0) {
    return {
      kind: "not-shown",
      reason: succeeded(before)
        ? "the change's tests also pass on the old code"
        : "no test that fails on the old code passes on the change",
      before,
    }
  }
  return { kind: "shown", before, rows }
}
