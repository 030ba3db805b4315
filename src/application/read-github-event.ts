// Over ~300 lines: one Zod shape per webhook event prwright reads, and the event identity used for deduplication, side by side.
import { z } from "zod"
import { parseWith } from "./job-data.js"

/**
 * What a GitHub webhook asks prwright to do, read from the payload alone (no I/O): a label
 * (`prwright:plan`, `prwright:resolve`) or a `/prwright …` comment, or nothing. Who may ask is
 * decided later, by the repository permission of the sender.
 */

export const COMMANDS = ["plan", "resolve", "approve", "cancel", "fix", "ask", "continue"] as const
export type Command = (typeof COMMANDS)[number]

export const LABEL_COMMANDS: Record<string, Command> = {
  "prwright:plan": "plan",
  "prwright:resolve": "resolve",
}

export interface GitHubRequest {
  command: Command
  repoFullName: string
  /** the issue or pull request the label or comment is on */
  number: number
  isPullRequest: boolean
  sender: string
  /** the comment that carried the command (absent for labels) */
  commentId?: number
  /** the text after `/prwright fix` */
  instructions?: string
  /** the text after `/prwright ask` */
  question?: string
  /** the text after `/prwright continue` (`+$N`: the continued run's budget; see continue-run.ts) */
  argument?: string
  /** a review (or one of its comments) asked for the follow-up: its threads are the instructions */
  reviewId?: number | undefined
  /** "changes_requested", "commented" … for reviews */
  reviewState?: string
  /** the review's own text */
  reviewBody?: string
  /** failing CI on a branch (workflow_run / check_suite): repaired when the repository opts in */
  ci?: { workflowRunId?: number; checkSuiteId?: number; headSha: string; headBranch: string; name: string }
  /** no "you need write access" reply when the sender may not act (a review that only requests changes) */
  quietIfUnauthorized?: boolean
  /** `issues.labeled`, `issue_comment.created` … */
  event: string
  /**
   * What makes this event this event, read from the signed body: the comment's id, or the label event's
   * issue + label + the time GitHub stamped on the issue. X-GitHub-Delivery is not signed, so a replayed
   * body with a new delivery id has the same identity and is recognised as a duplicate.
   */
  identity: string
}

export type ReadEvent = { kind: "request"; request: GitHubRequest } | { kind: "ignore"; reason: string }

const user = z.object({ login: z.string(), type: z.string().optional() })
const issue = z.object({
  number: z.number().int().positive(),
  pull_request: z.unknown().optional(),
  updated_at: z.string().optional().nullable(),
})
const repository = z.object({ full_name: z.string() })

const pullRequest = z.object({ number: z.number().int().positive() })

const ReviewPayload = z.object({
  action: z.string(),
  review: z.object({
    id: z.number().int(),
    state: z.string(),
    body: z.string().nullable().optional(),
    user,
  }),
  pull_request: pullRequest,
  repository,
  sender: user,
})

const ReviewCommentPayload = z.object({
  action: z.string(),
  comment: z.object({
    id: z.number().int(),
    pull_request_review_id: z.number().int().nullable().optional(),
    body: z.string().nullable().optional(),
    user,
  }),
  pull_request: pullRequest,
  repository,
  sender: user,
})

/** What a workflow run and a check suite both say: which commit on which branch, and how it ended. */
const ciSubject = {
  id: z.number().int(),
  head_branch: z.string().nullable(),
  head_sha: z.string(),
  conclusion: z.string().nullable(),
}

const WorkflowRunPayload = z.object({
  action: z.string(),
  workflow_run: z.object({
    ...ciSubject,
    name: z.string().nullable().optional(),
    run_attempt: z.number().int().optional(),
  }),
  repository,
  sender: user,
})

const CheckSuitePayload = z.object({
  action: z.string(),
  check_suite: z.object({
    ...ciSubject,
    app: z.object({ slug: z.string().optional() }).nullable().optional(),
  }),
  repository,
  sender: user,
})

const FAILED = new Set(["failure", "timed_out"])

const IssuesPayload = z.object({
  action: z.string(),
  issue,
  label: z.object({ name: z.string() }).optional().nullable(),
  repository,
  sender: user,
})

const CommentPayload = z.object({
  action: z.string(),
  issue,
  comment: z.object({ id: z.number().int(), body: z.string().nullable().optional(), user }),
  repository,
  sender: user,
})

