/**
 * The coding agent end to end on a real small repository (node:test, one failing test the issue
 * describes): HTTP → embedded queue → worker → clone over HTTP → plan → edit in the bwrap sandbox →
 * tests before and after → commit, push and PR on the GitHub double.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  FIXED_LINE_NEW,
  FIXED_LINE_OLD,
  fixSteps,
  planSteps,
  SAMPLE_FILES,
  SAMPLE_ISSUE,
} from "../support/sample-repo.js"
import { findSecrets, scanFiles } from "../support/secret-scan.js"
import { type ServedFlow, startServedFlow } from "../support/served-flow.js"

const GITHUB_TOKEN = "ghp_autoResolveToken_0123456789"
const LLM_KEY = "sk-auto-resolve-key-0123456789"
const API_TOKEN = "prw_auto_resolve_api_token_1234"

describe("autoResolveIssue end to end", () => {
  let flow: ServedFlow
  let issue: number

  beforeAll(async () => {
    flow = await startServedFlow({
      prefix: "prwright-auto-",
      repo: "acme/mathlib",
      files: SAMPLE_FILES,
      script: [...planSteps(), ...fixSteps()],
      githubToken: GITHUB_TOKEN,
      llmKey: LLM_KEY,
      apiToken: API_TOKEN,
    })
    issue = flow.github.createIssue("acme/mathlib", SAMPLE_ISSUE)
  }, 90_000)

  afterAll(async () => {
    await flow?.close()
  })

  it("fixes the failing test and opens a PR whose branch holds exactly the fix", async () => {
    const { github, model, server, dataDir } = flow
    const response = await flow.autoResolve(issue)
    expect(response.status).toBe(202)
    const { jobId } = (await response.json()) as { jobId: string }
    const status = await flow.waitForJob(jobId, { timeoutMs: 90_000 })
    expect(status.status, `${JSON.stringify(status)}\n${server.output()}`).toBe("completed")
    expect(model.errors).toEqual([])

    const branch = `prwright/issue-${issue}-clamp-ignores-the-upper-bound`
    const artifacts = (status.result as { artifacts: Record<string, unknown> }).artifacts
    expect(artifacts.branchName).toBe(branch)
    expect(artifacts.filesChanged).toBe(1)

    // The branch holds exactly the expected change, nothing from setup or test runs.
    const diff = await github.diff("acme/mathlib", "main", branch)
    const changedFiles = [...diff.matchAll(/^diff --git a\/(\S+)/gm)].map((m) => m[1])
    expect(changedFiles).toEqual(["src/math.js"])
    expect(diff).toContain(`-${FIXED_LINE_OLD}`)
    expect(diff).toContain(`+${FIXED_LINE_NEW}`)
    const files = await github.branchFiles("acme/mathlib", branch)
    expect(files["src/math.js"]).toContain(FIXED_LINE_NEW)

    // One PR, not a draft, with the test table, the fixed test and Closes #N.
    const pulls = github.pullRequests("acme/mathlib")
    expect(pulls).toHaveLength(1)
    const pr = pulls[0]!
    expect(pr.head).toBe(branch)
    expect(pr.base).toBe("main")
    expect(pr.draft).toBe(false)
    expect(pr.title).toBe("Make clamp() respect the upper bound")
    expect(pr.body).toContain(`Closes #${issue}`)
    expect(pr.body).toMatch(/\| before \| `npm test` \| ❌ 1 failed, 2 passed/)
    expect(pr.body).toMatch(/\| after \| `npm test` \| ✅ 0 failed, 3 passed/)
    expect(pr.body).toContain("Fixed by this change: `clamp caps values at the high bound`")
    expect(pr.body).toMatch(/input \+ [\d,]+ output tokens/)
    expect(artifacts.pullRequestNumber).toBe(pr.number)

    // The plan was posted (postToGitHub) and no failure comment was left.
    const comments = github.comments("acme/mathlib", issue)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.body).toContain("Implementation plan")

    // The tool calls ran in order, including the review of the diff before the final submit.
    const events = JSON.parse(await flow.eventsText(jobId)) as Array<{
      type: string
      tool?: string
      output?: string
    }>
    expect(events.filter((e) => e.type === "tool-call").map((e) => e.tool)).toEqual([
      "str_replace_based_edit_tool",
      "submit_plan",
      "bash",
      "str_replace_based_edit_tool",
      "str_replace_based_edit_tool",
      "bash",
      "submit",
      "submit",
    ])
    const tests = events.filter((e) => e.type === "test-result") as unknown as Array<Record<string, unknown>>
    expect(tests.map((t) => [t.phase, t.exitCode, t.failed, t.passed])).toEqual([
      ["baseline", 1, 1, 2],
      ["verify", 0, 0, 3],
    ])
    const diffEvent = events.find((e) => e.type === "diff") as unknown as { files: string[]; diff: string }
    expect(diffEvent.files).toEqual(["src/math.js"])
    expect(diffEvent.diff).toContain(`+${FIXED_LINE_NEW}`)
    const review = events.find((e) => e.type === "tool-result" && e.tool === "submit")
    expect(review?.output).toContain(FIXED_LINE_NEW)

    // No secret reached the data dir, the logs or the model.
    expect(scanFiles(dataDir, [GITHUB_TOKEN, LLM_KEY])).toEqual([])
    expect(server.lines.filter((l) => findSecrets(l, [GITHUB_TOKEN, LLM_KEY]).length > 0)).toEqual([])
    expect(findSecrets(JSON.stringify(model.requests.map((r) => r.body)), [GITHUB_TOKEN, LLM_KEY])).toEqual(
      [],
    )
    expect(github.tokenSeenInUrl).toBe(false)
  })
})
