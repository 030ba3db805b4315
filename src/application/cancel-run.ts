import { ConflictError, NotFoundError } from "#domain/errors.js"
import { isTerminal, type WorkflowRun } from "#domain/workflow-run.js"
import type { Clock } from "./ports/clock.js"
import type { JobQueue } from "./ports/job-queue.js"
import type { RunStore } from "./ports/run-store.js"
import type { RunJournal } from "./run-journal.js"

/**
 * Cancels a run from any process. A waiting run is cancelled here and now; a running one is
 * signalled through the queue, and its worker records `cancelled` when the handler stops.
 */
export const createCancelRun =
  (deps: { store: RunStore; queue?: JobQueue; journal: RunJournal; clock: Clock }) =>
  async (jobId: string): Promise<WorkflowRun> => {
    const run = await deps.store.getRun(jobId)
    if (!run) throw new NotFoundError(`no job with id ${jobId}: check the id (GET /api/jobs lists them)`)
    if (isTerminal(run.status)) {
      throw new ConflictError(`job ${jobId} already ended as ${run.status}; there is nothing to cancel`)
    }
    await deps.queue?.cancel(jobId)
    if (run.status === "pending") {
      const cancelled = await deps.store.updateRun(jobId, {
        status: "cancelled",
        error: "cancelled before it started",
        finishedAt: deps.clock.now(),
      })
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
    return run
  }