// A command is a line of its own; a quoted line ("> /prwright plan") does not match, so replies
// quoting a command do not repeat it.
const COMMAND_LINE = /^[ \t]*\/prwright[ \t]+([A-Za-z-]+)[ \t]*(.*)$/m

/** The first `/prwright <command>` line of a comment, with everything after the command word. */
export const parseCommand = (body: string): { word: string; rest: string } | undefined => {
  const match = COMMAND_LINE.exec(body)
  if (!match) return undefined
  const after = body.slice(match.index + match[0].length)
  return { word: (match[1] ?? "").toLowerCase(), rest: `${match[2] ?? ""}${after}`.trim() }
}

const isCommand = (word: string): word is Command => (COMMANDS as readonly string[]).includes(word)

const isBot = (sender: { login: string; type?: string | undefined }) =>
  sender.type === "Bot" || sender.login.endsWith("[bot]")

/** Why a comment (on an issue or in a review) starts nothing, whatever it says; undefined when it may. */
const ignoredComment = (
  name: string,
  event: {
    action: string
    sender: { login: string; type?: string | undefined }
    comment: { body?: string | null | undefined; user: { login: string; type?: string | undefined } }
  },
): ReadEvent | undefined => {
  // edits and deletions never trigger: an edited old command must not run twice
  if (event.action !== "created") return { kind: "ignore", reason: `${name}.${event.action} is ignored` }
  if (isBot(event.sender) || isBot(event.comment.user))
    return { kind: "ignore", reason: "comments by bots are ignored" }
  // prwright's own comments (plans, stop reports) when it posts as a user account
  if ((event.comment.body ?? "").includes("<!-- prwright:"))
    return { kind: "ignore", reason: "prwright's own comment" }
  return undefined
}

/**
 * A workflow run or check suite that completed with a failure asks for a fix on its branch (repaired
 * when the repository opts in); any other action or conclusion is ignored. `found` is what differs
 * between the two: the id's field, the name shown, and what makes the event this event.
 */
const failingCi = (
  name: "workflow_run" | "check_suite",
  event: { action: string; repository: { full_name: string }; sender: { login: string } },
  subject: { head_branch: string | null; head_sha: string; conclusion: string | null },
  found: { id: { workflowRunId: number } | { checkSuiteId: number }; name: string; key: string },
): ReadEvent => {
  if (event.action !== "completed" || !FAILED.has(subject.conclusion ?? ""))
    return { kind: "ignore", reason: `${name}.${event.action} is not a failure` }
  return {
    kind: "request",
    request: {
      command: "fix",
      repoFullName: event.repository.full_name,
      number: 0,
      isPullRequest: true,
      sender: event.sender.login,
      ci: { ...found.id, headSha: subject.head_sha, headBranch: subject.head_branch ?? "", name: found.name },
      event: `${name}.completed`,
      identity: `${name}:${event.repository.full_name}:${found.key}`,
    },
  }
}

