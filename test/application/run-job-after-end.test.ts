/**
 * Work a workflow defers with `afterEnd` (a cancelled resolve run's work in progress and stop comment)
 * runs only after the terminal status is recorded, so a cancel is not held up by it; a failing task is
 * logged, never turned into a second outcome.
 */
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterEach, expect, it } from "vitest"
import { createMemoryEventBus } from "#adapters/events/memory-event-bus.js"
import { createEmbeddedJobQueue } from "#adapters/queue/embedded/embedded-job-queue.js"
import { createSqlRunStore } from "#adapters/store/sql/sql-run-store.js"
import type { JobQueue } from "#application/ports/job-queue.js"
import type { RunStore } from "#application/ports/run-store.js"
import { createWorkflowRequester } from "#application/request-workflow.js"
import { createJobRunner, type RunContext } from "#application/run-job.js"
import { createRunJournal } from "#application/run-journal.js"
import { CancelledError } from "#domain/errors.js"
import { createCapturingLogger } from "../support/logger.js"
import { anAttempt } from "../support/runs.js"

let dir: string
let store: RunStore
let queue: JobQueue

afterEach(async () => {
  await queue?.close()
  await store?.close()
  rmSync(dir, { recursive: true, force: true })
})

const setUp = async () => {
  dir = mkdtempSync(path.join(tmpdir(), "prwright-after-end-"))
  const databasePath = path.join(dir, "prwright.db")
  store = await createSqlRunStore({ url: `sqlite:${databasePath}` })
  queue = createEmbeddedJobQueue({ databasePath, pollIntervalMs: 20, backoffBaseMs: 5 })
  const logger = createCapturingLogger()
  const journal = createRunJournal({ store, bus: createMemoryEventBus(), logger })
  const requester = createWorkflowRequester({ store, queue, journal, newId: () => randomUUID(), logger })
  const { jobId, run } = await requester.enqueue(
    "resolve-issue",
    { repoFullName: "octo/app", issueNumber: 5 },
    { source: "api" },
  )
  return { logger, journal, jobId, run }
}

const endings = async (jobId: string) =>
  (await store.listEvents(jobId)).flatMap((e) =>
    e.type === "status" && ["completed", "failed", "cancelled"].includes(String(e.status)) ? [e.status] : [],
  )

type ResolveContext = RunContext<"resolve-issue">

/**
 * A worker attempt of the set-up run whose workflow waits for the cancel, defers work with `deferWork`
 * and ends cancelled. The attempt is aborted 50 ms after it started, once `beforeAbort` is done.
 */
const cancelledAttempt = async (
  { logger, journal, run }: Awaited<ReturnType<typeof setUp>>,
  deferWork: (context: ResolveContext) => void,
  beforeAbort: () => Promise<unknown> = async () => {},
) => {
  const runner = createJobRunner({
    store,
    journal,
    logger,
    clock: { now: () => new Date() },
    workflows: {
      "resolve-issue": async (context) => {
        await new Promise((resolve) => context.signal.addEventListener("abort", resolve, { once: true }))
        deferWork(context)
        throw new CancelledError()
      },
    },
  })
  const controller = new AbortController()
  const attempt = runner(anAttempt(run, { signal: controller.signal }))
  await new Promise((resolve) => setTimeout(resolve, 50))
  await beforeAbort()
  controller.abort(new CancelledError())
  return attempt
}

it("a cancelled run is recorded cancelled before its deferred work runs; a failing task is only logged", async () => {
  const setup = await setUp()
  const { logger, jobId } = setup
  const seen: string[] = []
  const attempt = cancelledAttempt(setup, (context) => {
    context.afterEnd?.(async () => {
      seen.push(`saving work: the run is ${(await store.getRun(jobId))?.status}`)
    })
    context.afterEnd?.(async () => {
      throw new Error("push refused")
    })
    context.afterEnd?.(async () => {
      seen.push("checkout removed")
    })
  })
  await expect(attempt).rejects.toBeInstanceOf(CancelledError)

  expect(seen).toEqual(["saving work: the run is cancelled", "checkout removed"])
  expect(logger.lines.filter((l) => l.level === "warn").map((l) => [l.message, l.fields?.error])).toEqual([
    ["work after the run's end failed", "push refused"],
  ])
  expect(await endings(jobId)).toEqual(["cancelled"])
})

it("a run that ended elsewhere first: the deferred work still runs (the checkout goes) but publishes nothing", async () => {
  const setup = await setUp()
  const { jobId } = setup
  const seen: string[] = []
  const attempt = cancelledAttempt(
    setup,
    (context) => {
      context.afterEnd?.(async () => {
        await context.ensureActive().then(
          () => seen.push("published"),
          (error: unknown) => seen.push(`refused: ${(error as Error).name}`),
        )
        seen.push("checkout removed")
      })
    },
    // the API ended it (no acknowledgement reached it), then the worker hears of the cancel
    () => store.updateActiveRun(jobId, { status: "cancelled", finishedAt: new Date(Date.now() - 1_000) }),
  )
  await expect(attempt).rejects.toThrow()
  expect(seen).toEqual(["refused: RunEndedError", "checkout removed"])
  expect(await endings(jobId)).toEqual([])
})
