import type { RunStore } from "#application/ports/run-store.js"
import type { RunEvent } from "#domain/run-event.js"
import { isTerminal, type WorkflowRun } from "#domain/workflow-run.js"

/** true once the run has ended (completed, failed or cancelled) */
export const finished = (run: WorkflowRun): boolean => isTerminal(run.status)

/** Polls the run store until `done(run)` holds; the timeout error shows the run as it stands. */
export const waitForRun = async (
  store: RunStore,
  jobId: string,
  done: (run: WorkflowRun) => boolean,
  timeoutMs: number,
): Promise<WorkflowRun> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const run = await store.getRun(jobId)
    if (run && done(run)) return run
    if (Date.now() > deadline) throw new Error(`timed out; run is ${JSON.stringify(run)}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** A log event of `runId` numbered `seq` (its message says which), for event bus and stream tests. */
export const logEvent = (runId: string, seq: number): RunEvent => ({
  type: "log",
  level: "info",
  message: `${runId}#${seq}`,
  runId,
  seq,
  at: new Date(1_700_000_000_000 + seq),
})
