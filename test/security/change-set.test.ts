/**
 * Weakness 5, as the attack: setup writes a secret-looking value into the tree and touches a file,
 * and every test run leaves junk behind (a fresh name each time, so no snapshot can know it in
 * advance). The pushed commit holds the model's edits only; the PR names the file setup had also
 * touched. On the old code (every `git status` path not left by setup) the verification junk and
 * setup's untracked files were committed.
 */
import { afterEach, describe, expect, it } from "vitest"
import { bash, editor, type Harness, startHarness, submitTwice } from "../support/resolve-harness.js"
import { FIXED_LINE_NEW, FIXED_LINE_OLD, SAMPLE_FILES, SAMPLE_ISSUE } from "../support/sample-repo.js"

// assembled by the shell, so the value itself is in no file of the repository
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRETKEY"
const SETUP = [
  `printf 'AWS_SECRET_ACCESS_KEY=%s%s\\n' '${SECRET.slice(0, 20)}' '${SECRET.slice(20)}' > leaked.env`,
  "mkdir -p build && date +%s%N > build/stamp.txt",
  "echo 'setup was here' >> README.md",
  // a tracked file setup rewrites and the model never touches
  "echo '// generated' >> test/math.test.js",
].join(" && ")
const TEST =
  'node --test; rc=$?; date +%s%N > test-run.log; echo junk > "junk-$(date +%s%N).txt"; echo "$RANDOM" > .coverage-marker; date +%s%N >> stats.txt; exit $rc'

describe("security: the change set is the agent phase's work only", () => {
  let harness: Harness | undefined
  afterEach(async () => {
    await harness?.close()
    harness = undefined
  })

  it("setup's secret file, build output and test-run junk never reach the pushed commit", async () => {
    harness = await startHarness({
      files: {
        ...SAMPLE_FILES,
        ".prwright.yml": `setup: ${JSON.stringify(SETUP)}\ntest: ${JSON.stringify(TEST)}\n`,
      },
      issue: SAMPLE_ISSUE,
      script: [
        editor({
          command: "str_replace",
          path: "src/math.js",
          old_str: FIXED_LINE_OLD,
          new_str: FIXED_LINE_NEW,
        }),
        editor({
          command: "str_replace",
          path: "README.md",
          old_str: "Tiny math helpers.",
          new_str: "Tiny math helpers: add, clamp.",
        }),
        bash("ls; cat leaked.env"),
        // the agent runs the tests itself, which appends to stats.txt too (verification then does again)
        bash("node --test; date +%s%N >> stats.txt"),
        ...submitTwice("Make clamp() respect the upper bound"),
      ],
    })
    const run = await harness.run("resolve-issue")
    expect(run.status, run.error).toBe("completed")
    const branch = run.artifacts.branchName!
    const diff = await harness.github.diff(harness.repo, "main", branch)
    const changed = [...diff.matchAll(/^diff --git a\/(\S+)/gm)].map((m) => m[1])
    expect(changed).toEqual(["README.md", "src/math.js"])
    expect(diff).not.toContain(SECRET)
    const files = await harness.github.branchFiles(harness.repo, branch)
    for (const name of Object.keys(files)) {
      expect(name).not.toMatch(/^(leaked\.env|build\/|test-run\.log|junk-|\.coverage-marker)/)
      expect(files[name]).not.toContain(SECRET)
    }
    expect(files["test/math.test.js"]).not.toContain("// generated")
    const pr = harness.github.pullRequests(harness.repo)[0]!
    expect(pr.body).toMatch(/setup had also changed[^\n]*`README\.md`/)
    expect(pr.body).toMatch(/Left out of the commit \(written by the test run\):[^\n]*`stats\.txt`/)
    expect(pr.body).not.toContain(SECRET)
  }, 120_000)
})
