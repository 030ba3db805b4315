/**
 * What prwright reads from failing-CI webhooks, from the payload alone: `workflow_run.completed` and
 * `check_suite.completed` (real @octokit/webhooks-examples payloads, changed only where a case needs it)
 * become one `fix` request on the branch, anything else is ignored, and a payload missing a field the
 * request needs is refused naming it. Comments (on issues and in reviews) that start nothing whatever
 * they say: edits, deletions, bots', and prwright's own.
 */
import { describe, expect, it } from "vitest"
import { readGitHubEvent } from "#application/read-github-event.js"
import {
  commentPayload,
  reviewCommentPayload,
  webhookExample,
  workflowRunPayload,
} from "../doubles/github/webhook-payloads.js"

/** `check_suite.<action>` with its conclusion set; `slug` names the suite's app (the example's has none) */
const checkSuitePayload = (options: {
  action?: string
  conclusion: string | null
  headBranch?: string | null
  slug?: string
  app?: null
}) => {
  const payload = webhookExample("check_suite", options.action ?? "completed")
  if (options.slug !== undefined) payload.check_suite.app.slug = options.slug
  if (options.app === null) payload.check_suite.app = null
  payload.check_suite.conclusion = options.conclusion
  if (options.headBranch !== undefined) payload.check_suite.head_branch = options.headBranch
  return payload
}

const failedRun = () =>
  workflowRunPayload({
    repo: "acme/widgets",
    runId: 4242,
    headBranch: "prwright/issue-7-clamp",
    headSha: "5779607b49aab1200488439f02372c57b4f75444",
    conclusion: "failure",
    name: "CI",
    sender: { login: "alice" },
  })

describe("failing CI webhooks", () => {
  it("workflow_run.completed with a failure is a fix request naming the run, its branch and commit", () => {
    expect(readGitHubEvent("workflow_run", failedRun())).toStrictEqual({
      kind: "request",
      request: {
        command: "fix",
        repoFullName: "acme/widgets",
        number: 0,
        isPullRequest: true,
        sender: "alice",
        ci: {
          workflowRunId: 4242,
          headSha: "5779607b49aab1200488439f02372c57b4f75444",
          headBranch: "prwright/issue-7-clamp",
          name: "CI",
        },
        event: "workflow_run.completed",
        identity: "workflow_run:acme/widgets:4242:1",
      },
    })
  })

  it("a re-run is an event of its own; a run without a name or branch still reads", () => {
    const rerun = failedRun()
    rerun.workflow_run.run_attempt = 2
    rerun.workflow_run.conclusion = "timed_out"
    expect(readGitHubEvent("workflow_run", rerun)).toMatchObject({
      kind: "request",
      request: { identity: "workflow_run:acme/widgets:4242:2" },
    })
    const bare = failedRun()
    bare.workflow_run.name = null
    bare.workflow_run.head_branch = null
    delete bare.workflow_run.run_attempt
    const read = readGitHubEvent("workflow_run", bare)
    expect(read.kind === "request" && read.request.ci).toStrictEqual({
      workflowRunId: 4242,
      headSha: "5779607b49aab1200488439f02372c57b4f75444",
      headBranch: "",
      name: "workflow",
    })
    expect(read.kind === "request" && read.request.identity).toBe("workflow_run:acme/widgets:4242:1")
  })

  it("check_suite.completed with a failure is a fix request naming the suite, its app, branch and commit", () => {
    const example = webhookExample("check_suite", "completed")
    const payload = checkSuitePayload({ conclusion: "failure", slug: "github-actions" })
    expect(readGitHubEvent("check_suite", payload)).toStrictEqual({
      kind: "request",
      request: {
        command: "fix",
        repoFullName: example.repository.full_name,
        number: 0,
        isPullRequest: true,
        sender: example.sender.login,
        ci: {
          checkSuiteId: example.check_suite.id,
          headSha: example.check_suite.head_sha,
          headBranch: example.check_suite.head_branch,
          name: "github-actions",
        },
        event: "check_suite.completed",
        identity: `check_suite:${example.repository.full_name}:${example.check_suite.id}`,
      },
    })
    // the example as GitHub sent it: its app has no slug
    const unnamed = readGitHubEvent("check_suite", checkSuitePayload({ conclusion: "failure" }))
    expect(unnamed.kind === "request" && unnamed.request.ci?.name).toBe("checks")
    const appless = readGitHubEvent(
      "check_suite",
      checkSuitePayload({ conclusion: "timed_out", app: null, headBranch: null }),
    )
    expect(appless.kind === "request" && appless.request.ci).toStrictEqual({
      checkSuiteId: example.check_suite.id,
      headSha: example.check_suite.head_sha,
      headBranch: "",
      name: "checks",
    })
  })

  it("success, cancellation, no conclusion yet, or another action is not a failure", () => {
    for (const conclusion of ["success", "cancelled", "neutral", "action_required", null]) {
      const run = failedRun()
      run.workflow_run.conclusion = conclusion
      expect(readGitHubEvent("workflow_run", run)).toEqual({
        kind: "ignore",
        reason: "workflow_run.completed is not a failure",
      })
      expect(readGitHubEvent("check_suite", checkSuitePayload({ conclusion }))).toEqual({
        kind: "ignore",
        reason: "check_suite.completed is not a failure",
      })
    }
    const requested = failedRun()
    requested.action = "requested"
    expect(readGitHubEvent("workflow_run", requested)).toEqual({
      kind: "ignore",
      reason: "workflow_run.requested is not a failure",
    })
    expect(
      readGitHubEvent("check_suite", checkSuitePayload({ action: "rerequested", conclusion: "failure" })),
    ).toEqual({ kind: "ignore", reason: "check_suite.rerequested is not a failure" })
  })

  it("a payload without the commit it is about is refused, naming the field", () => {
    const run = failedRun()
    delete run.workflow_run.head_sha
    expect(() => readGitHubEvent("workflow_run", run)).toThrow(
      /invalid workflow_run webhook payload: workflow_run\.head_sha/,
    )
    const suite = checkSuitePayload({ conclusion: "failure" })
    suite.check_suite.id = "118578147"
    expect(() => readGitHubEvent("check_suite", suite)).toThrow(
      /invalid check_suite webhook payload: check_suite\.id/,
    )
    const anonymous = checkSuitePayload({ conclusion: "failure" })
    delete anonymous.sender
    expect(() => readGitHubEvent("check_suite", anonymous)).toThrow(/check_suite webhook payload: sender/)
  })
})

