import { describe, expect, it } from "vitest"
import { compareTestRuns, parseTestOutput, type TestRun } from "#application/test-results.js"
import { branchNameFor, branchNameProblem } from "#domain/branch-name.js"

const run = (exitCode: number, output: string): TestRun => ({
  command: "npm test",
  exitCode,
  timedOut: false,
  durationMs: 10,
  output,
  ...parseTestOutput(output),
})

const TAP_FAIL = `TAP version 13
# Subtest: add adds
ok 1 - add adds
not ok 2 - clamp caps values at the high bound
  ---
  duration_ms: 1.2
  ...
1..2
# tests 2
# pass 1
# fail 1
`
const TAP_PASS =
  "ok 1 - add adds\nok 2 - clamp caps values at the high bound\n# tests 2\n# pass 2\n# fail 0\n"

describe("test results", () => {
  it("reads TAP (node --test), vitest and pytest output", () => {
    expect(parseTestOutput(TAP_FAIL)).toEqual({
      passed: 1,
      failed: 1,
      failures: ["clamp caps values at the high bound"],
    })
    expect(parseTestOutput(" × src/a.test.ts > sums 3ms\n Tests  1 failed | 4 passed (5)")).toMatchObject({
      failed: 1,
      passed: 4,
      failures: ["src/a.test.ts > sums"],
    })
    expect(
      parseTestOutput("FAILED tests/test_x.py::test_y - assert 1 == 2\n1 failed, 3 passed in 0.1s"),
    ).toMatchObject({
      failed: 1,
      passed: 3,
      failures: ["tests/test_x.py::test_y"],
    })
  })

  it("reports a baseline failure that the change fixed, and nothing newly failing", () => {
    const comparison = compareTestRuns(run(1, TAP_FAIL), run(0, TAP_PASS))
    expect(comparison).toMatchObject({
      verdict: "pass",
      regressed: false,
      fixed: ["clamp caps values at the high bound"],
    })
  })

  it("does not blame the change for failures that were there before", () => {
    const comparison = compareTestRuns(run(1, TAP_FAIL), run(1, TAP_FAIL))
    expect(comparison).toMatchObject({ regressed: false, verdict: "unchanged-failures" })
    expect(comparison.stillFailing).toEqual(["clamp caps values at the high bound"])
  })

  it("names tests that fail only after the change", () => {
    const after = run(
      1,
      TAP_FAIL.replace("not ok 2 - clamp caps values at the high bound", "not ok 2 - add adds"),
    )
    const comparison = compareTestRuns(run(1, TAP_FAIL), after)
    expect(comparison.regressed).toBe(true)
    expect(comparison.newlyFailing).toEqual(["add adds"])
  })

  it("falls back to exit codes when the runner lists no names", () => {
    expect(compareTestRuns(run(0, "all good"), run(2, "boom")).newlyFailing).toEqual([
      "(test command failed)",
    ])
    expect(compareTestRuns(run(2, "boom"), run(2, "boom")).regressed).toBe(false)
  })
})

describe("branch names", () => {
  it("are stable, safe slugs under the prefix", () => {
    expect(branchNameFor("prwright/", 12, "clamp() ignores the upper bound!")).toBe(
      "prwright/issue-12-clamp-ignores-the-upper-bound",
    )
    expect(branchNameFor("bots", 3, "Ünïcödé — and *** symbols")).toBe("bots/issue-3-unicode-and-symbols")
    expect(branchNameFor("prwright/", 4, "!!!")).toBe("prwright/issue-4")
    // the name made for an issue always passes the check git adapters run before using a branch
    for (const title of ["clamp() ignores", "..", "-x", "a.lock", "HEAD", "@{u}", "x".repeat(300)])
      expect(branchNameProblem(branchNameFor("prwright/", 5, title))).toBeUndefined()
  })
})
