/**
 * Real webhook payloads from @octokit/webhooks-examples, changed only where a test needs it
 * (repository, issue number, label, comment body, sender), plus GitHub's delivery headers and signature.
 */
import { createHmac, randomUUID } from "node:crypto"
import { createRequire } from "node:module"

interface Definition {
  name: string
  examples: Array<Record<string, unknown>>
}

let definitions: Definition[] | undefined
const load = (): Definition[] => {
  definitions ??= createRequire(import.meta.url)(
    "@octokit/webhooks-examples/api.github.com/index.json",
  ) as Definition[]
  return definitions
}

// biome-ignore lint/suspicious/noExplicitAny: payloads are GitHub's JSON, edited freely by the tests
type Payload = Record<string, any>

/** A deep copy of the first example of `name` whose action is `action`. */
export const webhookExample = (name: string, action?: string): Payload => {
  const definition = load().find((d) => d.name === name)
  const example = definition?.examples.find((e) => action === undefined || e.action === action)
  if (!example) throw new Error(`no @octokit/webhooks-examples payload for ${name}.${action}`)
  return structuredClone(example) as Payload
}

export interface Who {
  login: string
  type?: "User" | "Bot"
}

// Every payload built here is a distinct event, as on GitHub: a fresh comment id, a fresh issue
// updated_at (prwright recognises replays by these; tests that replay pass them explicitly).
let sequence = 0
const freshId = () => 8_000_000_000 + (Date.now() % 1_000_000_000) + ++sequence * 1_000
const freshTime = () => new Date(Date.UTC(2030, 0, 1) + ++sequence * 1000).toISOString()

const retarget = (payload: Payload, repoFullName: string, issueNumber: number, sender: Who): Payload => {
  const [owner = "", name = ""] = repoFullName.split("/")
  payload.repository.full_name = repoFullName
  payload.repository.name = name
  payload.repository.owner.login = owner
  payload.issue.number = issueNumber
  payload.sender.login = sender.login
  payload.sender.type = sender.type ?? "User"
  payload.issue.updated_at = freshTime()
  return payload
}

/** `issues.labeled`: `sender` put `label` on the issue. */
export const labeledPayload = (options: {
  repo: string
  issue: number
  label: string
  sender: Who
}): Payload => {
  const payload = retarget(webhookExample("issues", "labeled"), options.repo, options.issue, options.sender)
  payload.label.name = options.label
  return payload
}

/** `issue_comment.<action>`: `sender` commented `body`; `pullRequest` makes the issue a pull request. */
export const commentPayload = (options: {
  repo: string
  issue: number
  body: string
  sender: Who
  commentId?: number
  action?: "created" | "edited" | "deleted"
  pullRequest?: boolean
}): Payload => {
  const payload = retarget(
    webhookExample("issue_comment", options.action ?? "created"),
    options.repo,
    options.issue,
    options.sender,
  )
  payload.comment.body = options.body
  payload.comment.user.login = options.sender.login
  payload.comment.user.type = options.sender.type ?? "User"
  payload.comment.id = options.commentId ?? freshId()
  if (options.pullRequest) {
    payload.issue.pull_request = {
      url: `https://api.github.com/repos/${options.repo}/pulls/${options.issue}`,
      html_url: `https://github.com/${options.repo}/pull/${options.issue}`,
      diff_url: `https://github.com/${options.repo}/pull/${options.issue}.diff`,
      patch_url: `https://github.com/${options.repo}/pull/${options.issue}.patch`,
    }
  }
  return payload
}

/** The request GitHub would send: JSON body, event and delivery headers, HMAC signature with `secret`. */
export const signedDelivery = (
  event: string,
  payload: unknown,
  options: { secret: string; deliveryId?: string; signature?: string },
): { body: string; headers: Record<string, string>; deliveryId: string } => {
  const body = JSON.stringify(payload)
  const deliveryId = options.deliveryId ?? randomUUID()
  return {
    body,
    deliveryId,
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/test",
      "x-github-event": event,
      "x-github-delivery": deliveryId,
      "x-hub-signature-256":
        options.signature ?? `sha256=${createHmac("sha256", options.secret).update(body).digest("hex")}`,
    },
  }
}

const retargetPull = (
  payload: Payload,
  repoFullName: string,
  pull: number,
  sender: Who,
  head?: string,
): Payload => {
  const [owner = "", name = ""] = repoFullName.split("/")
  payload.repository.full_name = repoFullName
  payload.repository.name = name
  payload.repository.owner.login = owner
  payload.pull_request.number = pull
  if (head) payload.pull_request.head.ref = head
  payload.sender.login = sender.login
  payload.sender.type = sender.type ?? "User"
  return payload
}

/** `pull_request_review.submitted`: `sender` submitted review `reviewId` on pull request `pull`. */
export const reviewPayload = (options: {
  repo: string
  pull: number
  reviewId: number
  state: "changes_requested" | "commented" | "approved"
  body?: string
  sender: Who
  head?: string
}): Payload => {
  const payload = retargetPull(
    webhookExample("pull_request_review", "submitted"),
    options.repo,
    options.pull,
    options.sender,
    options.head,
  )
  payload.review.id = options.reviewId
  payload.review.state = options.state
  payload.review.body = options.body ?? null
  payload.review.user.login = options.sender.login
  payload.review.user.type = options.sender.type ?? "User"
  return payload
}

/** `pull_request_review_comment.created`: one comment of review `reviewId`. */
export const reviewCommentPayload = (options: {
  repo: string
  pull: number
  reviewId: number
  commentId: number
  body: string
  sender: Who
}): Payload => {
  const payload = retargetPull(
    webhookExample("pull_request_review_comment", "created"),
    options.repo,
    options.pull,
    options.sender,
  )
  payload.comment.id = options.commentId
  payload.comment.pull_request_review_id = options.reviewId
  payload.comment.body = options.body
  payload.comment.user.login = options.sender.login
  payload.comment.user.type = options.sender.type ?? "User"
  return payload
}

/** `workflow_run.completed`: a GitHub Actions run on `headBranch` at `headSha` ended with `conclusion`. */
export const workflowRunPayload = (options: {
  repo: string
  runId: number
  headBranch: string
  headSha: string
  conclusion: "failure" | "success" | "timed_out" | "cancelled"
  name?: string
  sender?: Who
}): Payload => {
  const payload = webhookExample("workflow_run", "completed")
  const [owner = "", name = ""] = options.repo.split("/")
  payload.repository.full_name = options.repo
  payload.repository.name = name
  payload.repository.owner.login = owner
  payload.sender.login = options.sender?.login ?? "prwright-bot"
  payload.sender.type = options.sender?.type ?? "User"
  Object.assign(payload.workflow_run, {
    id: options.runId,
    name: options.name ?? "CI",
    head_branch: options.headBranch,
    head_sha: options.headSha,
    status: "completed",
    conclusion: options.conclusion,
    run_attempt: 1,
  })
  return payload
}