export const readGitHubEvent = (name: string, payload: unknown): ReadEvent => {
  if (name === "issues") {
    const event = parseWith(IssuesPayload, payload, "issues webhook payload")
    if (event.action !== "labeled")
      return { kind: "ignore", reason: `issues.${event.action} is not a trigger` }
    const command = LABEL_COMMANDS[(event.label?.name ?? "").toLowerCase()]
    if (!command)
      return { kind: "ignore", reason: `label "${event.label?.name ?? ""}" is not a prwright label` }
    if (isBot(event.sender)) return { kind: "ignore", reason: "labels added by bots are ignored" }
    return {
      kind: "request",
      request: {
        command,
        repoFullName: event.repository.full_name,
        number: event.issue.number,
        isPullRequest: event.issue.pull_request != null,
        sender: event.sender.login,
        event: "issues.labeled",
        // labelling stamps the issue's updated_at, so a real second labelling is a new event
        identity: `issues.labeled:${event.repository.full_name}#${event.issue.number}:${(event.label?.name ?? "").toLowerCase()}:${event.issue.updated_at ?? "-"}`,
      },
    }
  }
  if (name === "issue_comment") {
    const event = parseWith(CommentPayload, payload, "issue_comment webhook payload")
    const ignored = ignoredComment(name, event)
    if (ignored) return ignored
    const parsed = parseCommand(event.comment.body ?? "")
    if (!parsed) return { kind: "ignore", reason: "no /prwright command in the comment" }
    if (!isCommand(parsed.word))
      return { kind: "ignore", reason: `unknown command "/prwright ${parsed.word}"` }
    return {
      kind: "request",
      request: {
        command: parsed.word,
        repoFullName: event.repository.full_name,
        number: event.issue.number,
        isPullRequest: event.issue.pull_request != null,
        sender: event.sender.login,
        commentId: event.comment.id,
        ...(parsed.word === "fix" && parsed.rest ? { instructions: parsed.rest } : {}),
        ...(parsed.word === "ask" && parsed.rest ? { question: parsed.rest } : {}),
        ...(parsed.word === "continue" && parsed.rest ? { argument: parsed.rest } : {}),
        event: "issue_comment.created",
        identity: `issue_comment:${event.repository.full_name}:${event.comment.id}`,
      },
    }
  }
  if (name === "workflow_run") {
    const event = parseWith(WorkflowRunPayload, payload, "workflow_run webhook payload")
    const run = event.workflow_run
    return failingCi(name, event, run, {
      id: { workflowRunId: run.id },
      name: run.name ?? "workflow",
      // a re-run is a new event: its attempt is part of the identity
      key: `${run.id}:${run.run_attempt ?? 1}`,
    })
  }
  if (name === "check_suite") {
    const event = parseWith(CheckSuitePayload, payload, "check_suite webhook payload")
    const suite = event.check_suite
    return failingCi(name, event, suite, {
      id: { checkSuiteId: suite.id },
      name: suite.app?.slug ?? "checks",
      key: `${suite.id}`,
    })
  }
  if (name === "pull_request_review") {
    const event = parseWith(ReviewPayload, payload, "pull_request_review webhook payload")
    if (event.action !== "submitted")
      return { kind: "ignore", reason: `pull_request_review.${event.action} is not a trigger` }
    if (isBot(event.sender) || isBot(event.review.user))
      return { kind: "ignore", reason: "reviews by bots are ignored" }
    const body = event.review.body ?? ""
    const parsed = parseCommand(body)
    const asksFix = parsed?.word === "fix"
    const state = event.review.state.toLowerCase()
    if (!asksFix && state !== "changes_requested")
      return { kind: "ignore", reason: "the review neither requests changes nor says /prwright fix" }
    return {
      kind: "request",
      request: {
        command: "fix",
        repoFullName: event.repository.full_name,
        number: event.pull_request.number,
        isPullRequest: true,
        sender: event.sender.login,
        reviewId: event.review.id,
        reviewState: state,
        reviewBody: body,
        ...(asksFix ? {} : { quietIfUnauthorized: true }),
        ...(asksFix && parsed?.rest ? { instructions: parsed.rest } : {}),
        event: "pull_request_review.submitted",
        // the review and each of its comments arrive as separate deliveries: one identity, one run
        identity: `pull_request_review:${event.repository.full_name}:${event.review.id}`,
      },
    }
  }
  if (name === "pull_request_review_comment") {
    const event = parseWith(ReviewCommentPayload, payload, "pull_request_review_comment webhook payload")
    const ignored = ignoredComment(name, event)
    if (ignored) return ignored
    const parsed = parseCommand(event.comment.body ?? "")
    if (parsed?.word !== "fix") return { kind: "ignore", reason: "no /prwright fix in the review comment" }
    const reviewId = event.comment.pull_request_review_id ?? undefined
    return {
      kind: "request",
      request: {
        command: "fix",
        repoFullName: event.repository.full_name,
        number: event.pull_request.number,
        isPullRequest: true,
        sender: event.sender.login,
        reviewId,

        ...(parsed.rest ? { instructions: parsed.rest } : {}),
        event: "pull_request_review_comment.created",
        identity:
          reviewId === undefined
            ? `pull_request_review_comment:${event.repository.full_name}:${event.comment.id}`
            : `pull_request_review:${event.repository.full_name}:${reviewId}`,
      },
    }
  }
  return { kind: "ignore", reason: `${name} events are not used` }
}

// GitHub's closing keywords: close(s|d), fix(es|ed), resolve(s|d), then #N (same repository only).
const CLOSES = /\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)[ \t]*:?[ \t]+#(\d+)\b/i

/** The issue a pull request body says it closes (`Closes #12`), if any. */
export const closedIssueOf = (body: string): number | undefined => {
  const match = CLOSES.exec(body)
  return match ? Number(match[1]) : undefined
}
