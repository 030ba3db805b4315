// Over ~300 lines: every trigger (labels, commands, reviews, CI failures) goes through the one permission, deduplication and reply path kept here; the next trigger added should split it per trigger.
import { createHash } from "node:crypto"
import { ConfigError, ConflictError, errorMessage, NotFoundError } from "#domain/errors.js"
import { createOneAtATime } from "#domain/one-at-a-time.js"
import { parseRepoRef, type RepoRef } from "#domain/repo-ref.js"
import type { JobType, Trigger, WorkflowRun } from "#domain/workflow-run.js"
import { approvePlanVersion } from "./approve-plan.js"
import { createCiRepair } from "./ci-repair.js"
import type { CiRuns } from "./ports/ci-runs.js"
import type { DeliveryStore } from "./ports/delivery-store.js"
import type { GitHub, ReactionContent, RepoPermission } from "./ports/github.js"
import type { Logger } from "./ports/logging.js"
import type { PlanStore } from "./ports/plan-store.js"
import type { RepoSettingsStore } from "./ports/repo-settings-store.js"
import type { ReviewThreads } from "./ports/review-threads.js"
import type { RunStore } from "./ports/run-store.js"
import type { QueuedComments } from "./queued-comments.js"
import { closedIssueOf, type GitHubRequest, readGitHubEvent } from "./read-github-event.js"
import type { WorkflowRequester } from "./request-workflow.js"
import { buildReviewInstructions } from "./review-follow-up.js"
import { SpendingLimitError, waitingMessage } from "./spending-limits.js"
import { continueRequest, findStoppedRun, parseContinueBudget } from "./workflows/continue-run.js"

/**
 * Webhook intake: labels and `/prwright` comments become workflow runs, for people with write
 * access only. A delivery is handled once (redeliveries are recorded duplicates), an issue has at
 * most one active run, and someone without access gets one polite reply per issue, not one per try.
 */

export interface GitHubEvent {
  /** X-GitHub-Event */
  name: string
  /** X-GitHub-Delivery */
  deliveryId: string
  payload: unknown
}

export type GitHubEventOutcome =
  | { outcome: "started"; jobId: string; type: JobType; repoFullName: string; issueNumber: number }
  | { outcome: "cancelled"; jobId: string; reason: string }
  /** a run for the issue is already pending or running: that one is the answer */
  | { outcome: "already-active"; jobId: string; reason: string }
  | { outcome: "ignored" | "duplicate" | "not-authorized"; reason: string }
  /** a spending limit is reached, or the configuration cannot run it (a model without a price): nothing
   * started, and the issue says why */
  | { outcome: "refused"; reason: string }

export type HandleGitHubEvent = (event: GitHubEvent) => Promise<GitHubEventOutcome>

const WRITERS: ReadonlySet<RepoPermission> = new Set(["admin", "maintain", "write"])

/** The marker of the one "you need write access" reply per user and issue. */
export const accessReplyMarker = (login: string) => `<!-- prwright:no-access ${login.toLowerCase()} -->`

/** The delivery store's key for an event: its identity, hashed to a fixed length. */
export const eventKey = (request: { identity: string }): string =>
  `event:${createHash("sha256").update(request.identity).digest("hex").slice(0, 40)}`

/**
 * The job id an event starts, derived from the event's identity (see `GitHubRequest.identity`) (a name-based UUID, version 5 layout), so
 * that even a delivery handled twice (a crash before it was recorded) maps onto the same run.
 */
