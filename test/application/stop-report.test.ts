/**
 * The one failure comment of a stopped run, against the GitHub double: a second attempt (after a
 * crash that lost the saved comment id) edits the comment it finds by the run's marker.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createOctokitGitHub } from "#adapters/github/octokit-github.js"
import type { RunContext } from "#application/run-job.js"
import { reportStop, type StopState } from "#application/workflows/stop-report.js"
import { type WorkflowRun, ZERO_USAGE } from "#domain/workflow-run.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import { createCapturingLogger } from "../support/logger.js"

const TOKEN = "ghp_stopReportToken_012345"
const author = { name: "prwright[bot]", email: "bot@example.com" }

describe("reportStop", () => {
  let github: GitHubDouble
  let issue: number
  beforeEach(async () => {
    github = await startGitHubDouble({ tokens: { [TOKEN]: { login: "bot", repos: "*" } } })
    await github.createRepo("acme/app", { files: { "README.md": "x\n" } })
    issue = github.createIssue("acme/app", { title: "t", body: "b" })
  })
  afterEach(() => github.close())

  // A fresh attempt's view of the run: the artifacts saved by the earlier attempt were lost.
  const attempt = (saved: unknown[]): StopState => {
    const run = { id: "run-123", artifacts: {} } as unknown as WorkflowRun
    const context = {
      run,
      usage: () => ({ ...ZERO_USAGE, inputTokens: 1200, outputTokens: 300, costUsd: 0.0123 }),
      saveArtifacts: async (artifacts: unknown) => {
        saved.push(artifacts)
      },
      ensureActive: async () => {},
    } as unknown as RunContext<"resolve-issue">
    return {
      context,
      repo: { owner: "acme", name: "app", fullName: "acme/app" },
      issueNumber: issue,
      branch: "prwright/issue-1-t",
      tried: ["round 1: stopped (budget)"],
      lastErrors: ["step limit: used all 3 of maxSteps 3"],
      verifyOutput: new Set(),
    }
  }

  it("posts one comment, and a retried attempt that lost its id edits it instead of posting again", async () => {
    const deps = {
      github: createOctokitGitHub({ token: TOKEN, baseUrl: github.apiUrl }),
      logger: createCapturingLogger(),
      author,
    }
    const saved: unknown[] = []
    await reportStop(deps, attempt(saved), "the agent stopped: step limit")
    await reportStop(deps, attempt(saved), "the agent stopped again: step limit")
    const comments = github.comments("acme/app", issue)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.body).toContain("stopped again")
    expect(comments[0]?.body).toContain("<!-- prwright:stopped run-123 -->")
    expect(comments[0]?.body).toMatch(/\*\*Cost:\*\* 1,200 input \+ 300 output tokens · \$0\.0123/)
    expect(saved).toEqual([
      { failureCommentId: comments[0]?.id, failureCommentUrl: expect.stringContaining("#issuecomment-") },
      { failureCommentId: comments[0]?.id, failureCommentUrl: expect.stringContaining("#issuecomment-") },
    ])
  })

  it("reports once per attempt even if called twice", async () => {
    const deps = {
      github: createOctokitGitHub({ token: TOKEN, baseUrl: github.apiUrl }),
      logger: createCapturingLogger(),
      author,
    }
    const state = attempt([])
    await reportStop(deps, state, "first")
    await reportStop(deps, state, "second")
    expect(github.comments("acme/app", issue)).toHaveLength(1)
    expect(github.comments("acme/app", issue)[0]?.body).toContain("first")
  })
})
