/**
 * CI repair end to end in process: a failed GitHub Actions run on prwright's pull request (a real
 * workflow_run.completed payload from @octokit/webhooks-examples, retargeted), its job log from the GitHub
 * double, one repair run through the embedded queue, the sandbox and the scripted model, one push. The
 * same failure again gives nothing; a repository that did not opt in gives nothing.
 */
import { execFileSync } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runCodingAgent } from "#application/agent/coding-agent.js"
import { runPlanningAgent } from "#application/agent/planning-agent.js"
import { failureFingerprint } from "#application/ci-repair.js"
import { loadConfig } from "#main/config.js"
import { type Container, createContainer } from "#main/container.js"
import { workflowRunPayload } from "../doubles/github/webhook-payloads.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import {
  SCRIPTED_MODEL_PRICES,
  type ScriptedModelServer,
  startScriptedModelServer,
} from "../doubles/scripted-model-server.js"
import { createCapturingLogger } from "../support/logger.js"
import { finished, waitForRun } from "../support/runs.js"
import { fixSteps, planSteps, SAMPLE_FILES, SAMPLE_ISSUE } from "../support/sample-repo.js"

const TOKEN = "ghp_ciRepairTestToken_0123456789"
const KEY = "sk-ci-repair-key-0123456789"
const REPO = "acme/mathlib"
const OTHER = "acme/optout"
const failingLog = (at: string) =>
  [
    `${at} ##[group]Run npm test`,
    `${at} > node --test`,
    `${at} not ok 4 - README mentions clamp`,
    `${at}   error: 'README does not mention clamp' (12.3ms)`,
    `${at} # fail 1`,
    `${at} ##[error]Process completed with exit code 1.`,
  ].join("\n")

