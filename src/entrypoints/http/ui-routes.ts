/**
 * The API routes the web UI reads and acts through (also usable with a bearer token): runs with the
 * fields a table needs, a run's events paged as JSON, retry, plans and their approval, the overview
 * figures and the setup checks. Shapes live in ui-schemas.ts.
 */

import type { Context, Hono } from "hono"
import type { ApprovePlan } from "#application/approve-plan.js"
import { parseWith } from "#application/job-data.js"
import type { PlanStore, StoredPlan } from "#application/ports/plan-store.js"
import type { RunStore } from "#application/ports/run-store.js"
import type { WorkflowRequester } from "#application/request-workflow.js"
import { describePlace, type RunPlaces } from "#application/run-place.js"
import { ConflictError, NotFoundError, PrwrightError, ValidationError } from "#domain/errors.js"
import type { RunEvent } from "#domain/run-event.js"
import { isTerminal, PRIORITIES, type Trigger, type WorkflowRun } from "#domain/workflow-run.js"
import { acceptedBody } from "./job-status.js"
import { summarizeOverview } from "./overview.js"
import type { AuthEnv } from "./session.js"
import {
  ApproveRequestSchema,
  EventPageQuerySchema,
  OverviewQuerySchema,
  type Plan,
  type QueuePlace,
  RunListQuerySchema,
  type RunSummary,
  type Setup,
} from "./ui-schemas.js"

export interface UiRouteDeps {
  store: RunStore
  requester: WorkflowRequester
  plans?: PlanStore
  approvePlan?: ApprovePlan
  /** the `prwright doctor` checks */
  setup?: () => Promise<Setup["checks"]>
  /** GitHub's web address for links (https://github.com for api.github.com) */
  githubWebUrl?: string
  /** PRWRIGHT_PUBLIC_URL, for the webhook URL shown on the setup page */
  publicUrl?: string | undefined
  webhookSecretSet?: boolean
  limits?: { maxCostUsd?: number; maxSteps?: number }
  /** the queue's place in line (the figure GET /api/jobs/:id shows); absent: ordered from the store */
  runPlaces?: RunPlaces
}

/** a waiting run's place for the UI: always a number, the queue's details where it holds the run */
interface QueueInfo {
  position: number
  queue?: QueuePlace
}

const triggerOf = (c: Context<AuthEnv>): Trigger => {
  const actor = c.get("actor")
  const via = c.get("via")
  return { source: via === "session" ? "ui" : "api", ...(actor ? { actor } : {}) }
}

const queryOf = (c: Context) => Object.fromEntries(Object.entries(c.req.query()))

const planOf = (plan: StoredPlan): Plan => ({
  id: plan.id,
  repoFullName: plan.repoFullName,
  issueNumber: plan.issueNumber,
  version: plan.version,
  status: plan.status,
  body: plan.body,
  ...(plan.runId ? { runId: plan.runId } : {}),
  ...(plan.commentUrl ? { commentUrl: plan.commentUrl } : {}),
  createdAt: plan.createdAt.toISOString(),
  updatedAt: plan.updatedAt.toISOString(),
})

export const serializeEvent = (event: RunEvent) => ({ ...event, at: event.at.toISOString() })

