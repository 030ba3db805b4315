import { randomUUID } from "node:crypto"
import type { JobContext } from "#application/ports/job-queue.js"
import type { NewRun, RunStore } from "#application/ports/run-store.js"
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

/**
 * A valid new run (`store.createRun` input): a `comment-on-issue` run on acme/widgets#1, normal
 * priority, started through the API, three attempts, its input naming its repository, issue and id as
 * a job's data does. `overrides` change any of it; the input follows the id, repository and issue
 * unless it is given too.
 */
export const aRun = (overrides: Partial<NewRun> = {}): NewRun => {
  const id = overrides.id ?? randomUUID()
  const repoFullName = overrides.repoFullName ?? "acme/widgets"
  const issueNumber = overrides.issueNumber ?? 1
  return {
    id,
    type: "comment-on-issue",
    repoFullName,
    issueNumber,
    priority: "normal",
    input: { repoFullName, issueNumber, jobId: id },
    trigger: { source: "api" },
    maxAttempts: 3,
    ...overrides,
  }
}

/**
 * The first attempt of `run` as a queue hands it to a worker: its stored input as the job's data, a
 * signal that never fires (the worker hears of no cancel) unless `overrides` give one, progress dropped.
 */
export const anAttempt = (
  run: Pick<NewRun, "id" | "type" | "input" | "maxAttempts">,
  overrides: Partial<JobContext> = {},
): JobContext => ({
  jobId: run.id,
  type: run.type,
  data: run.input,
  attempt: 1,
  maxAttempts: run.maxAttempts,
  signal: new AbortController().signal,
  progress: async () => {},
  ...overrides,
})

/** Ends run `jobId` as completed now, having spent `costUsd` (1,000 tokens in, 100 out): spending to count. */
export const finishWithCost = (store: RunStore, jobId: string, costUsd: number) =>
  store.updateRun(jobId, {
    status: "completed",
    usage: { inputTokens: 1000, outputTokens: 100, costUsd },
    finishedAt: new Date(),
  })
