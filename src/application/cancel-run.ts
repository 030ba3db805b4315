import { ConflictError, NotFoundError } from "#domain/errors.js"
import { isTerminal, type WorkflowRun } from "#domain/workflow-run.js"
import type { Clock } from "./ports/clock.js"
import type { JobQueue } from "./ports/job-queue.js"
import type { RunStore } from "./ports/run-store.js"
import type { RunJournal } from "./run-journal.js"

/** How long a cancel waits for the running worker to confirm before treating the worker as gone. */
export const CANCEL_CONFIRM_MS = 1_500

/**
 * Cancels a run from any process. A waiting run is cancelled here and now; a running one is
 * signalled through the queue, and its worker records `cancelled` when the handler stops. When no
 * worker confirms within CANCEL_CONFIRM_MS (its worker died), the run is ended here at once: the
 * queue's cancel marker keeps the job from running again, and a redelivered job finds the run ended.
 */
export const createCancelRun =
  (deps: { store: RunStore; queue?: JobQueue | undefined; journal: RunJournal; clock: Clock }) =>
  async (jobId: string): Promise<WorkflowRun> => {
    const run = await deps.store.getRun(jobId)
    if (!run) throw new NotFoundError(`no job with id ${jobId}: check the id (GET /api/jobs lists them)`)
    if (isTerminal(run.status)) {
      throw new ConflictError(`job ${jobId} already ended as ${run.status}; there is nothing to cancel`)
    }
    await deps.queue?.cancel(jobId)
    if (run.status === "pending") {
      // only while it has not ended: a run that finished in the meantime keeps its ending
      const cancelled = await deps.store.updateActiveRun(jobId, {
        status: "cancelled",
        error: "cancelled before it started",
        finishedAt: deps.clock.now(),
      })
      if (!cancelled) return (await deps.store.getRun(jobId)) ?? run
      await deps.journal.record(jobId, [
        {
          type: "status",
          status: "cancelled",
          attempt: run.attempts,
          message: "cancelled before it started",
        },
      ])
      return cancelled
    }
    if (deps.queue?.confirmCancel && !(await deps.queue.confirmCancel(jobId, CANCEL_CONFIRM_MS))) {
      const latest = await deps.store.getRun(jobId)
      if (!latest || isTerminal(latest.status)) return latest ?? run
      const message = "cancelled; no worker was running it any more (its worker stopped)"
      const cancelled = await deps.store.updateActiveRun(jobId, {
        status: "cancelled",
        error: message,
        finishedAt: deps.clock.now(),
      })
      if (!cancelled) return (await deps.store.getRun(jobId)) ?? latest
      await deps.journal.record(jobId, [
        { type: "status", status: "cancelled", attempt: latest.attempts, message },
      ])
      return cancelled
    }
    return run
  }
