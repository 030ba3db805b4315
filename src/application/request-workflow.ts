import { ConflictError, errorMessage, PrwrightError, ValidationError } from "#domain/errors.js"
import {
  type JobType,
  type RunStatus,
  type Trigger,
  WORKER_TYPES,
  type WorkflowRun,
} from "#domain/workflow-run.js"
import { enqueueRequestOf, type JobData, parseWith, type RunLimits, requestSchemaFor } from "./job-data.js"
import type { NewId } from "./ports/clock.js"
import { type JobQueue, stableJson } from "./ports/job-queue.js"
import type { Logger } from "./ports/logging.js"
import type { RunStore } from "./ports/run-store.js"
import type { RunJournal } from "./run-journal.js"

export interface WorkflowRequestResult {
  jobId: string
  status: RunStatus
  /** false when this jobId was already used for the same request */
  created: boolean
  run: WorkflowRun
  /** what the request should change, e.g. a deprecated field name it used */
  deprecations?: string[]
}

/** What the API, the CLI and (later) webhooks call to start a workflow. Entry points choose queued or inline. */
export interface WorkflowRequester {
  /** Validates, records a pending run and hands it to the queue. */
  enqueue(type: JobType, body: unknown, trigger: Trigger): Promise<WorkflowRequestResult>
  /** Validates and records a pending run without queueing it (for inline execution). */
  prepare(type: JobType, body: unknown, trigger: Trigger): Promise<{ run: WorkflowRun; data: JobData }>
}

const priorityOf = (data: JobData): WorkflowRun["priority"] =>
  "options" in data ? data.options.priority : data.priority

const maxAttemptsOf = (_data: JobData): number => 3

const workerTypeOf = (type: JobType) =>
  Object.entries(WORKER_TYPES).find(([, jobType]) => jobType === type)?.[0] ?? type

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * One spelling, postToGitHub: the old `postToGithub` (the seed's, top level of commentOnIssue; and in
 * autoResolveIssue's options) is still accepted, rewritten, and answered with a deprecation note.
 */
const respell = (type: JobType, body: unknown, deprecations: string[]): unknown => {
  const fix = (where: Record<string, unknown>, path: string) => {
    if (!("postToGithub" in where)) return where
    const { postToGithub, ...rest } = where
    if ("postToGitHub" in where && where.postToGitHub !== postToGithub)
      throw new ValidationError(
        `${path}postToGithub and ${path}postToGitHub disagree: send only postToGitHub`,
        [{ field: `${path}postToGithub`, message: "deprecated spelling of postToGitHub: remove it" }],
      )
    deprecations.push(`${path}postToGithub is deprecated: send ${path}postToGitHub (same meaning)`)
    return { ...rest, postToGitHub: postToGithub }
  }
  if (!isObject(body)) return body
  if (type === "comment-on-issue") return fix(body, "")
  if (type === "auto-resolve-issue" && isObject(body.options))
    return { ...body, options: fix(body.options, "options.") }
  return body
}

/** How long a request waits for the queue before answering "unavailable". */
export const QUEUE_CHECK_TIMEOUT_MS = 3_000

export const createWorkflowRequester = (deps: {
  store: RunStore
  queue?: JobQueue | undefined
  journal: RunJournal
  newId: NewId
  logger: Logger
  /** refuse a request (503) when no worker has a recent heartbeat for its type (serve sets this) */
  requireLiveWorker?: boolean | undefined
  /** concurrent runs per repository / installation; beyond them runs wait in line (absent: no limits) */
  runLimits?: RunLimits | undefined
  /**
   * throws when a run of this type cannot start with this configuration (e.g. a model without a price
   * under the cost cap): the request is refused before anything is stored
   */
  preflight?: ((type: JobType) => void) | undefined
}): WorkflowRequester => {
  /** the one parse of a request on its way to a job (the worker parses the stored job once more) */
  const validate = (type: JobType, body: unknown, deprecations: string[] = []): JobData => {
    const request = parseWith(requestSchemaFor(type), respell(type, body, deprecations), "request")
    deps.preflight?.(type)
    return { ...request, jobId: request.jobId ?? deps.newId() } as JobData
  }

  /** Returns the existing run for an idempotent repeat, throws ConflictError for a reused id. */
  const existing = async (type: JobType, data: JobData): Promise<WorkflowRun | undefined> => {
    const run = await deps.store.getRun(data.jobId)
    if (!run) return undefined
    if (run.type !== type || stableJson(run.input) !== stableJson(data)) {
      throw new ConflictError(
        `jobId ${data.jobId} was already used for a different request: send a new jobId, or omit it and one is made`,
      )
    }
    return run
  }

  const record = async (type: JobType, data: JobData, trigger: Trigger): Promise<WorkflowRun> => {
    try {
      const run = await deps.store.createRun({
        id: data.jobId,
        type,
        repoFullName: data.repoFullName,
        issueNumber: data.issueNumber,
        priority: priorityOf(data),
        input: data as unknown as Record<string, unknown>,
        trigger,
        maxAttempts: maxAttemptsOf(data),
      })
      await deps.journal.record(run.id, [
        { type: "status", status: "pending", attempt: 0, message: "queued" },
      ])
      return run
    } catch (error) {
      // Two identical requests racing: the loser answers with the winner's run.
      if (error instanceof ConflictError) {
        const run = await existing(type, data)
        if (run) return run
      }
      throw error
    }
  }

  /**
   * Before anything is stored: the queue answers, and (when required) some worker takes this type.
   * A request that cannot be served is refused with the reason instead of leaving a run pending forever.
   */
  const checkQueue = async (queue: JobQueue, type: JobType) => {
    await queue.ping?.(QUEUE_CHECK_TIMEOUT_MS)
    if (!deps.requireLiveWorker || !queue.liveWorkers) return
    const live = (await queue.liveWorkers())[type] ?? 0
    if (live > 0) return
    const workerType = workerTypeOf(type)
    throw new PrwrightError(
      "unavailable",
      `no worker is running for ${type} jobs, so nothing was queued: start one with \`prwright worker --type ${workerType}\` (or --type all), or run \`prwright serve\` without --no-workers`,
      { retryable: true },
    )
  }

  return {
    async prepare(type, body, trigger) {
      const data = validate(type, body)
      const run = (await existing(type, data)) ?? (await record(type, data, trigger))
      return { run, data }
    },

    async enqueue(type, body, trigger) {
      if (!deps.queue) throw new PrwrightError("unavailable", "this process has no job queue configured")
      const notes: string[] = []
      const data = validate(type, body, notes)
      const deprecations = notes.length > 0 ? { deprecations: notes } : {}
      const before = await existing(type, data)
      if (before)
        return { jobId: before.id, status: before.status, created: false, run: before, ...deprecations }
      await checkQueue(deps.queue, type)
      const run = await record(type, data, trigger)
      try {
        await deps.queue.enqueue(enqueueRequestOf(run, data, deps.runLimits))
      } catch (error) {
        const message = `could not queue the job: ${errorMessage(error)}`
        const failed = await deps.store.updateActiveRun(run.id, {
          status: "failed",
          error: message,
          finishedAt: new Date(),
        })
        if (failed)
          await deps.journal.record(run.id, [{ type: "status", status: "failed", attempt: 0, message }])
        throw new PrwrightError("unavailable", `${message}. Check that the queue (REDIS_URL) is reachable.`, {
          cause: error,
          retryable: true,
        })
      }
      return { jobId: run.id, status: run.status, created: true, run, ...deprecations }
    },
  }
}