describe("comments that start nothing, on issues and in reviews", () => {
  const alice = { login: "alice" }
  const onIssue = (
    body: string,
    extra: { sender?: typeof alice & { type?: "Bot" }; action?: "edited" } = {},
  ) =>
    readGitHubEvent(
      "issue_comment",
      commentPayload({ repo: "acme/widgets", issue: 3, body, sender: extra.sender ?? alice, ...extra }),
    )
  const inReview = (
    body: string,
    change: (payload: ReturnType<typeof reviewCommentPayload>) => void = () => {},
  ) => {
    const payload = reviewCommentPayload({
      repo: "acme/widgets",
      pull: 4,
      reviewId: 77,
      commentId: 78,
      body,
      sender: alice,
    })
    change(payload)
    return readGitHubEvent("pull_request_review_comment", payload)
  }
  const ignored = (reason: string) => ({ kind: "ignore", reason })

  it("a new comment with a command is read; an edit, a bot's, or prwright's own is not", () => {
    expect(onIssue("/prwright fix use a map")).toMatchObject({
      kind: "request",
      request: { command: "fix", instructions: "use a map", number: 3 },
    })
    expect(onIssue("/prwright plan", { action: "edited" })).toEqual(
      ignored("issue_comment.edited is ignored"),
    )
    expect(onIssue("/prwright plan", { sender: { login: "ci[bot]" } })).toEqual(
      ignored("comments by bots are ignored"),
    )
    expect(onIssue("<!-- prwright:plan x -->\n/prwright plan")).toEqual(ignored("prwright's own comment"))
    expect(onIssue("lgtm")).toEqual(ignored("no /prwright command in the comment"))

    expect(inReview("/prwright fix rename it")).toMatchObject({
      kind: "request",
      request: { command: "fix", instructions: "rename it", reviewId: 77, number: 4 },
    })
    expect(inReview("/prwright fix rename it", (p) => (p.action = "edited"))).toEqual(
      ignored("pull_request_review_comment.edited is ignored"),
    )
    expect(inReview("/prwright fix rename it", (p) => (p.comment.user.type = "Bot"))).toEqual(
      ignored("comments by bots are ignored"),
    )
    expect(inReview("<!-- prwright:stopped y -->\n/prwright fix rename it")).toEqual(
      ignored("prwright's own comment"),
    )
    expect(inReview("/prwright plan")).toEqual(ignored("no /prwright fix in the review comment"))
  })
})
