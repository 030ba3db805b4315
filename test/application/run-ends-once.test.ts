/**
 * A run ends exactly once (issue 13): a cancel that was acknowledged nowhere (its worker seemed gone)
 * ends the run in the store, but the worker may still be alive. Its late outcome — completed or
 * failed — must not overwrite the `cancelled`, must not add a second terminal event, and the
 * workflow's publishing step must not go on (no PR, no comment after a cancel).
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createMemoryEventBus } from "#adapters/events/memory-event-bus.js"
import { createSqlRunStore, type SqlRunStore } from "#adapters/store/sql/sql-run-store.js"
import { createCancelRun } from "#application/cancel-run.js"
import { createJobRunner, type Workflows } from "#application/run-job.js"
import { createRunJournal, type RunJournal } from "#application/run-journal.js"
import { NonRetryableError } from "#domain/errors.js"
import { type CapturedLog, createCapturingLogger } from "../support/logger.js"
import { anAttempt, aRun } from "../support/runs.js"

const clock = { now: () => new Date() }

describe("a run ends exactly once", () => {
  let dir: string
  let store: SqlRunStore
  let journal: RunJournal
  let lines: CapturedLog[]

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "prwright-ends-once-"))
    store = await createSqlRunStore({ url: `sqlite:${path.join(dir, "prwright.db")}` })
    lines = []
    journal = createRunJournal({ store, bus: createMemoryEventBus(), logger: createCapturingLogger(lines) })
  })
  afterEach(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  /** a running run and a worker attempt that the test steers; `cancelElsewhere` is the lost-ack cancel */
  const setUp = async (workflow: Workflows["comment-on-issue"]) => {
    const stored = aRun()
    const jobId = stored.id
    await store.createRun(stored)
    const runner = createJobRunner({
      store,
      journal,
      logger: createCapturingLogger(lines),
      clock,
      workflows: { "comment-on-issue": workflow! },
    })
    // the worker never heard of the cancel: its signal does not fire
    const job = anAttempt(stored)
    // what cancel-run does when no worker acknowledges in time: the queue has no confirmCancel → false
    const cancelElsewhere = createCancelRun({
      store,
      journal,
      clock,
      queue: {
        cancel: async () => true,
        confirmCancel: async () => false,
      } as never,
    })
    return { jobId, run: () => runner(job), cancelElsewhere: () => cancelElsewhere(jobId) }
  }

  const terminalEvents = async (jobId: string) =>
    (await store.listEvents(jobId)).filter(
      (event) => event.type === "status" && ["completed", "failed", "cancelled"].includes(event.status),
    )

  it("drops a late worker's completed outcome after a cancel, with a log line", async () => {
    let cancel: () => Promise<unknown> = async () => {}
    const setup = await setUp(async () => {
      await cancel()
      return { artifacts: { pullRequestNumber: 42 }, summary: "done late" }
    })
    cancel = setup.cancelElsewhere
    // the queue hears "cancelled" (not retried, not completed)
    await expect(setup.run()).rejects.toThrow(/already ended as cancelled/)
    const run = await store.getRun(setup.jobId)
    expect(run?.status).toBe("cancelled")
    expect(run?.artifacts.pullRequestNumber).toBeUndefined()
    expect(run?.summary).toBeUndefined()
    const ends = await terminalEvents(setup.jobId)
    expect(ends.map((e) => (e.type === "status" ? e.status : ""))).toEqual(["cancelled"])
    expect(lines.some((l) => /already ended as cancelled/.test(l.message) && /dropped/.test(l.message))).toBe(
      true,
    )
  })

  it("drops a late worker's failure after a cancel", async () => {
    let cancel: () => Promise<unknown> = async () => {}
    const setup = await setUp(async () => {
      await cancel()
      throw new NonRetryableError("the model gave up")
    })
    cancel = setup.cancelElsewhere
    await setup.run().catch(() => {})
    const run = await store.getRun(setup.jobId)
    expect(run?.status).toBe("cancelled")
    expect(run?.error).toMatch(/cancelled/)
    const ends = await terminalEvents(setup.jobId)
    expect(ends).toHaveLength(1)
    expect((await store.listEvents(setup.jobId)).some((e) => e.type === "error")).toBe(false)
  })

  it("stops the workflow at its next checkpoint: nothing is published after a cancel", async () => {
    let cancel: () => Promise<unknown> = async () => {}
    const published: string[] = []
    const setup = await setUp(async (context) => {
      await context.progress(50, "working")
      await cancel()
      // the step before anything reaches GitHub
      await context.ensureActive()
      published.push("pull request")
      return { artifacts: {} }
    })
    cancel = setup.cancelElsewhere
    await setup.run().catch(() => {})
    expect(published).toEqual([])
    expect((await store.getRun(setup.jobId))?.status).toBe("cancelled")
    expect(await terminalEvents(setup.jobId)).toHaveLength(1)
  })

  it("progress and artifacts after a cancel stop the workflow and change nothing", async () => {
    let cancel: () => Promise<unknown> = async () => {}
    let reached = false
    const setup = await setUp(async (context) => {
      await cancel()
      await context.saveArtifacts({ pullRequestNumber: 7 })
      await context.progress(80, "publishing")
      reached = true
      return { artifacts: {} }
    })
    cancel = setup.cancelElsewhere
    await setup.run().catch(() => {})
    expect(reached).toBe(false)
    const run = await store.getRun(setup.jobId)
    expect(run?.status).toBe("cancelled")
    expect(run?.artifacts.pullRequestNumber).toBeUndefined()
    expect(await terminalEvents(setup.jobId)).toHaveLength(1)
  })

  it("its own ending whose answer was lost (the store retried on a fresh connection) still counts", async () => {
    const stored = aRun()
    const jobId = stored.id
    await store.createRun(stored)
    // the first try commits, its answer is lost, the retry finds the run ended
    const retrying: SqlRunStore = {
      ...store,
      updateActiveRun: async (id, patch) => {
        const first = await store.updateActiveRun(id, patch)
        return patch.status === "completed" && first ? store.updateActiveRun(id, patch) : first
      },
    }
    const runner = createJobRunner({
      store: retrying,
      journal,
      logger: createCapturingLogger(lines),
      clock,
      workflows: { "comment-on-issue": async () => ({ artifacts: {}, summary: "done" }) },
    })
    const result = await runner(anAttempt(stored))
    expect((result as { success: boolean }).success).toBe(true)
    expect((await store.getRun(jobId))?.status).toBe("completed")
    const ends = await terminalEvents(jobId)
    expect(ends.map((e) => (e.type === "status" ? e.status : ""))).toEqual(["completed"])
  })

  it("a cancel never overwrites a run that finished first", async () => {
    const setup = await setUp(async () => ({ artifacts: {}, summary: "done" }))
    await setup.run()
    await expect(setup.cancelElsewhere()).rejects.toThrow(/already ended as completed/)
    expect((await store.getRun(setup.jobId))?.status).toBe("completed")
    expect(await terminalEvents(setup.jobId)).toHaveLength(1)
  })
})
