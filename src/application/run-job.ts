import {
  CancelledError,
  errorMessage,
  isRetryable,
  NonRetryableError,
  PrwrightError,
} from "#domain/errors.js"
import type { RunEventData } from "#domain/run-event.js"
import type { WorkflowRun } from "#domain/workflow-run.js"
import {
  type Artifacts,
  addUsage,
  isTerminal,
  type JobType,
  type RunStatus,
  type Usage,
  ZERO_USAGE,
} from "#domain/workflow-run.js"
import { differingFields, type JobDataByType, type JobResult, jobResultOf, parseJobData } from "./job-data.js"
import type { Clock } from "./ports/clock.js"
import type { JobContext, JobHandler } from "./ports/job-queue.js"
import type { Logger } from "./ports/logging.js"
import type { RunPatch, RunStore } from "./ports/run-store.js"
import type { RunJournal } from "./run-journal.js"

/** how often run events also count as progress for the queue's idle timeout */
const ACTIVITY_BEAT_MS = 1_000

/** What a workflow gets for one attempt of a run. */
export interface RunContext<T extends JobType = JobType> {
  run: WorkflowRun
  data: JobDataByType[T]
  attempt: number
  signal: AbortSignal
  /** record events (model calls are also added to the run's usage) */
  emit(...events: RunEventData[]): Promise<void>
  progress(percent: number, message: string): Promise<void>
  /** persist artifacts as soon as they exist, so a retried attempt reuses them (no second comment or PR) */
  saveArtifacts(artifacts: Artifacts): Promise<void>
  /** true when a failure with this error ends the run (no attempt follows) */
  isFinal(error: unknown): boolean
  /** true when the run stops because someone cancelled it (not a shutdown, timeout or lost lease) */
  isCancelled(error: unknown): boolean
  /**
   * Throws a RunEndedError when the run has ended elsewhere (e.g. cancelled while this worker was out
   * of touch). Workflows call it right before anything reaches GitHub (a comment, a push, a PR), so a
   * cancelled run leaves nothing half-made; progress, artifacts and usage updates check it too.
   */
  ensureActive(): Promise<void>
  usage(): Usage
  /**
   * Work that must not hold up the run's end (saving a cancelled run's work in progress): done after
   * this attempt recorded the terminal status, before the job is released; its failures are logged.
   * While it runs, ensureActive passes and saveArtifacts writes (the run ended here, not elsewhere);
   * when the run had ended elsewhere instead, the tasks still run but ensureActive refuses.
   */
  afterEnd?(task: () => Promise<void>): void
}

export interface WorkflowOutcome {
  artifacts: Artifacts
  summary?: string
}

export type Workflow<T extends JobType> = (context: RunContext<T>) => Promise<WorkflowOutcome>
export type Workflows = { [T in JobType]?: Workflow<T> }

/**
 * The run was ended by someone else while this attempt ran (a cancel whose acknowledgement was lost,
 * so the API ended it itself): the attempt stops and its outcome is dropped; the run keeps its end.
 */
export class RunEndedError extends CancelledError {
  constructor(
    readonly runId: string,
    readonly status: RunStatus,
  ) {
    super(`run ${runId} already ended as ${status}; this attempt's work is dropped`)
    this.name = "RunEndedError"
  }
}

/**
 * What actually stopped an attempt. Queues abort the job's signal with a typed reason: a
 * CancelledError for a cancel, a RetryableError for shutdown, idle timeout or a lost lease, a
 * NonRetryableError for a wall-clock timeout. The handler then usually throws a CancelledError of
 * its own, which must not hide that reason (a shutdown is retried, not recorded as cancelled).
 */
export const effectiveError = (signal: AbortSignal, caught: unknown): unknown => {
  if (!signal.aborted || caught instanceof RunEndedError) return caught
  const reason: unknown = signal.reason
  if (reason instanceof PrwrightError && !(reason instanceof CancelledError)) return reason
  return caught instanceof CancelledError ? caught : new CancelledError()
}

/**
 * Runs one attempt of a job: the lifecycle every workflow shares (status, attempts, usage, errors),
 * used by queue workers and by inline execution alike.
 */