export const registerUiRoutes = (api: Hono<AuthEnv>, deps: UiRouteDeps): void => {
  // Steps of a finished run never change: counted once. Bounded, oldest out first.
  const finishedSteps = new Map<string, number>()
  const countSteps = async (run: WorkflowRun): Promise<number> => {
    const known = finishedSteps.get(run.id)
    if (known !== undefined) return known
    let steps = 0
    let after = 0
    for (;;) {
      const events = await deps.store.listEvents(run.id, { afterSeq: after, limit: 1000 })
      for (const event of events) if (event.type === "tool-call") steps += 1
      if (events.length < 1000) break
      after = events.at(-1)?.seq ?? after
    }
    if (isTerminal(run.status)) {
      finishedSteps.set(run.id, steps)
      if (finishedSteps.size > 5000) finishedSteps.delete(finishedSteps.keys().next().value as string)
    }
    return steps
  }

  /**
   * Each waiting run's 1-based place: the queue's own figure with what it waits for and an estimate
   * where the queue holds the run, else its place in its job type's waiting runs (priority, then age).
   */
  const queuePositions = async (runs: WorkflowRun[]): Promise<Map<string, QueueInfo>> => {
    const positions = new Map<string, QueueInfo>()

    const types = new Set(runs.filter((run) => run.status === "pending").map((run) => run.type))
    for (const type of types) {
      const page = await deps.store.listRuns({ status: "pending", type, limit: 200 })
      const rank = (run: WorkflowRun) => PRIORITIES.indexOf(run.priority)
      const ordered = [...page.runs].sort(
        (a, b) => rank(b) - rank(a) || a.createdAt.getTime() - b.createdAt.getTime(),
      )
      ordered.forEach((run, index) => {
        positions.set(run.id, { position: index + 1 })
      })
    }
    // the queue's own figure where it has one (the GET /api/jobs/:id place: among the runs waiting
    // for the same limit, issue or worker); runs it does not hold keep their place in the store's order
    const places = deps.runPlaces
    if (places)
      await Promise.all(
        runs
          .filter((run) => run.status === "pending")
          .map(async (run) => {
            const place = await places(run).catch(() => undefined)
            if (place)
              positions.set(run.id, {
                position: place.place,
                queue: { ...place, description: describePlace(place) },
              })
          }),
      )
    return positions
  }

  const web = deps.githubWebUrl?.replace(/\/+$/, "")
  const summarize = async (run: WorkflowRun, positions?: Map<string, QueueInfo>): Promise<RunSummary> => {
    const a = run.artifacts
    const planId =
      run.type === "comment-on-issue"
        ? (await deps.plans?.getPlan(run.id))?.id
        : typeof run.input.planId === "string"
          ? run.input.planId
          : undefined
    const position = positions?.get(run.id)
    return {
      jobId: run.id,
      type: run.type,
      status: run.status,
      progress: run.progress,
      ...(run.progressMessage ? { progressMessage: run.progressMessage } : {}),
      attempts: run.attempts,
      maxAttempts: run.maxAttempts,
      repoFullName: run.repoFullName,
      issueNumber: run.issueNumber,
      issueUrl: web ? `${web}/${run.repoFullName}/issues/${run.issueNumber}` : undefined,
      ...(web && a.branchName ? { branchUrl: `${web}/${run.repoFullName}/tree/${a.branchName}` } : {}),
      priority: run.priority,
      trigger: run.trigger,
      usage: run.usage,
      artifacts: {
        // truthiness, not undefined: an empty value stays out of the answer too
        ...(a.planCommentUrl ? { planCommentUrl: a.planCommentUrl } : {}),
        ...(a.pullRequestUrl ? { pullRequestUrl: a.pullRequestUrl } : {}),
        ...(a.pullRequestNumber ? { pullRequestNumber: a.pullRequestNumber } : {}),
        pullRequestDraft: a.pullRequestDraft,
        ...(a.branchName ? { branchName: a.branchName } : {}),
        ...(a.commitHash ? { commitHash: a.commitHash } : {}),
        filesChanged: a.filesChanged,
        ...(a.failureCommentUrl ? { failureCommentUrl: a.failureCommentUrl } : {}),
      },
      steps: await countSteps(run),
      queuePosition: position?.position,
      ...(position?.queue ? { queue: position.queue } : {}),
      planId,
      ...(run.error ? { error: run.error } : {}),
      createdAt: run.createdAt.toISOString(),
      updatedAt: run.updatedAt.toISOString(),
      startedAt: run.startedAt?.toISOString(),
      finishedAt: run.finishedAt?.toISOString(),
      ...(run.startedAt && run.finishedAt
        ? { durationMs: run.finishedAt.getTime() - run.startedAt.getTime() }
        : {}),
    }
  }

  const getRun = async (jobId: string) => {
    const run = await deps.store.getRun(jobId)
    if (!run) throw new NotFoundError(`no run with id ${jobId}: check the id (GET /api/runs lists them)`)
    return run
  }

  api.get("/runs", async (c) => {
    const q = parseWith(RunListQuerySchema, queryOf(c), "query")
    const page = await deps.store.listRuns({
      limit: q.limit,
      // an empty query parameter means unset
      status: q.status,
      type: q.type,
      repoFullName: q.repo || undefined,
      cursor: q.cursor || undefined,
    })
    const positions = await queuePositions(page.runs)
    const runs = await Promise.all(page.runs.map((run) => summarize(run, positions)))
    return c.json({ runs, nextCursor: page.nextCursor })
  })

  api.get("/runs/:jobId", async (c) => {
    const run = await getRun(c.req.param("jobId"))
    const positions = run.status === "pending" ? await queuePositions([run]) : undefined
    return c.json({
      run: await summarize(run, positions),
      input: run.input,
      ...(run.summary ? { summary: run.summary } : {}),
      budget: {
        ...(deps.limits?.maxCostUsd ? { maxCostUsd: deps.limits.maxCostUsd } : {}),
        ...(deps.limits?.maxSteps ? { maxSteps: deps.limits.maxSteps } : {}),
      },
    })
  })

  api.get("/runs/:jobId/events", async (c) => {
    const jobId = c.req.param("jobId")
    const q = parseWith(EventPageQuerySchema, queryOf(c), "query")
    await getRun(jobId)
    const events = await deps.store.listEvents(jobId, { afterSeq: q.after, limit: q.limit + 1 })
    const page = events.slice(0, q.limit)
    const lastSeq = page.at(-1)?.seq ?? q.after
    return c.json({
      events: page.map(serializeEvent),
      nextAfter: events.length > q.limit ? lastSeq : undefined,
      lastSeq,
    })
  })

  api.post("/runs/:jobId/retry", async (c) => {
    const run = await getRun(c.req.param("jobId"))
    if (run.status !== "failed" && run.status !== "cancelled") {
      throw new ConflictError(
        `run ${run.id} is ${run.status}: only a failed or cancelled run can be retried (a new run with the same request)`,
      )
    }
    const { jobId: _old, ...request } = run.input
    const result = await deps.requester.enqueue(run.type, request, triggerOf(c))
    return c.json(acceptedBody(result), 202)
  })

  api.get("/plans/:planId", async (c) => {
    const plan = await deps.plans?.getPlan(c.req.param("planId"))
    if (!plan) throw new NotFoundError(`no plan with id ${c.req.param("planId")}`)
    return c.json(planOf(plan))
  })

  api.post("/plans/:planId/approve", async (c) => {
    if (!deps.approvePlan) throw new PrwrightError("unavailable", "plan approval is not available here")
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      throw new ValidationError('the request body must be a JSON object like {"version": 1}', [
        { field: "version", message: "required: the plan version you approve" },
      ])
    }
    const { version } = parseWith(ApproveRequestSchema, body, "approval")
    const result = await deps.approvePlan({ planId: c.req.param("planId"), version, trigger: triggerOf(c) })
    return c.json({ ...acceptedBody(result), plan: planOf(result.plan) }, 202)
  })

  api.get("/overview", async (c) => {
    const q = parseWith(OverviewQuerySchema, queryOf(c), "query")
    const to = new Date()
    const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate() - (q.days - 1)))
    const runs: WorkflowRun[] = []
    let cursor: string | undefined
    let truncated = false
    for (;;) {
      const page = await deps.store.listRuns({ limit: 200, cursor })
      const inRange = page.runs.filter((run) => run.createdAt >= from)
      runs.push(...inRange)
      if (inRange.length < page.runs.length || !page.nextCursor) break
      if (runs.length >= 10_000) {
        truncated = true
        break
      }
      cursor = page.nextCursor
    }
    return c.json(summarizeOverview(runs, { from, to, days: q.days, truncated }))
  })

  api.get("/setup", async (c) => {
    const origin = new URL(c.req.url).origin
    const checks = deps.setup ? await deps.setup() : []
    return c.json({
      webhookUrl: `${deps.publicUrl ?? origin}/api/webhooks/github`,
      webhookSecretSet: Boolean(deps.webhookSecretSet),
      checks,
    })
  })
}
