/**
 * What the tests decide, on the small Node repository: a stopped agent's passing change becomes a
 * draft PR; an edited or deleted test, or an edited test script, is flagged and cannot make
 * verification pass; the PR shows tests failing on the old code and passing on the change; a failed
 * setup does not end the run; hosts the setup network refused reach the events and the PR.
 */
import { afterEach, describe, expect, it } from "vitest"
import { detectSandbox } from "#adapters/sandbox/detect-sandbox.js"
import type { Sandbox } from "#application/ports/sandbox.js"
import { bash, editor, type Harness, startHarness, submitTwice } from "../support/resolve-harness.js"
import {
  FIXED_LINE_NEW,
  FIXED_LINE_OLD,
  fixSteps,
  SAMPLE_FILES,
  SAMPLE_ISSUE,
} from "../support/sample-repo.js"

const fixEdit = editor({
  command: "str_replace",
  path: "src/math.js",
  old_str: FIXED_LINE_OLD,
  new_str: FIXED_LINE_NEW,
})

describe("resolve: verification, proof and drafts", () => {
  let harness: Harness | undefined
  afterEach(async () => {
    await harness?.close()
    harness = undefined
  })

  it("a budget stop with a change that passes verification gives a draft PR that says why", async () => {
    harness = await startHarness({
      files: SAMPLE_FILES,
      issue: SAMPLE_ISSUE,
      script: [fixEdit, bash("npm test"), bash("echo still looking")],
      env: { PRWRIGHT_MAX_STEPS: "3" },
    })
    const run = await harness.run("resolve-issue")
    expect(run.status, run.error).toBe("completed")
    expect(run.artifacts.pullRequestDraft).toBe(true)
    const pr = harness.github.pullRequests(harness.repo)[0]!
    expect(pr.draft).toBe(true)
    expect(pr.body).toMatch(/The agent stopped before submitting \(budget: step limit/)
    expect(pr.body).toMatch(/\| after \| `npm test` \| ✅/)
    const files = await harness.github.branchFiles(harness.repo, run.artifacts.branchName!)
    expect(files["src/math.js"]).toContain(FIXED_LINE_NEW)
    // no failure comment: the run published
    expect(harness.github.comments(harness.repo, harness.issue)).toHaveLength(0)
  }, 120_000)

  it("a change that edits the failing test is flagged and does not pass verification", async () => {
    harness = await startHarness({
      files: SAMPLE_FILES,
      issue: SAMPLE_ISSUE,
      script: [
        editor({
          command: "str_replace",
          path: "test/math.test.js",
          old_str: "assert.equal(clamp(50, 0, 10), 10)",
          new_str: "assert.equal(clamp(50, 0, 10), 50)",
        }),
        bash("npm test"),
        ...submitTwice("Make the clamp test pass"),
      ],
    })
    const run = await harness.run("resolve-issue", { maxAttempts: 1 })
    expect(run.status, run.error).toBe("completed")
    const events = await harness.events(run.id)
    const verify = events.filter((e) => e.type === "test-result" && e.phase === "verify")
    // the repository's own test ran, and it still fails
    expect(verify[0]?.exitCode).toBe(1)
    expect(String(verify[0]?.output)).toContain("clamp caps values at the high bound")
    const pr = harness.github.pullRequests(harness.repo)[0]!
    expect(pr.draft).toBe(true)
    expect(pr.body).toMatch(/edits or deletes existing tests or test configuration: `test\/math\.test\.js`/)
    // the model's version is what the branch holds (for review), restored after verification
    const files = await harness.github.branchFiles(harness.repo, run.artifacts.branchName!)
    expect(files["test/math.test.js"]).toContain("clamp(50, 0, 10), 50)")
  }, 120_000)

  it("deleting the test file or rewriting the test script does not pass verification either", async () => {
    harness = await startHarness({
      files: SAMPLE_FILES,
      issue: SAMPLE_ISSUE,
      script: [
        bash("rm test/math.test.js"),
        editor({
          command: "str_replace",
          path: "package.json",
          old_str: '"test": "node --test"',
          new_str: '"test": "exit 0"',
        }),
        ...submitTwice("Tests pass now"),
      ],
    })
    const run = await harness.run("resolve-issue", { maxAttempts: 1 })
    expect(run.status, run.error).toBe("completed")
    const pr = harness.github.pullRequests(harness.repo)[0]!
    expect(pr.draft).toBe(true)
    expect(pr.body).toContain("`test/math.test.js`")
    expect(pr.body).toMatch(/test configuration: [^\n]*`package\.json`/)
    expect(pr.body).toMatch(/\| after \| `npm test` \| ❌ 1 failed, 2 passed/)
  }, 120_000)

  it("shows the change's tests failing on the old code and passing on the change", async () => {
    harness = await startHarness({
      files: SAMPLE_FILES,
      issue: SAMPLE_ISSUE,
      script: [
        fixEdit,
        editor({
          command: "create",
          path: "test/clamp-high.test.js",
          file_text:
            'import { test } from "node:test"\nimport assert from "node:assert/strict"\nimport { clamp } from "../src/math.js"\n\ntest("clamp caps at a negative high bound", () => {\n  assert.equal(clamp(5, -10, -1), -1)\n})\n\ntest("clamp keeps values inside the bounds", () => {\n  assert.equal(clamp(5, 0, 10), 5)\n})\n',
        }),
        ...submitTwice("Make clamp() respect the upper bound"),
      ],
    })
    const run = await harness.run("resolve-issue")
    expect(run.status, run.error).toBe("completed")
    const pr = harness.github.pullRequests(harness.repo)[0]!
    expect(pr.draft).toBe(false)
    expect(pr.body).toContain("| test | before the change | after the change |")
    expect(pr.body).toContain("| `clamp caps at a negative high bound` | ❌ fails | ✅ passes |")
    // only the change's own tests run on the old code (the repository's failing test is in the table above)
    expect(pr.body).toContain(
      "the change's tests (`node --test 'test/clamp-high.test.js'`) run on the old code",
    )
    expect(pr.body).not.toContain("| `clamp caps values at the high bound` |")
    // a test that passes on the old code too proves nothing: not a row
    expect(pr.body).not.toContain("| `clamp keeps values inside the bounds`")
    // the proof run left the change as it was
    const files = await harness.github.branchFiles(harness.repo, run.artifacts.branchName!)
    expect(files["src/math.js"]).toContain(FIXED_LINE_NEW)
  }, 120_000)

  it("a failed setup does not end the run: the agent is told, the PR says so, refused hosts are listed", async () => {
    const real = await detectSandbox({})
    const refusing: Sandbox = {
      kind: real.kind,
      run: async (command) => {
        const result = await real.run(command)
        return command.network === "setup" ? { ...result, refusedHosts: ["evil.example.com:443"] } : result
      },
    }
    harness = await startHarness({
      files: { ...SAMPLE_FILES, ".prwright.yml": "setup: echo cannot reach the registry; exit 3\n" },
      issue: SAMPLE_ISSUE,
      script: fixSteps(),
      sandbox: refusing,
    })
    const run = await harness.run("resolve-issue")
    expect(run.status, run.error).toBe("completed")
    const told = harness.coderCalls[0]?.baseline ?? ""
    expect(told).toContain("The setup command `echo cannot reach the registry; exit 3` failed (exit 3)")
    expect(told).toContain("cannot reach the registry")
    expect(told).toContain("evil.example.com:443")
    const events = await harness.events(run.id)
    expect(
      events.some((e) => e.type === "log" && String(e.message).includes("refused evil.example.com:443")),
    ).toBe(true)
    const pr = harness.github.pullRequests(harness.repo)[0]!
    expect(pr.body).toContain("Setup failed, and the agent worked without it")
    expect(pr.body).toContain("The setup network refused: `evil.example.com:443`")
    expect(pr.body).toContain("not shown (the change adds or changes no test)")
  }, 120_000)
})