export const createJobRunner = (deps: {
  store: RunStore
  journal: RunJournal
  workflows: Workflows
  logger: Logger
  clock: Clock
}): JobHandler => {
  return async (job: JobContext): Promise<JobResult> => {
    const log = deps.logger.child({ jobId: job.jobId, type: job.type, attempt: job.attempt })
    let data: JobDataByType[JobType]
    try {
      data = parseJobData(job.type, job.data)
    } catch (error) {
      // A job written by another version, or tampered with: retrying cannot fix it.
      const message = `${errorMessage(error)} (the job data no longer parses; enqueue it again)`
      const stale = await deps.store.getRun(job.jobId)
      const failed =
        stale && !isTerminal(stale.status)
          ? await deps.store.updateActiveRun(stale.id, {
              status: "failed",
              error: message,
              finishedAt: deps.clock.now(),
            })
          : undefined
      if (failed) {
        await deps.journal.record(failed.id, [
          { type: "status", status: "failed", attempt: job.attempt, message },
        ])
      }
      throw new NonRetryableError(message)
    }
    const workflow = deps.workflows[job.type] as Workflow<JobType> | undefined
    if (!workflow) {
      throw new NonRetryableError(`no workflow handles ${job.type} jobs in this version of prwright`)
    }

    let run = await deps.store.getRun(job.jobId)
    if (!run) {
      // Every job prwright queues has its run recorded first: a job without one was written by
      // something else with access to the queue (or outlived its database).
      log.error("refused a job that has no run record: possible queue tampering", {
        event: "job-tampering",
      })
      throw new NonRetryableError(
        `run ${job.jobId} is not in the run store: the job was refused (nothing was done); if it was not queued by prwright, someone else can write to the queue — protect Redis with a password (REDIS_URL)`,
        { code: "forbidden" },
      )
    }
    if (isTerminal(run.status)) {
      // At-least-once delivery: a run already finished is not executed a second time.
      log.warn("job delivered for a finished run; returning its recorded outcome", { status: run.status })
      return jobResultOf(run)
    }

    // What the worker acts on is the run record (written when the request was validated), never the
    // queue's copy: job data that disagrees with it was changed in the queue, and is refused loudly.
    const tampering = (() => {
      if (run.type !== job.type) return ["type"]
      let recorded: JobDataByType[JobType]
      try {
        recorded = parseJobData(job.type, run.input)
      } catch {
        return ["(run input)"]
      }
      const fields = differingFields(
        recorded as unknown as Record<string, unknown>,
        data as unknown as Record<string, unknown>,
      )
      if (recorded.repoFullName !== run.repoFullName) fields.push("repoFullName (run)")
      if (recorded.issueNumber !== run.issueNumber) fields.push("issueNumber (run)")
      data = recorded
      return fields
    })()
    if (tampering.length > 0) {
      const message = `job data for run ${run.id} disagrees with its run record (${tampering.join(", ")}): refused as tampering, nothing was done; someone other than prwright wrote to the queue — protect Redis with a password or ACL user (REDIS_URL) and check who can reach it`
      log.error("refused a job whose data disagrees with its run record: queue tampering", {
        event: "job-tampering",
        fields: tampering,
      })
      const failed = await deps.store.updateActiveRun(run.id, {
        status: "failed",
        error: message,
        finishedAt: deps.clock.now(),
      })
      if (failed)
        await deps.journal.record(run.id, [
          { type: "error", message, retryable: false },
          { type: "status", status: "failed", attempt: job.attempt, message },
        ])
      throw new NonRetryableError(message, { code: "forbidden" })
    }

    let usage: Usage = run.usage ?? ZERO_USAGE
    const startedAt = run.startedAt ?? deps.clock.now()
    const started = await deps.store.updateActiveRun(run.id, {
      status: "running",
      attempts: job.attempt,
      startedAt,
      error: null,
    })
    if (!started) {
      // ended (e.g. cancelled) between the read above and now
      const ended = (await deps.store.getRun(run.id)) ?? run
      log.warn("job delivered for a run that just ended; not running it", { status: ended.status })
      return jobResultOf(ended)
    }
    run = started
    const runId = run.id
    /** updates the run while it is active; a run that ended elsewhere stops this attempt */
    const update = async (patch: RunPatch): Promise<WorkflowRun> => {
      const updated = await deps.store.updateActiveRun(runId, patch)
      if (updated) return updated
      const ended = await deps.store.getRun(runId)
      throw new RunEndedError(runId, ended?.status ?? "cancelled")
    }
    await deps.journal.record(runId, [{ type: "status", status: "running", attempt: job.attempt }])
    log.info("run started")

    let lastProgress: { value: number; message?: string } = { value: run.progress }
    let lastBeat = 0
    /** true once this attempt recorded the run's ending: deferred work may still act for it */
    let endedHere = false
    const afterEnd: Array<() => Promise<void>> = []
    const runAfterEnd = async () => {
      for (const task of afterEnd.splice(0))
        await task().catch((error: unknown) =>
          log.warn("work after the run's end failed", { error: errorMessage(error) }),
        )
    }
    const context: RunContext = {
      run,
      data,
      attempt: job.attempt,
      signal: job.signal,
      async emit(...events) {
        const calls = events.filter((e) => e.type === "model-call")
        await deps.journal.record(runId, events)
        // Agent steps are progress too: the queue's idle timeout must not stop a run that is working.
        const at = deps.clock.now().getTime()
        if (at - lastBeat >= ACTIVITY_BEAT_MS) {
          lastBeat = at
          await job.progress(lastProgress.value, lastProgress.message)
        }
        if (calls.length > 0) {
          for (const call of calls)
            usage = addUsage(usage, {
              inputTokens: call.inputTokens,
              outputTokens: call.outputTokens,
              costUsd: call.costUsd,
              // a call without a price makes the run's cost unknown, never $0
              ...(call.costKnown === false ? { unpricedModel: call.model } : {}),
            })
          await update({ usage })
        }
      },
      async progress(percent, message) {
        const value = Math.max(0, Math.min(100, Math.round(percent)))
        lastProgress = { value, message }
        lastBeat = deps.clock.now().getTime()
        await job.progress(value, message)
        await update({ progress: value, progressMessage: message })
        await deps.journal.record(runId, [{ type: "progress", progress: value, message }])
      },
      async saveArtifacts(artifacts) {
        if (endedHere) await deps.store.updateRun(runId, { artifacts })
        else await update({ artifacts })
      },
      async ensureActive() {
        if (endedHere) return
        const current = await deps.store.getRun(runId)
        if (current && isTerminal(current.status)) throw new RunEndedError(runId, current.status)
      },
      isFinal: (error) => {
        const cause = effectiveError(job.signal, error)
        return cause instanceof CancelledError || !isRetryable(cause) || job.attempt >= job.maxAttempts
      },
      isCancelled: (error) => effectiveError(job.signal, error) instanceof CancelledError,
      usage: () => usage,
      afterEnd: (task) => {
        afterEnd.push(task)
      },
    }

    /**
     * The run ended elsewhere while this attempt ran (a cancel whose acknowledgement was lost): it
     * keeps that one ending; this attempt's outcome is dropped, loudly, and the queue is told it is over.
     */
    const dropLateOutcome = async (outcome: string): Promise<JobResult> => {
      const current = (await deps.store.getRun(runId)) ?? run
      log.warn(
        `run ${runId} already ended as ${current.status}; this attempt's outcome (${outcome}) was dropped`,
        { event: "late-outcome-dropped", status: current.status, outcome },
      )
      if (current.status === "cancelled") throw new RunEndedError(runId, current.status)
      return jobResultOf(current)
    }

    /**
     * Writes this attempt's ending while the run is active. A write whose answer was lost (the store
     * retries a call on a fresh connection) finds the run already ended by itself: the same status
     * and finishedAt to the millisecond are this attempt's own write, not someone else's ending.
     */
    const endActive = async (patch: RunPatch): Promise<WorkflowRun | undefined> => {
      const updated = await deps.store.updateActiveRun(runId, patch)
      if (updated || !patch.finishedAt) return updated
      const current = await deps.store.getRun(runId)
      if (!current || current.status !== patch.status) return undefined
      return current.finishedAt?.getTime() === patch.finishedAt.getTime() ? current : undefined
    }

    let outcome: WorkflowOutcome
    try {
      if (job.signal.aborted) throw new CancelledError()
      outcome = await workflow(context)
    } catch (caught) {
      const error = effectiveError(job.signal, caught)
      // stopped at a checkpoint (progress, artifacts, ensureActive) because the run had ended elsewhere
      if (error instanceof RunEndedError) return await dropLateOutcome(`stopped: ${errorMessage(caught)}`)
      const cancelled = error instanceof CancelledError
      const message = errorMessage(error)
      const final = context.isFinal(error)
      const status = cancelled ? "cancelled" : final ? "failed" : "pending"
      try {
        const ended = await endActive({
          status,
          usage,
          error: message,
          finishedAt: status === "pending" ? undefined : deps.clock.now(),
        })
        if (!ended)
          return await dropLateOutcome(
            status === "pending" ? `retry after: ${message}` : `${status}: ${message}`,
          )
        await deps.journal.record(runId, [
          { type: "error", message, retryable: !final },
          { type: "usage", usage },
          {
            type: "status",
            status,
            attempt: job.attempt,
            message: status === "pending" ? `attempt ${job.attempt} failed; retrying` : message,
          },
        ])
        endedHere = status !== "pending"
      } finally {
        // also when the ending was not recorded here: the checkout is removed all the same
        await runAfterEnd()
      }
      log[final ? "error" : "warn"](`run attempt failed: ${message}`, { status })
      if (final && error instanceof PrwrightError && !error.retryable) throw error
      if (final) throw new NonRetryableError(message, { cause: error })
      throw error
    }
    const finished = await endActive({
      status: "completed",
      progress: 100,
      progressMessage: "done",
      artifacts: outcome.artifacts,
      usage,
      summary: outcome.summary ?? null,
      finishedAt: deps.clock.now(),
    })
    if (!finished) return await dropLateOutcome("completed")
    await deps.journal.record(runId, [
      { type: "usage", usage },
      { type: "status", status: "completed", attempt: job.attempt },
    ])
    log.info("run completed", { usage })
    return jobResultOf(finished, true)
  }
}
