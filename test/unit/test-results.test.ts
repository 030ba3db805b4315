import { describe, expect, it } from "vitest"
import {
  compareTestRuns,
  parseGoTestJson,
  parseJUnitXml,
  parseTestOutput,
  type TestRun,
} from "#application/test-results.js"
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

describe("machine results and more runners", () => {
  it("reads pytest's JUnit XML: failures and errors fail, skipped ones are left out", () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="4">
<testcase classname="tests.test_x" name="test_ok" time="0.001" />
<testcase classname="tests.test_x" name="test_bad[a&amp;b]" time="0.001"><failure message="assert 1 == 2">trace</failure></testcase>
<testcase classname="tests.test_x" name="test_err" time="0.001"><error message="boom" /></testcase>
<testcase classname="tests.test_x" name="test_skip" time="0.001"><skipped message="no" /></testcase>
</testsuite></testsuites>`
    expect(parseJUnitXml(xml)).toEqual({
      passed: 1,
      failed: 2,
      failures: ["tests.test_x::test_bad[a&b]", "tests.test_x::test_err"],
      passes: ["tests.test_x::test_ok"],
    })
    expect(parseJUnitXml("<testsuites></testsuites>")).toBeUndefined()
  })

  it("reads Maven surefire's summary and failing test names", () => {
    const output = [
      "[ERROR] Failures: ",
      "[ERROR]   ClampTest.capsHigh:15 expected:<10> but was:<50>",
      "[ERROR] Tests run: 3, Failures: 1, Errors: 0, Skipped: 0",
    ].join("\n")
    expect(parseTestOutput(output)).toEqual({ passed: 2, failed: 1, failures: ["ClampTest.capsHigh"] })
  })

  it("reads go test -json: test verdicts, subtests, and the output rebuilt from the events", () => {
    const events = [
      { Action: "start", Package: "x" },
      { Action: "run", Package: "x", Test: "TestA" },
      { Action: "output", Package: "x", Test: "TestA", Output: "=== RUN   TestA\n" },
      { Action: "pass", Package: "x", Test: "TestA" },
      { Action: "run", Package: "x", Test: "TestB/sub" },
      { Action: "output", Package: "x", Test: "TestB/sub", Output: "    b_test.go:9: got 50\n" },
      { Action: "fail", Package: "x", Test: "TestB/sub" },
      { Action: "fail", Package: "x", Test: "TestB" },
      { Action: "output", Package: "x", Output: "FAIL\n" },
      { Action: "fail", Package: "x" },
    ]
    const parsed = parseGoTestJson(events.map((e) => JSON.stringify(e)).join("\n"))
    expect(parsed).toMatchObject({
      passed: 1,
      failed: 2,
      failures: ["TestB/sub", "TestB"],
      passes: ["TestA"],
    })
    expect(parsed?.output).toBe("=== RUN   TestA\n    b_test.go:9: got 50\nFAIL\n")
    expect(parseGoTestJson("ok  \tx\t0.1s\n")).toBeUndefined()
  })

  it("sums cargo's per-binary summaries", () => {
    const output = [
      "test tests::caps_high ... FAILED",
      "test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
      "test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out",
      "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out",
    ].join("\n")
    expect(parseTestOutput(output)).toEqual({ passed: 5, failed: 1, failures: ["tests::caps_high"] })
  })
})

describe("minitest", () => {
  it("names the failing test, not the word Failure", () => {
    const output =
      "  1) Failure:\nClampHighTest#test_caps_high [test/clamp_high_test.rb:6]:\nExpected: 10\n  Actual: 50\n\n2 runs, 2 assertions, 1 failures, 0 errors, 0 skips\n"
    expect(parseTestOutput(output).failures).toEqual(["ClampHighTest#test_caps_high"])
  })
})