describe("CI repair (fixCi)", () => {
  let github: GitHubDouble
  let model: ScriptedModelServer
  let container: Container
  let dataDir: string
  let delivery = 0

  beforeAll(async () => {
    github = await startGitHubDouble({ tokens: { [TOKEN]: { login: "prwright-bot", repos: "*" } } })
    await github.createRepo(REPO, { files: { ...SAMPLE_FILES, ".prwright.yml": "fixCi: true\n" } })
    await github.createRepo(OTHER, { files: SAMPLE_FILES })
    model = await startScriptedModelServer({
      apiKey: KEY,
      script: [
        ...planSteps(),
        ...fixSteps(),
        // the repair round
        {
          toolCalls: [
            {
              name: "str_replace_based_edit_tool",
              arguments: {
                command: "str_replace",
                path: "README.md",
                old_str: "Tiny math helpers.",
                new_str: "Tiny math helpers: add and clamp.",
              },
            },
          ],
        },
        {
          toolCalls: [{ name: "submit", arguments: { title: "Fix CI", summary: "README mentions clamp." } }],
        },
        {
          toolCalls: [{ name: "submit", arguments: { title: "Fix CI", summary: "README mentions clamp." } }],
        },
      ],
    })
    dataDir = await mkdtemp(path.join(tmpdir(), "prwright-ci-repair-"))
    const config = loadConfig({
      PRWRIGHT_DATA_DIR: dataDir,
      GITHUB_API_URL: github.apiUrl,
      GITHUB_TOKEN: TOKEN,
      GITHUB_WEBHOOK_SECRET: "whsec-ci",
      LLM_PROVIDER: "openai-compatible",
      LLM_MODEL: "scripted",
      PRWRIGHT_MODEL_PRICES: SCRIPTED_MODEL_PRICES,
      LLM_BASE_URL: model.baseUrl,
      LLM_API_KEY: KEY,
      PRWRIGHT_API_TOKEN: "prw_ci_repair_token_0123456",
    })
    container = await createContainer(config, {
      logger: createCapturingLogger(),
      planner: (options) => runPlanningAgent({ ...options, maxRetries: 0 }),
      coder: (options) => runCodingAgent({ ...options, maxRetries: 0, secrets: config.secrets }),
    })
    container.startWorkers(["auto-resolve", "resolve"])
  })
  afterAll(async () => {
    await container?.close()
    await model?.close()
    await github?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  const failed = (repo: string, branch: string, sha: string, at: string) => {
    const run = github.addWorkflowRun(repo, {
      headBranch: branch,
      headSha: sha,
      jobs: [
        { name: "lint", conclusion: "success", log: "all good" },
        { name: "test", conclusion: "failure", log: failingLog(at) },
      ],
    })
    return container.webhooks.handle({
      name: "workflow_run",
      deliveryId: `ci-${++delivery}`,
      payload: workflowRunPayload({
        repo,
        runId: run.id,
        headBranch: branch,
        headSha: sha,
        conclusion: "failure",
      }),
    })
  }

  it("a failed workflow run on prwright's PR gives one repair push; the same failure again gives none", async () => {
    const issue = github.createIssue(REPO, SAMPLE_ISSUE)
    const first = await container.requester.enqueue(
      "auto-resolve-issue",
      { repoFullName: REPO, issueNumber: issue, options: { createPR: true } },
      { source: "api" },
    )
    const opened = await waitForRun(container.store, first.jobId, finished, 60_000)
    expect(opened.status).toBe("completed")
    const branch = opened.artifacts.branchName!
    const before = opened.artifacts.commitHash!

    const outcome = await failed(REPO, branch, before, "2026-12-06T08:00:01.1234567Z")
    expect(outcome).toMatchObject({ outcome: "started", type: "resolve-issue", issueNumber: issue })
    const repair = await waitForRun(container.store, (outcome as { jobId: string }).jobId, finished, 60_000)
    expect(repair.status).toBe("completed")
    expect(String(repair.input.instructions)).toContain("not ok 4 - README mentions clamp")
    expect(String(repair.input.instructions)).not.toContain("all good") // only the failing job's log
    expect(github.jobLogReads).toHaveLength(1)
    const after = (await github.refSha(REPO, `refs/heads/${branch}`))!
    const gitDir = github.state.repos.get(REPO)!.gitDir
    expect(
      execFileSync("git", ["rev-list", "--count", `${before}..${after}`], { cwd: gitDir })
        .toString()
        .trim(),
    ).toBe("1")
    expect((await github.branchFiles(REPO, branch))["README.md"]).toContain("add and clamp")

    // the same failure on the new head (other timestamps, other durations): not tried twice
    const again = await failed(REPO, branch, after, "2026-12-06T08:05:09.7654321Z")
    expect(again).toMatchObject({ outcome: "ignored", reason: expect.stringMatching(/already tried/) })
    expect((await container.store.listRuns({ repoFullName: REPO, issueNumber: issue })).runs).toHaveLength(2)
    expect(await github.refSha(REPO, `refs/heads/${branch}`)).toBe(after)
  }, 120_000)

  it("ignores repositories that did not opt in, other branches and successes", async () => {
    const sha = (await github.refSha(OTHER, "refs/heads/main"))!
    expect(await failed(OTHER, "prwright/issue-1-x", sha, "2026-12-06T08:00:00Z")).toMatchObject({
      outcome: "ignored",
    })
    expect(await failed(REPO, "main", sha, "2026-12-06T08:00:00Z")).toMatchObject({
      outcome: "ignored",
      reason: expect.stringMatching(/not one of prwright's branches/),
    })
    const success = await container.webhooks.handle({
      name: "workflow_run",
      deliveryId: "ci-success",
      payload: workflowRunPayload({
        repo: REPO,
        runId: 1,
        headBranch: "prwright/x",
        headSha: sha,
        conclusion: "success",
      }),
    })
    expect(success.outcome).toBe("ignored")
  })

  it("fingerprints ignore timestamps and durations but not which tests fail", () => {
    expect(failureFingerprint([failingLog("2026-01-01T00:00:00Z")])).toBe(
      failureFingerprint([failingLog("2027-05-05T11:11:11.5Z").replace("12.3ms", "99ms")]),
    )
    expect(failureFingerprint([failingLog("2026-01-01T00:00:00Z")])).not.toBe(
      failureFingerprint([
        failingLog("2026-01-01T00:00:00Z").replace("not ok 4 - README", "not ok 5 - index"),
      ]),
    )
  })
})
