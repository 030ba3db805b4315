/**
 * The commentOnIssue workflow through the real run lifecycle and the embedded queue, in process:
 * retries reuse the one plan comment, a final failure or a cancel says so in that comment.
 */

import path from "node:path"
import Database from "better-sqlite3"
import { beforeEach, describe, expect, it } from "vitest"
import { createOctokitGitHub } from "#adapters/github/octokit-github.js"
import type { GitHub } from "#application/ports/github.js"
import { RetryableError } from "#domain/errors.js"
import type { WorkflowRun } from "#domain/workflow-run.js"
import type { Container } from "#main/container.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import type { ScriptStep } from "../doubles/scripted-model-server.js"
import { flowPerTest } from "../support/github-flow.js"
import { finished, waitForRun } from "../support/runs.js"

const TOKEN = "ghp_appTestToken_0123456789"
const KEY = "sk-app-test-key-0123456789"
const PLAN = "1. Do the thing\n2. Test the thing"
const view = {
  toolCalls: [{ name: "str_replace_based_edit_tool", arguments: { command: "view", path: "README.md" } }],
}
const submit = { toolCalls: [{ name: "submit_plan", arguments: { plan: PLAN } }] }

describe("commentOnIssue workflow", () => {
  const flows = flowPerTest({
    prefix: "prwright-app-",
    double: async () => {
      const double = await startGitHubDouble({ tokens: { [TOKEN]: { login: "bot", repos: "*" } } })
      await double.createRepo("acme/app", { files: { "README.md": "# app\n" } })
      return double
    },
  })
  let github: GitHubDouble
  let container: Container | undefined
  let issue: number
  beforeEach(() => {
    github = flows.github
    issue = github.createIssue("acme/app", { title: "Do the thing", body: "please" })
  })

  const start = async (
    script: ScriptStep[],
    workers = true,
    wrap?: (real: GitHub) => GitHub,
    env: Record<string, string> = {},
  ) => {
    // the flow's agents make no SDK-level retries, so a scripted 500 reaches the queue's retry
    const flow = await flows.start({
      script,
      workers: workers ? ["comment"] : [],
      token: TOKEN,
      apiKey: KEY,
      env: { PRWRIGHT_QUEUE_BACKOFF_MS: "20", ...env },
      overrides: () =>
        wrap ? { github: wrap(createOctokitGitHub({ token: TOKEN, baseUrl: github.apiUrl })) } : {},
    })
    container = flow.container
    return flow.container
  }

  const waitFor = (jobId: string, done: (run: WorkflowRun) => boolean, timeoutMs = 15_000) =>
    waitForRun(container!.store, jobId, done, timeoutMs)

  const enqueue = async () => {
    const result = await container!.requester.enqueue(
      "comment-on-issue",
      { repoFullName: "acme/app", issueNumber: issue, postToGitHub: true },
      { source: "api" },
    )
    return result.jobId
  }

  it("retries a failed attempt and edits the same comment: one comment, attempt 2, completed", async () => {
    await start([view, { error: { status: 500, message: "upstream overloaded" } }, view, submit])
    const jobId = await enqueue()
    const run = await waitFor(jobId, finished)
    expect(run.status).toBe("completed")
    expect(run.attempts).toBe(2)
    const comments = github.comments("acme/app", issue)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.body).toContain(PLAN)
    expect(run.artifacts.planCommentId).toBe(comments[0]?.id)
    // usage covers both attempts' model calls
    const events = await container!.store.listEvents(jobId)
    const calls = events.filter((e) => e.type === "model-call")
    expect(calls.length).toBe(3)
    expect(run.usage.inputTokens).toBe(
      calls.reduce((sum, e) => sum + (e.type === "model-call" ? e.inputTokens : 0), 0),
    )
    const statuses = events.flatMap((e) => (e.type === "status" ? [`${e.status}:${e.attempt}`] : []))
    expect(statuses).toEqual(["pending:0", "running:1", "pending:1", "running:2", "completed:2"])
  })

  it("a connection lost right after posting the comment: the retry finds it by its marker, one comment", async () => {
    let dropOnce = true
    await start([view, submit], true, (real) => ({
      ...real,
      async createIssueComment(repo, issueNumber, body) {
        const created = await real.createIssueComment(repo, issueNumber, body)
        if (dropOnce) {
          dropOnce = false
          throw new RetryableError("socket hang up (the comment was created, its id never arrived)")
        }
        return created
      },
    }))
    const jobId = await enqueue()
    const run = await waitFor(jobId, finished)
    expect(run.status, run.error).toBe("completed")
    expect(run.attempts).toBe(2)
    const comments = github.comments("acme/app", issue)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.body).toContain(PLAN)
    expect(comments[0]?.body).toContain(`<!-- prwright:plan ${jobId} -->`)
  })

  it("a run busy with model steps is not stopped by the idle timeout (agent steps count as progress)", async () => {
    const slow = (step: ScriptStep) => ({ ...step, delayMs: 900 })
    await start([slow(view), slow(view), slow(view), slow(view), submit], true, undefined, {
      JOB_IDLE_TIMEOUT_MS_COMMENT: "2500",
    })
    const jobId = await enqueue()
    const run = await waitFor(jobId, finished, 30_000)
    expect(run.status, run.error).toBe("completed")
    expect(run.attempts).toBe(1)
  })

  it("a run that ends without a plan fails once and says why in its comment", async () => {
    await start([view, { text: "I think it is fine as it is." }])
    const jobId = await enqueue()
    const run = await waitFor(jobId, finished)
    expect(run.status).toBe("failed")
    expect(run.attempts).toBe(1)
    expect(run.error).toMatch(/submit_plan|plan/i)
    const comments = github.comments("acme/app", issue)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.body).toContain("could not finish this plan")
  })

  it("cancelling a running plan stops it within 2 s, marks it cancelled and says so", async () => {
    await start([view, { ...view, delayMs: 20_000 }, submit])
    const jobId = await enqueue()
    await waitFor(jobId, (run) => run.status === "running" && run.progress >= 30)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const started = Date.now()
    await container!.cancelRun(jobId)
    const run = await waitFor(jobId, finished, 5000)
    expect(Date.now() - started).toBeLessThan(2000)
    expect(run.status).toBe("cancelled")
    expect(github.comments("acme/app", issue)[0]?.body).toContain("cancelled")
    // not retried after a cancel
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect((await container!.store.getRun(jobId))?.attempts).toBe(1)
  })

  it("a job whose data no longer parses fails as non-retryable with the reason", async () => {
    const c = await start([submit], false)
    const jobId = await enqueue()
    // As if written by an older version: the stored job carries a field this version does not know.
    const db = new Database(path.join(flows.dataDir, "prwright.db"))
    db.prepare("update queue_jobs set data = json_set(data, '$.legacy', 1) where id = ?").run(jobId)
    db.close()
    c.startWorkers(["comment"])
    const deadline = Date.now() + 10_000
    let info = await c.queue!.getJob(jobId)
    while (info?.state !== "failed" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25))
      info = await c.queue!.getJob(jobId)
    }
    expect(info?.state).toBe("failed")
    expect(info?.attempt).toBe(1)
    expect(info?.error).toMatch(/no longer parses/)
    expect(info?.error).toMatch(/legacy/)
    const run = await c.store.getRun(jobId)
    expect(run?.status).toBe("failed")
    expect(run?.error).toMatch(/no longer parses/)
  })
})
