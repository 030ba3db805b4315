import { errorMessage, ValidationError } from "#domain/errors.js"
import type { WorkflowRun } from "#domain/workflow-run.js"
import { enqueueRequestOf, parseJobData, type RunLimits } from "./job-data.js"
import type { Clock } from "./ports/clock.js"
import type { JobQueue } from "./ports/job-queue.js"
import type { Logger } from "./ports/logging.js"
import type { RunStore } from "./ports/run-store.js"
import type { RunJournal } from "./run-journal.js"

/**
 * Keeps the run store and the queue consistent (see docs/decisions/0003). The run row is written
 * before its job; a process that dies between the two leaves a `pending` run without a job, which this
 * sweep queues again (job id = run id, so a job that does exist is never duplicated). A `running` run
 * whose job the queue failed without the handler (its worker died on the last attempt) is marked
 * failed with the queue's reason, so the run never looks busy forever.
 */
export const createRunSweeper = (deps: {
  store: RunStore
  queue: JobQueue
  journal: RunJournal
  clock: Clock
  logger: Logger
  /** runs younger than this are left alone: their enqueue may still be in flight */
  olderThanMs: number
  /** per repository / installation, as new runs get them */
  runLimits?: RunLimits
}) => {
  const log = deps.logger.child({ component: "run-sweeper" })

  const oldRuns = async function* (status: "pending" | "running"): AsyncGenerator<WorkflowRun> {
    const cutoff = deps.clock.now().getTime() - deps.olderThanMs
    let cursor: string | undefined
    // bounded: 10 pages of 200 per sweep; the next sweep goes on
    for (let page = 0; page < 10; page++) {
      const result = await deps.store.listRuns({ status, limit: 200, cursor })
      for (const run of result.runs) if (run.updatedAt.getTime() < cutoff) yield run
      if (!result.nextCursor) return
      cursor = result.nextCursor
    }
  }

  const fail = async (run: WorkflowRun, message: string) => {
    const failed = await deps.store.updateActiveRun(run.id, {
      status: "failed",
      error: message,
      finishedAt: deps.clock.now(),
    })
    if (!failed) return // it ended meanwhile (completed, or cancelled): it keeps that ending
    await deps.journal.record(run.id, [{ type: "status", status: "failed", attempt: run.attempts, message }])
  }

  const requeue = async (run: WorkflowRun): Promise<boolean> => {
    try {
      // the stored request may predate an upgrade: parse it before it goes to the queue again
      const { created } = await deps.queue.enqueue(
        enqueueRequestOf(run, parseJobData(run.type, run.input), deps.runLimits),
      )
      if (created) log.warn("queued a pending run that had no job", { runId: run.id })
      return created
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      await fail(run, `${errorMessage(error)} (the stored request no longer parses; send it again)`)
      return false
    }
  }

  return {
    /** one pass; returns how many runs it repaired */
    async sweep(): Promise<number> {
      let repaired = 0
      for await (const run of oldRuns("pending")) {
        if ((await deps.queue.getJob(run.id)) === undefined && (await requeue(run))) repaired++
      }
      for await (const run of oldRuns("running")) {
        // a running run without a job may be an inline run (`--inline`): only a failed job says it is over
        const job = await deps.queue.getJob(run.id)
        if (job?.state !== "failed") continue
        await fail(run, job.error ?? "its job failed in the queue while it was running")
        log.warn("marked a run failed whose job ended without it", { runId: run.id })
        repaired++
      }
      return repaired
    },

    /** sweeps every `intervalMs` until the returned stop function is called */
    start(intervalMs: number): () => void {
      let running = false
      const timer = setInterval(() => {
        if (running) return
        running = true
        this.sweep()
          .catch((error: unknown) =>
            log.warn("run sweep failed; retrying later", { error: errorMessage(error) }),
          )
          .finally(() => {
            running = false
          })
      }, intervalMs)
      timer.unref()
      return () => clearInterval(timer)
    },
  }
}
