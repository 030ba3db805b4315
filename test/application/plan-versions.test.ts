/**
 * One plan model: each planning run stores its plan as the issue's next version (earlier ones are
 * superseded), the plan comment names the version, and approving names one version exactly: the
 * resolveIssue run it starts reads that version's text, even after a newer plan exists.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { approvalJobId } from "#application/approve-plan.js"
import { findPlan } from "#application/workflows/find-plan.js"
import { ConflictError } from "#domain/errors.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import type { Container } from "#main/container.js"
import type { GitHubDouble } from "../doubles/github-double.js"
import { type GitHubFlow, startGitHubFlow } from "../support/github-flow.js"
import { finished, waitForRun } from "../support/runs.js"

const TOKEN = "ghp_planVersionsToken_0123456789"
const KEY = "sk-plan-versions-key-0123456789"
const view = {
  toolCalls: [{ name: "str_replace_based_edit_tool", arguments: { command: "view", path: "README.md" } }],
}
const submit = (plan: string) => ({ toolCalls: [{ name: "submit_plan", arguments: { plan } }] })

describe("plan versions", () => {
  let flow: GitHubFlow
  let github: GitHubDouble
  let container: Container
  let issue: number

  const plan = async () => {
    const { jobId } = await container.requester.enqueue(
      "comment-on-issue",
      { repoFullName: "acme/app", issueNumber: issue, postToGithub: true },
      { source: "api" },
    )
    const run = await waitForRun(container.store, jobId, finished, 20_000)
    expect(run.status, run.error).toBe("completed")
    return jobId
  }

  beforeAll(async () => {
    flow = await startGitHubFlow({
      prefix: "prwright-plans-",
      repos: { "acme/app": { "README.md": "# app\n" } },
      login: "bot",
      token: TOKEN,
      apiKey: KEY,
      script: [view, submit("1. first idea"), view, submit("1. second idea")],
      workers: ["comment"],
    })
    ;({ github, container } = flow)
    issue = github.createIssue("acme/app", { title: "Do the thing", body: "please" })
  })
  afterAll(async () => {
    await flow?.close()
  })

  it("stores each plan as the next version, names it in the comment, and approves exactly one", async () => {
    const first = await plan()
    const v1 = await container.store.getPlan(first)
    expect(v1).toMatchObject({ version: 1, status: "draft", body: "1. first idea", runId: first })
    const comment = github.comments("acme/app", issue).find((c) => c.body.includes(first))
    expect(comment?.body).toContain("## Implementation plan · version 1")
    expect(comment?.body).toContain("Reply `/prwright approve` to implement version 1")
    expect(v1?.commentUrl).toMatch(new RegExp(`#issuecomment-${comment?.id}$`))

    const second = await plan()
    expect(await container.store.getPlan(second)).toMatchObject({ version: 2, status: "draft" })
    expect(await container.store.getPlan(first)).toMatchObject({ status: "superseded" })

    // a superseded version cannot be approved
    await expect(container.approvePlan({ planId: first, trigger: { source: "api" } })).rejects.toBeInstanceOf(
      ConflictError,
    )
    // the newest, by issue, with the version the approver read
    const approved = await container.approvePlan({
      repoFullName: "acme/app",
      issueNumber: issue,
      version: 2,
      trigger: { source: "webhook", actor: "octocat" },
    })
    expect(approved.plan).toMatchObject({ id: second, status: "approved" })
    expect(approved.jobId).toBe(approvalJobId(second))
    const run = await container.store.getRun(approved.jobId)
    expect(run?.input.planId).toBe(second)

    // the implementing run reads the version it names, not whatever is newest when it starts
    const repo = parseRepoRef("acme/app")
    expect(await findPlan(container.store, repo, issue, first, container.store)).toBe("1. first idea")
    expect(await findPlan(container.store, repo, issue, second, container.store)).toBe("1. second idea")
    expect(await findPlan(container.store, repo, issue, undefined, container.store)).toBe("1. second idea")
  }, 60_000)
})
