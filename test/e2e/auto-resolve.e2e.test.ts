/**
 * The coding agent end to end on a real small repository (node:test, one failing test the issue
 * describes): HTTP → embedded queue → worker → clone over HTTP → plan → edit in the bwrap sandbox →
 * tests before and after → commit, push and PR on the GitHub double.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import {
  SCRIPTED_MODEL_PRICES,
  type ScriptedModelServer,
  startScriptedModelServer,
} from "../doubles/scripted-model-server.js"
import { type PrwrightProcess, serverUrl, startPrwright } from "../support/prwright-process.js"
import {
  FIXED_LINE_NEW,
  FIXED_LINE_OLD,
  fixSteps,
  planSteps,
  SAMPLE_FILES,
  SAMPLE_ISSUE,
} from "../support/sample-repo.js"
import { findSecrets, scanFiles } from "../support/secret-scan.js"

const GITHUB_TOKEN = "ghp_autoResolveToken_0123456789"
const LLM_KEY = "sk-auto-resolve-key-0123456789"
const API_TOKEN = "prw_auto_resolve_api_token_1234"

describe("autoResolveIssue end to end", () => {
  let github: GitHubDouble
  let model: ScriptedModelServer
  let dataDir: string
  let server: PrwrightProcess
  let baseUrl: string
  let issue: number

  beforeAll(async () => {
    github = await startGitHubDouble({
      tokens: { [GITHUB_TOKEN]: { login: "prwright-bot", repos: ["acme/mathlib"] } },
    })
    await github.createRepo("acme/mathlib", { files: SAMPLE_FILES })
    issue = github.createIssue("acme/mathlib", SAMPLE_ISSUE)
    model = await startScriptedModelServer({ script: [...planSteps(), ...fixSteps()], apiKey: LLM_KEY })
    dataDir = await mkdtemp(path.join(tmpdir(), "prwright-auto-"))
    server = startPrwright(["serve"], {
      PORT: "0",
      HOST: "127.0.0.1",
      PRWRIGHT_DATA_DIR: dataDir,
      GITHUB_API_URL: github.apiUrl,
      GITHUB_TOKEN,
      LLM_PROVIDER: "openai-compatible",
      LLM_MODEL: "scripted",
      PRWRIGHT_MODEL_PRICES: SCRIPTED_MODEL_PRICES,
      LLM_BASE_URL: model.baseUrl,
      LLM_API_KEY: LLM_KEY,
      PRWRIGHT_API_TOKEN: API_TOKEN,
    })
    baseUrl = await serverUrl(server)
  }, 90_000)

  afterAll(async () => {
    await server?.stop()
    await model?.close()
    await github?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it("fixes the failing test and opens a PR whose branch holds exactly the fix", async () => {
    const response = await fetch(`${baseUrl}/api/workflow/autoResolveIssue`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        repoFullName: "acme/mathlib",
        issueNumber: issue,
        options: { postToGitHub: true },
      }),
    })
    expect(response.status).toBe(202)
    const { jobId } = (await response.json()) as { jobId: string }

    let status: Record<string, unknown> = {}
    const deadline = Date.now() + 90_000
    while (Date.now() < deadline) {
      status = (await (
        await fetch(`${baseUrl}/api/jobs/${jobId}`, { headers: { authorization: `Bearer ${API_TOKEN}` } })
      ).json()) as Record<string, unknown>
      if (["completed", "failed", "cancelled"].includes(String(status.status))) break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
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
    const events = (await (
      await fetch(`${baseUrl}/api/jobs/${jobId}/events`, {
        headers: { authorization: `Bearer ${API_TOKEN}`, accept: "application/json" },
      })
    ).json()) as Array<{ type: string; tool?: string; output?: string }>
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