export const deliveryJobId = (deliveryId: string): string => {
  const bytes = createHash("sha1").update(`prwright:github-delivery:${deliveryId}`).digest().subarray(0, 16)
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80
  const hex = bytes.toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export const createHandleGitHubEvent = (deps: {
  github: GitHub
  runs: RunStore
  deliveries: DeliveryStore
  requester: WorkflowRequester
  cancelRun: (jobId: string) => Promise<WorkflowRun>
  /** stored plan versions: `/prwright approve` approves the newest and implements exactly it */
  plans?: PlanStore
  logger: Logger
  /** review comments and threads, for review follow-ups (absent: reviews are ignored) */
  threads?: ReviewThreads | undefined
  /** GitHub Actions runs and logs, for CI repair (absent: failing CI is ignored) */
  ci?: CiRuns | undefined
  /** per-repository settings of the API (`fixCi`, `fixCiAttempts`) */
  settings?: RepoSettingsStore
  /** posts a run's place in line and estimated start on its issue when it has to wait (fair queue) */
  queued?: Pick<QueuedComments, "announce">
  /** head branches of prwright's pull requests start with this (default "prwright/") */
  branchPrefix?: string
  /** how long a user's permission is remembered (default 30 s; 0 asks GitHub every time) */
  permissionTtlMs?: number
  now?: () => number
}): HandleGitHubEvent => {
  const log = deps.logger.child({ component: "github-webhook" })
  const branchPrefix = deps.branchPrefix ?? "prwright/"
  const repairCi = deps.ci
    ? createCiRepair({
        ci: deps.ci,
        github: deps.github,
        runs: deps.runs,
        settings: deps.settings,
        branchPrefix,
      })
    : undefined

  // A burst of deliveries from one person (a review with ten comments, a label storm) asks GitHub once.
  const permissionTtlMs = deps.permissionTtlMs ?? 30_000
  const now = deps.now ?? Date.now
  const permissions = new Map<string, { permission: Promise<RepoPermission>; until: number }>()
  const permissionOf = (repo: RepoRef, user: string): Promise<RepoPermission> => {
    const key = `${repo.fullName.toLowerCase()} ${user.toLowerCase()}`
    const cached = permissions.get(key)
    if (cached && cached.until > now()) return cached.permission
    const permission = deps.github.getPermission(repo, user)
    if (permissionTtlMs > 0) {
      if (permissions.size > 10_000) permissions.clear()
      permissions.set(key, { permission, until: now() + permissionTtlMs })
      // a failed lookup is not remembered
      permission.catch(() => permissions.delete(key))
    }
    return permission
  }

  /** the issue's newest pending or running run: one query, along the issue's own runs */
  const activeRun = async (repo: RepoRef, issueNumber: number): Promise<WorkflowRun | undefined> =>
    (
      await deps.runs.listRuns({
        repoFullName: repo.fullName,
        issueNumber,
        statuses: ["pending", "running"],
        limit: 1,
      })
    ).runs[0]

  // Feedback on the command's comment is a courtesy: GitHub being slow must neither fail the delivery
  // nor hold its answer (GitHub wants the answer within 10 s; a reaction is a round trip to it), so it
  // is sent in the background and a failure is only logged.
  const react = (repo: RepoRef, request: GitHubRequest, content: ReactionContent): void => {
    if (request.commentId === undefined) return
    void deps.github.addReaction(repo, request.commentId, content).catch((error: unknown) =>
      log.warn("could not react to the command comment", {
        repo: repo.fullName,
        error: errorMessage(error),
      }),
    )
  }

  const reply = async (repo: RepoRef, number: number, body: string) => {
    await deps.github
      .createIssueComment(repo, number, body)
      .catch((error: unknown) =>
        log.warn("could not reply on GitHub", { repo: repo.fullName, number, error: errorMessage(error) }),
      )
  }

  const replyNoAccess = async (repo: RepoRef, request: GitHubRequest): Promise<boolean> => {
    const marker = accessReplyMarker(request.sender)
    if (await deps.github.findIssueComment(repo, request.number, marker)) return false
    const what = request.commentId === undefined ? "label" : "command"
    await deps.github.createIssueComment(
      repo,
      request.number,
      `@${request.sender} thanks for your interest! prwright only acts on \`/prwright\` commands and ` +
        `\`prwright:\` labels from people with write access to ${repo.fullName}, so this ${what} was ` +
        `not acted on. A maintainer can start it for you.\n\n${marker}`,
    )
    return true
  }

  // The active-run check and the enqueue are one step per issue in this process: two triggers for one
  // issue arriving together would otherwise both see no active run and both start one.
  const oneAtATime = createOneAtATime()

  const start = (
    event: GitHubEvent,
    request: GitHubRequest,
    repo: RepoRef,
    type: JobType,
    issueNumber: number,
    fields: Record<string, unknown>,
    /**
     * false for follow-ups (questions, review fixes, CI repairs): they wait in line behind the issue's
     * active run (the queue keeps one active run per issue) instead of being refused
     */
    exclusive = true,
  ): Promise<GitHubEventOutcome> =>
    oneAtATime(`${repo.fullName.toLowerCase()}#${issueNumber}`, async () => {
      const active = exclusive ? await activeRun(repo, issueNumber) : undefined
      if (active) {
        react(repo, request, "eyes")
        return {
          outcome: "already-active",
          jobId: active.id,
          reason: `${repo.fullName}#${issueNumber} already has a ${active.status} run (${active.type}); it was not started twice`,
        }
      }
      const trigger: Trigger = { source: "webhook", actor: request.sender, deliveryId: event.deliveryId }
      // The event's run id, unless a run under it already ended: then handling this event failed after the
      // run was recorded (e.g. the queue refused the job) and the event was forgotten so that GitHub's
      // redelivery acts on it. That redelivery gets a run of its own instead of the dead one's answer.
      let jobId = deliveryJobId(request.identity)
      for (let retry = 1; retry <= 5; retry++) {
        const earlier = await deps.runs.getRun(jobId)
        if (!earlier || (earlier.status !== "failed" && earlier.status !== "cancelled")) break
        jobId = deliveryJobId(`${request.identity}#redelivery-${retry}`)
      }
      let result: Awaited<ReturnType<WorkflowRequester["enqueue"]>>
      try {
        result = await deps.requester.enqueue(
          type,
          { ...fields, repoFullName: repo.fullName, issueNumber, jobId },
          trigger,
        )
      } catch (error) {
        // the requester checks the spending limits (repository and installation) before storing anything
        if (error instanceof SpendingLimitError) {
          react(repo, request, "confused")
          await reply(repo, issueNumber, `@${request.sender} ${error.message}`)
          log.info("webhook trigger refused: spending limit reached", {
            repo: repo.fullName,
            scope: error.check.scope,
            period: error.check.period,
          })
          return { outcome: "refused", reason: error.message }
        }
        // the configuration cannot run it (e.g. a model without a price under the cost cap): a
        // redelivery cannot help either, so say so on the issue once, like a spending limit
        if (!(error instanceof ConfigError)) throw error
        react(repo, request, "confused")
        await reply(repo, issueNumber, `@${request.sender} prwright cannot start this run: ${error.message}`)
        log.warn("webhook trigger refused by the configuration", {
          repo: repo.fullName,
          error: error.message,
        })
        return { outcome: "refused", reason: error.message }
      }
      if (result.overLimit && result.created) {
        // past a spending limit with PRWRIGHT_SPEND_LIMIT_ACTION=wait: stored, queued after the reset
        react(repo, request, "eyes")
        await reply(
          repo,
          issueNumber,
          `@${request.sender} ${waitingMessage(repo.fullName, result.overLimit)}`,
        )
      } else {
        react(repo, request, "rocket")
        // the place in line goes to the issue in the background: the delivery's answer never waits for it
        if (result.created) deps.queued?.announce(result.run, request.sender)
      }
      log.info("webhook started a run", {
        jobId: result.jobId,
        type,
        repo: repo.fullName,
        issueNumber,
        actor: request.sender,
        deliveryId: event.deliveryId,
      })
      return { outcome: "started", jobId: result.jobId, type, repoFullName: repo.fullName, issueNumber }
    })

  /** The issue a comment on prwright's pull request is about, or why there is none. */
  const issueOfPullRequest = async (repo: RepoRef, number: number): Promise<number | string> => {
    const pr = await deps.github.getPullRequest(repo, number)
    if (!pr.head.startsWith(branchPrefix))
      return `pull request #${number} was not opened by prwright (its branch does not start with ${branchPrefix})`
    return (
      closedIssueOf(pr.body) ??
      `pull request #${number} does not say which issue it closes ("Closes #N" in its description)`
    )
  }

  const act = async (
    event: GitHubEvent,
    request: GitHubRequest,
    repo: RepoRef,
  ): Promise<GitHubEventOutcome> => {
    const ignore = async (reason: string, explain?: string): Promise<GitHubEventOutcome> => {
      react(repo, request, "confused")
      if (explain) await reply(repo, request.number, explain)
      return { outcome: "ignored", reason }
    }
    if (request.isPullRequest && !["fix", "cancel", "ask", "continue"].includes(request.command))
      return ignore(`/prwright ${request.command} works on issues, not pull requests`)
    switch (request.command) {
      case "plan":
        return start(event, request, repo, "comment-on-issue", request.number, { postToGitHub: true })
      case "resolve":
        return start(event, request, repo, "auto-resolve-issue", request.number, {
          options: { createPR: true, postToGitHub: true },
        })
      case "approve": {
        // The issue's newest stored plan version is approved and implemented exactly (approve-plan.ts).
        if (deps.plans) {
          const approved = await approvePlanVersion(deps.plans, {
            repoFullName: repo.fullName,
            issueNumber: request.number,
          }).catch((error: unknown) => (error instanceof NotFoundError ? undefined : Promise.reject(error)))
          if (approved)
            return start(event, request, repo, "resolve-issue", request.number, { planId: approved.id })
        }
        // plans written before versions were stored: the newest finished planning run
        const plans = await deps.runs.listRuns({
          repoFullName: repo.fullName,
          issueNumber: request.number,
          type: "comment-on-issue",
          status: "completed",
          limit: 1,
        })
        const plan = plans.runs[0]
        if (!plan)
          return ignore(
            "there is no finished plan to approve",
            `@${request.sender} there is no finished plan for this issue yet: comment \`/prwright plan\` first, then \`/prwright approve\` once the plan is posted.`,
          )
        return start(event, request, repo, "resolve-issue", request.number, { planId: plan.id })
      }
      case "fix": {
        if (!request.isPullRequest)
          return ignore("/prwright fix works on prwright's pull requests, not on issues")
        if (!request.instructions && request.reviewId === undefined)
          return ignore(
            "/prwright fix needs instructions",
            `@${request.sender} say what to change after the command, e.g. \`/prwright fix rename the helper to clamp\`.`,
          )
        const issue = await issueOfPullRequest(repo, request.number)
        if (typeof issue === "string") return ignore(issue)
        if (request.reviewId === undefined)
          return start(
            event,
            request,
            repo,
            "resolve-issue",
            issue,
            { instructions: request.instructions },
            false,
          )
        if (!deps.threads) return ignore("review follow-ups need access to review threads (a GitHub token)")
        const instructions = await buildReviewInstructions({
          github: deps.github,
          threads: deps.threads,
          repo,
          pullNumber: request.number,
          reviewId: request.reviewId,
          reviewer: request.sender,
          reviewBody: request.reviewBody,
          extra: request.instructions,
        })
        return start(event, request, repo, "resolve-issue", issue, { instructions }, false)
      }
      case "ask": {
        if (!request.question)
          return ignore(
            "/prwright ask needs a question",
            `@${request.sender} put the question after the command, e.g. \`/prwright ask where is the retry policy decided?\``,
          )
        return start(
          event,
          request,
          repo,
          "answer-question",
          request.number,
          { question: request.question },
          false,
        )
      }
      case "continue": {
        // goes on from the issue's run that stopped on its budget (workflows/continue-run.ts)
        const target = request.isPullRequest ? await issueOfPullRequest(repo, request.number) : request.number
        if (typeof target === "string") return ignore(target)
        const budget = parseContinueBudget(request.argument)
        if (typeof budget === "object") return ignore(budget.error, `@${request.sender} ${budget.error}`)
        const stopped = await findStoppedRun(deps.runs, repo.fullName, target)
        if (typeof stopped === "string") return ignore(stopped, `@${request.sender} ${stopped}`)
        return start(event, request, repo, "resolve-issue", target, continueRequest(stopped, budget))
      }
      case "cancel": {
        const target = request.isPullRequest ? await issueOfPullRequest(repo, request.number) : request.number
        if (typeof target === "string") return ignore(target)
        const run = await activeRun(repo, target)
        if (!run) return ignore(`${repo.fullName}#${target} has no pending or running run to cancel`)
        try {
          await deps.cancelRun(run.id)
        } catch (error) {
          // it ended between the lookup and the cancel: nothing left to stop
          if (error instanceof ConflictError) return ignore(errorMessage(error))
          throw error
        }
        react(repo, request, "+1")
        log.info("webhook cancelled a run", { jobId: run.id, actor: request.sender })
        return { outcome: "cancelled", jobId: run.id, reason: `cancel requested by ${request.sender}` }
      }
    }
  }

  return async (event) => {
    const read = readGitHubEvent(event.name, event.payload)
    if (read.kind === "ignore") return { outcome: "ignored", reason: read.reason }
    const { request } = read
    const repo = parseRepoRef(request.repoFullName, "repository.full_name")
    // Recorded before acting, so concurrent copies race on the store's unique key, not on GitHub. The key
    // is the event's identity from the signed body: X-GitHub-Delivery is not signed, and a captured body
    // replayed under fresh delivery ids must not start fresh paid runs.
    const key = eventKey(request)
    const fresh = await deps.deliveries.recordDelivery({ id: key, event: request.event })
    if (!fresh)
      return {
        outcome: "duplicate",
        reason: `this ${request.event} event was handled already (delivery ${event.deliveryId} repeats it)`,
      }

    try {
      // CI is not a person asking: the repository's own opt-in decides (see ci-repair.ts)
      if (request.ci) {
        if (!repairCi) return { outcome: "ignored", reason: "CI repair needs GitHub access for Actions logs" }
        const decision = await repairCi(request, repo)
        if (decision.kind === "ignore") return { outcome: "ignored", reason: decision.reason }
        // one failure may arrive as a workflow_run and a check_suite: one attempt per fingerprint
        const attempt = {
          ...request,
          identity: `ci-repair:${repo.fullName}:${decision.pullNumber}:${decision.fingerprint}`,
        }
        if (!(await deps.deliveries.recordDelivery({ id: eventKey(attempt), event: "ci-repair" })))
          return { outcome: "duplicate", reason: `failure ${decision.fingerprint} is already being repaired` }
        const outcome = await start(
          event,
          attempt,
          repo,
          "resolve-issue",
          decision.issueNumber,
          { instructions: decision.instructions },
          false,
        ).catch(async (error: unknown) => {
          await deps.deliveries.forgetDelivery(eventKey(attempt)).catch(() => undefined)
          throw error
        })
        // another run holds the issue: this failure was not tried, so a later delivery of it may be
        if (outcome.outcome !== "started") await deps.deliveries.forgetDelivery(eventKey(attempt))
        return outcome
      }
      const permission = await permissionOf(repo, request.sender)
      if (!WRITERS.has(permission)) {
        const replied = request.quietIfUnauthorized ? false : await replyNoAccess(repo, request)
        log.info("webhook trigger from a user without write access", {
          repo: repo.fullName,
          number: request.number,
          actor: request.sender,
          permission,
          replied,
        })
        return {
          outcome: "not-authorized",
          reason: `${request.sender} has ${permission} access to ${repo.fullName}; write access is needed`,
        }
      }
      // awaited here, so a failure while acting (the queue down) reaches the catch below
      return await act(event, request, repo)
    } catch (error) {
      // Acting failed (GitHub or the store was down): let GitHub's redelivery try again.
      await deps.deliveries.forgetDelivery(key).catch(() => undefined)
      throw error
    }
  }
}
