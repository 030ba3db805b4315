import { randomUUID } from "node:crypto"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { JobResult } from "#application/job-data.js"
import type { EnqueueRequest, JobContext, JobQueue, QueueJobInfo } from "#application/ports/job-queue.js"
import { ConflictError, NonRetryableError, RetryableError, ValidationError } from "#domain/errors.js"
import type { Priority } from "#domain/workflow-run.js"

/**
 * The behaviour every JobQueue adapter must share. Each adapter's test file calls
 * `runJobQueueContract(name, create)`; `create` must return a queue whose retries back off in a few
 * milliseconds (tiny `backoffBaseMs`), on fresh storage (a temp file, a unique key prefix).
 */
export interface JobQueueContractOptions {
  /** upper bound for waiting on something asynchronous (default 8000 ms) */
  timeoutMs?: number
}

export const waitFor = async <T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 8_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    last = await probe()
    if (last !== undefined && last !== false) return last as T
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A controllable promise, for handlers that must stay "running" until the test lets them go. */
export const gate = () => {
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { open, opened }
}

export const jobRequest = (
  overrides: Partial<EnqueueRequest> & { issueNumber?: number } = {},
): EnqueueRequest => {
  const jobId = overrides.jobId ?? randomUUID()
  return {
    type: "comment-on-issue",
    jobId,
    priority: "normal",
    attempts: 3,
    data: {
      issueNumber: overrides.issueNumber ?? 7,
      repoFullName: "octocat/hello-world",
      jobId,
      postToGitHub: false,
      priority: overrides.priority ?? "normal",
    },
    ...overrides,
  }
}

/** A valid resolve-issue request (another job type), for type-mixing checks. */
export const resolveRequest = (
  jobId: string = randomUUID(),
  overrides: Partial<EnqueueRequest> = {},
): EnqueueRequest => ({
  type: "resolve-issue",
  jobId,
  priority: "normal",
  attempts: 1,
  data: {
    issueNumber: 7,
    repoFullName: "octocat/hello-world",
    jobId,
    options: { createPR: true, maxAttempts: 3, priority: "normal" },
  },
  ...overrides,
})

export const resultFor = (job: JobContext, summary = "done"): JobResult => ({
  success: true,
  jobId: job.jobId,
  issueNumber: 7,
  repoFullName: "octocat/hello-world",
  summary,
  executionTime: 1,
})

/**
 * A stale worker for fencing tests: it takes the next comment-on-issue job, waits for its signal to
 * abort, and then reports success anyway, as a worker that ignores the abort would. `started` opens
 * when it has the job; `reason()` is why its signal aborted (undefined until then).
 */
export const startStaleWorker = (queue: JobQueue) => {
  const started = gate()
  let reason: unknown
  queue.process(
    "comment-on-issue",
    async (job) => {
      started.open()
      await new Promise((resolve) => job.signal.addEventListener("abort", resolve, { once: true }))
      reason = job.signal.reason
      return resultFor(job, "stale")
    },
    { concurrency: 1 },
  )
  return { started: started.opened, reason: () => reason }
}

export const runJobQueueContract = (
  name: string,
  create: () => Promise<{ queue: JobQueue; cleanup(): Promise<void> }>,
  options: JobQueueContractOptions = {},
): void => {
  const timeoutMs = options.timeoutMs ?? 8_000
  const stateOf = (queue: JobQueue, jobId: string, state: QueueJobInfo["state"]) =>
    waitFor(
      async () => {
        const info = await queue.getJob(jobId)
        return info?.state === state ? info : undefined
      },
      `job ${jobId} to be ${state}`,
      timeoutMs,
    )

  describe(`JobQueue contract: ${name}`, () => {
    let queue: JobQueue
    let cleanup: () => Promise<void>

    beforeEach(async () => {
      ;({ queue, cleanup } = await create())
    })
    afterEach(async () => {
      await cleanup()
    })

    it("runs an enqueued job and reports it completed with the handler's result", async () => {
      const request = jobRequest()
      expect(await queue.enqueue(request)).toEqual({ jobId: request.jobId, created: true })
      const waiting = await queue.getJob(request.jobId)
      expect(waiting).toMatchObject({
        jobId: request.jobId,
        type: "comment-on-issue",
        attempt: 0,
        maxAttempts: 3,
      })
      expect(["waiting", "active", "completed"]).toContain(waiting?.state)

      const seen: JobContext[] = []
      queue.process(
        "comment-on-issue",
        async (job) => {
          seen.push(job)
          return resultFor(job, "planned")
        },
        { concurrency: 1 },
      )
      const done = await stateOf(queue, request.jobId, "completed")
      expect(done.result).toEqual(resultFor(seen[0]!, "planned"))
      expect(done.attempt).toBe(1)
      expect(done.error).toBeUndefined()
      expect(done.createdAt).toBeInstanceOf(Date)
      expect(done.updatedAt.getTime()).toBeGreaterThanOrEqual(done.createdAt.getTime())
      expect(seen).toHaveLength(1)
      expect(seen[0]).toMatchObject({
        jobId: request.jobId,
        type: "comment-on-issue",
        attempt: 1,
        maxAttempts: 3,
      })
      expect(seen[0]!.data).toEqual(request.data)
      expect(seen[0]!.signal.aborted).toBe(false)
    })

    /** enqueues a job with `attempts`, fails every attempt with `error`, and waits for it to fail */
    const failEveryAttempt = async (attempts: number, error: (attempt: number) => Error) => {
      const request = jobRequest({ attempts })
      await queue.enqueue(request)
      const tried: number[] = []
      queue.process(
        "comment-on-issue",
        async (job) => {
          tried.push(job.attempt)
          throw error(job.attempt)
        },
        { concurrency: 1 },
      )
      return { request, tried, failed: await stateOf(queue, request.jobId, "failed") }
    }

    it("retries a retryable failure until attempts run out, then reports failed with the message", async () => {
      const { tried: attempts, failed } = await failEveryAttempt(
        3,
        (attempt) => new RetryableError(`GitHub answered 502 on attempt ${attempt}`),
      )
      expect(attempts).toEqual([1, 2, 3])
      expect(failed.attempt).toBe(3)
      expect(failed.error).toContain("GitHub answered 502 on attempt 3")
      await sleep(100)
      expect(attempts).toHaveLength(3)
    })

    it("treats a plain Error as retryable", async () => {
      const { tried, failed } = await failEveryAttempt(2, () => new Error("socket hang up"))
      expect(tried.length).toBe(2)
      expect(failed.error).toContain("socket hang up")
    })

    it("fails a non-retryable error after exactly one attempt", async () => {
      const { request, tried, failed } = await failEveryAttempt(
        3,
        () => new NonRetryableError("issue #7 is closed: reopen it to plan it"),
      )
      await sleep(150)
      expect(tried.length).toBe(1)
      expect((await queue.getJob(request.jobId))?.state).toBe("failed")
      expect(failed.attempt).toBe(1)
      expect(failed.error).toContain("issue #7 is closed: reopen it to plan it")
    })

    it("shows a running job as active with its progress", async () => {
      const request = jobRequest()
      await queue.enqueue(request)
      const release = gate()
      queue.process(
        "comment-on-issue",
        async (job) => {
          await job.progress(40, "cloning")
          await release.opened
          return resultFor(job)
        },
        { concurrency: 1 },
      )
      const active = await waitFor(
        async () => {
          const info = await queue.getJob(request.jobId)
          return info?.state === "active" && info.progress === 40 ? info : undefined
        },
        "progress 40 while active",
        timeoutMs,
      )
      expect(active.attempt).toBe(1)
      release.open()
      const done = await stateOf(queue, request.jobId, "completed")
      expect(done.progress).toBe(100)
    })

    it("is idempotent on jobId: same data returns the existing job, other data is a conflict", async () => {
      const request = jobRequest()
      let calls = 0
      queue.process(
        "comment-on-issue",
        async (job) => {
          calls++
          return resultFor(job)
        },
        { concurrency: 2 },
      )
      expect((await queue.enqueue(request)).created).toBe(true)
      // same data with keys in another order is still the same job
      const reordered = {
        ...request,
        data: Object.fromEntries(Object.entries(request.data as object).reverse()),
      }
      expect(await queue.enqueue(reordered)).toEqual({ jobId: request.jobId, created: false })
      await stateOf(queue, request.jobId, "completed")
      expect(await queue.enqueue(request)).toEqual({ jobId: request.jobId, created: false })

      const other = jobRequest({ jobId: request.jobId, issueNumber: 8 })
      const conflict = await queue.enqueue(other).catch((error: unknown) => error)
      expect(conflict).toBeInstanceOf(ConflictError)
      expect((conflict as Error).message).toContain(request.jobId)
      await expect(queue.enqueue(resolveRequest(request.jobId))).rejects.toBeInstanceOf(ConflictError)

      await sleep(150)
      expect(calls).toBe(1)
    })

    it("creates a job in line once when enqueues of its id race, and its line entry once", async () => {
      const line = {
        concurrencyKey: "octocat/hello-world#31",
        limits: [{ key: "repo:octocat/line", max: 1 }],
      }
      const request = jobRequest(line)
      const rival = jobRequest({ ...line, jobId: request.jobId, issueNumber: 8 })
      const behind = jobRequest({ ...line, concurrencyKey: "octocat/hello-world#32" })
      const settled = await Promise.allSettled(
        [request, rival, request, rival].map((one) => queue.enqueue(one)),
      )
      const created = settled.filter((outcome) => outcome.status === "fulfilled" && outcome.value.created)
      expect(created).toHaveLength(1)
      expect(settled.filter((outcome) => outcome.status === "rejected")).toHaveLength(2)
      expect(await queue.enqueue(behind)).toEqual({ jobId: behind.jobId, created: true })
      // one entry for the raced id: the job behind it is second in its type's line, not third
      if (queue.placeInLine) expect((await queue.placeInLine(behind.jobId))?.place).toBe(2)
      expect((await queue.getJob(request.jobId))?.state).toBe("waiting")
    })

    it("creates a job once when enqueues of its id race; racers with other data get a conflict", async () => {
      const request = jobRequest()
      const rival = jobRequest({ jobId: request.jobId, issueNumber: 8 })
      const bystanders = Array.from({ length: 4 }, () => jobRequest())
      const racers = [request, rival, request, request, rival]
      // all started in one tick, interleaved with enqueues of other ids
      const settled = await Promise.allSettled([...racers, ...bystanders].map((one) => queue.enqueue(one)))
      const racing = settled.slice(0, racers.length)
      const createdAt = racing.findIndex((outcome) => outcome.status === "fulfilled" && outcome.value.created)
      expect(createdAt).toBeGreaterThanOrEqual(0)
      const winner = racers[createdAt]!
      racing.forEach((outcome, index) => {
        if (index === createdAt) return
        if (racers[index] === winner)
          expect(outcome).toEqual({ status: "fulfilled", value: { jobId: request.jobId, created: false } })
        else expect(outcome.status === "rejected" && outcome.reason).toBeInstanceOf(ConflictError)
      })
      for (const outcome of settled.slice(racers.length))
        expect(outcome).toMatchObject({ status: "fulfilled", value: { created: true } })
      expect((await queue.getJob(request.jobId))?.state).toBe("waiting")
    })

    it("answers undefined / false for a job it does not know", async () => {
      expect(await queue.getJob(randomUUID())).toBeUndefined()
      expect(await queue.cancel(randomUUID())).toBe(false)
    })

    it("refuses a malformed request", async () => {
      await expect(queue.enqueue(jobRequest({ attempts: 0 }))).rejects.toThrow(/attempts/)
      await expect(queue.enqueue(jobRequest({ priority: "asap" as Priority }))).rejects.toThrow(/priority/)
    })

    it("runs urgent before high before normal before low, FIFO within a priority", async () => {
      const order: string[] = []
      const labels = new Map<string, string>()
      const add = async (label: string, priority: Priority) => {
        const request = jobRequest({ priority })
        labels.set(request.jobId, label)
        await queue.enqueue(request)
      }
      await add("low-1", "low")
      await add("normal-1", "normal")
      await add("low-2", "low")
      await add("urgent-1", "urgent")
      await add("high-1", "high")
      await add("normal-2", "normal")
      await add("urgent-2", "urgent")
      queue.process(
        "comment-on-issue",
        async (job) => {
          order.push(labels.get(job.jobId)!)
          return resultFor(job)
        },
        { concurrency: 1 },
      )
      await waitFor(() => order.length === 7, "all seven jobs to run", timeoutMs)
      expect(order).toEqual(["urgent-1", "urgent-2", "high-1", "normal-1", "normal-2", "low-1", "low-2"])
    })

    it("cancels a waiting job so that it never runs", async () => {
      const doomed = jobRequest()
      const after = jobRequest()
      await queue.enqueue(doomed)
      await queue.enqueue(after)
      expect(await queue.cancel(doomed.jobId)).toBe(true)
      expect((await queue.getJob(doomed.jobId))?.state).toBe("cancelled")

      const ran: string[] = []
      queue.process(
        "comment-on-issue",
        async (job) => {
          ran.push(job.jobId)
          return resultFor(job)
        },
        { concurrency: 1 },
      )
      await stateOf(queue, after.jobId, "completed")
      await sleep(100)
      expect(ran).toEqual([after.jobId])
      const info = await queue.getJob(doomed.jobId)
      expect(info).toMatchObject({ state: "cancelled", attempt: 0 })
      expect(await queue.cancel(doomed.jobId)).toBe(false)
      // resending the cancelled job is still "the same job", not a new run
      expect(await queue.enqueue(doomed)).toEqual({ jobId: doomed.jobId, created: false })
    })

    it("cancels a running job: the handler's signal fires, the job ends cancelled and is not retried", async () => {
      const request = jobRequest({ attempts: 3 })
      await queue.enqueue(request)
      const started = gate()
      let calls = 0
      let reason: unknown
      queue.process(
        "comment-on-issue",
        async (job) => {
          calls++
          started.open()
          await new Promise<void>((resolve) =>
            job.signal.addEventListener("abort", () => resolve(), { once: true }),
          )
          reason = job.signal.reason
          throw job.signal.reason
        },
        { concurrency: 1 },
      )
      await started.opened
      await stateOf(queue, request.jobId, "active")
      expect(await queue.cancel(request.jobId)).toBe(true)
      const cancelled = await stateOf(queue, request.jobId, "cancelled")
      expect(reason).toBeInstanceOf(Error)
      expect(cancelled.attempt).toBe(1)
      await sleep(200)
      expect(calls).toBe(1)
      expect((await queue.getJob(request.jobId))?.state).toBe("cancelled")
      expect(await queue.cancel(request.jobId)).toBe(false)
    })

    it("never runs more handlers at once than the concurrency", async () => {
      const ids: string[] = []
      for (let i = 0; i < 6; i++) {
        const request = jobRequest()
        ids.push(request.jobId)
        await queue.enqueue(request)
      }
      let inFlight = 0
      let maxInFlight = 0
      queue.process(
        "comment-on-issue",
        async (job) => {
          inFlight++
          maxInFlight = Math.max(maxInFlight, inFlight)
          await sleep(60)
          inFlight--
          return resultFor(job)
        },
        { concurrency: 2 },
      )
      for (const id of ids) await stateOf(queue, id, "completed")
      expect(maxInFlight).toBe(2)
    })

    it("only hands a worker jobs of its own type", async () => {
      const comment = jobRequest()
      const resolveJobId = randomUUID()
      await queue.enqueue(comment)
      await queue.enqueue(resolveRequest(resolveJobId))
      const types: string[] = []
      queue.process(
        "resolve-issue",
        async (job) => {
          types.push(job.type)
          return resultFor(job)
        },
        { concurrency: 1 },
      )
      await stateOf(queue, resolveJobId, "completed")
      expect(types).toEqual(["resolve-issue"])
      expect((await queue.getJob(comment.jobId))?.state).toBe("waiting")
    })

    it("refuses an invalid request, naming the field, and stores nothing", async () => {
      const request = jobRequest()
      const fieldsOf = async (bad: EnqueueRequest) => {
        const error = await queue.enqueue(bad).catch((caught: unknown) => caught)
        expect(error).toBeInstanceOf(ValidationError)
        return (error as ValidationError).issues.map((issue) => issue.field)
      }
      expect(await fieldsOf({ ...request, attempts: 0 })).toEqual(["attempts"])
      expect(await fieldsOf({ ...request, priority: "soon" as never })).toEqual(["priority"])
      expect(await fieldsOf({ ...request, data: undefined })).toEqual(["data"])
      expect(await fieldsOf({ ...request, limits: [{ key: "repo:a/b", max: 0 }] })).toEqual(["limits.0.max"])
      expect(await fieldsOf({ ...request, limits: [{ key: "", max: 1 }] })).toEqual(["limits.0.key"])
      expect(await queue.getJob(request.jobId)).toBeUndefined()
      // nothing half-stored: the id is still free for a valid request
      expect(await queue.enqueue(request)).toEqual({ jobId: request.jobId, created: true })
    })

    it("carries the payload as given: opaque JSON, validated by the application, not the queue", async () => {
      const payload = { any: ["json", 1, true, null], nested: { shape: "the queue does not know" } }
      const request = { ...jobRequest(), data: payload }
      expect(await queue.enqueue(request)).toEqual({ jobId: request.jobId, created: true })
      const seen: unknown[] = []
      queue.process(
        "comment-on-issue",
        async (job) => {
          seen.push(job.data)
          return { echoed: job.data }
        },
        { concurrency: 1 },
      )
      const done = await stateOf(queue, request.jobId, "completed")
      expect(seen).toEqual([payload])
      expect(done.result).toEqual({ echoed: payload })
    })

    it("runs jobs sharing a concurrency key one at a time, across types; other keys run meanwhile", async () => {
      const key = "octocat/hello-world#7"
      const first = jobRequest({ concurrencyKey: key })
      const second = resolveRequest(randomUUID(), { concurrencyKey: key, attempts: 2 })
      const third = jobRequest({ concurrencyKey: key })
      const free = jobRequest({ concurrencyKey: "octocat/hello-world#8" })
      const labels = new Map([
        [first.jobId, "first"],
        [second.jobId, "second"],
        [third.jobId, "third"],
        [free.jobId, "free"],
      ])
      for (const request of [first, second, third, free]) await queue.enqueue(request)
      const events: string[] = []
      let keyed = 0
      let overlap = false
      const handler = async (job: JobContext) => {
        const label = labels.get(job.jobId)!
        const isKeyed = label !== "free"
        if (isKeyed && ++keyed > 1) overlap = true
        events.push(`start ${label}`)
        await sleep(isKeyed ? 120 : 10)
        events.push(`end ${label}`)
        if (isKeyed) keyed--
        return resultFor(job)
      }
      queue.process("comment-on-issue", handler, { concurrency: 3 })
      queue.process("resolve-issue", handler, { concurrency: 3 })
      for (const request of [first, second, third, free]) {
        const done = await stateOf(queue, request.jobId, "completed")
        // waiting for the key is not an attempt
        expect(done.attempt).toBe(1)
      }
      expect(overlap).toBe(false)
      // another key is not held up by this one
      const keyedEvents = events.filter((event) => !event.endsWith(" free"))
      expect(keyedEvents).toHaveLength(6)
      // strictly start/end/start/end…: each keyed job ends before the next keyed job starts
      keyedEvents.forEach((event, index) => {
        expect(event.startsWith(index % 2 === 0 ? "start " : "end ")).toBe(true)
        if (index % 2 === 1) expect(event.slice(4)).toBe(keyedEvents[index - 1]!.slice(6))
      })
      expect(events.indexOf("end free")).toBeLessThan(events.indexOf(keyedEvents[3]!))
    })

    it("runs at most `max` jobs of a limit at once, across types; the rest wait in line with their place, uncounted", async () => {
      const repo = { key: "repo:octocat/hello-world", max: 1 }
      const org = { key: "installation:octocat", max: 5 }
      // distinct issues: only the repository limit holds them back; arrival order a, b (other type), c
      const a = jobRequest({ concurrencyKey: "octocat/hello-world#1", limits: [repo, org] })
      const b = resolveRequest(randomUUID(), {
        concurrencyKey: "octocat/hello-world#2",
        limits: [repo, org],
        attempts: 2,
      })
      const c = jobRequest({ concurrencyKey: "octocat/hello-world#3", limits: [repo, org] })
      // another repository of the same installation is not held up
      const other = jobRequest({
        concurrencyKey: "octocat/other#1",
        limits: [{ key: "repo:octocat/other", max: 1 }, org],
      })
      const labels = new Map([
        [a.jobId, "a"],
        [b.jobId, "b"],
        [c.jobId, "c"],
        [other.jobId, "other"],
      ])
      const gates = new Map([...labels.keys()].map((id) => [id, gate()]))
      for (const request of [a, b, c, other]) await queue.enqueue(request)
      const started: string[] = []
      const handler = async (job: JobContext) => {
        started.push(labels.get(job.jobId)!)
        await gates.get(job.jobId)!.opened
        return resultFor(job)
      }
      queue.process("comment-on-issue", handler, { concurrency: 3 })
      queue.process("resolve-issue", handler, { concurrency: 3 })
      try {
        await waitFor(
          () => started.includes("a") && started.includes("other"),
          "a and other to start",
          timeoutMs,
        )
        await sleep(150)
        expect(started.filter((label) => label !== "other")).toEqual(["a"])
        if (queue.placeInLine) {
          expect(await queue.placeInLine(b.jobId)).toEqual({
            place: 1,
            waitingFor: { kind: "limit", key: repo.key, max: 1 },
          })
          expect(await queue.placeInLine(c.jobId)).toEqual({
            place: 2,
            waitingFor: { kind: "limit", key: repo.key, max: 1 },
          })
          // a limit holds it, so heldOnly answers the same place
          expect(await queue.placeInLine(c.jobId, { heldOnly: true })).toEqual({
            place: 2,
            waitingFor: { kind: "limit", key: repo.key, max: 1 },
          })
          expect(await queue.placeInLine(a.jobId)).toBeUndefined()
        }
        gates.get(a.jobId)!.open()
        await waitFor(() => started.includes("b"), "b to start after a", timeoutMs)
        await sleep(150)
        expect(started.filter((label) => label !== "other")).toEqual(["a", "b"])
        if (queue.placeInLine)
          expect(await queue.placeInLine(c.jobId)).toMatchObject({ place: 1, waitingFor: { kind: "limit" } })
        gates.get(b.jobId)!.open()
        gates.get(c.jobId)!.open()
        gates.get(other.jobId)!.open()
        for (const request of [a, b, c, other]) {
          // waiting for a slot is not an attempt
          expect((await stateOf(queue, request.jobId, "completed")).attempt).toBe(1)
        }
        expect(started.filter((label) => label !== "other")).toEqual(["a", "b", "c"])
      } finally {
        // a failed check must not leave handlers hanging on their gates
        for (const g of gates.values()) g.open()
      }
    })

    it("shows what a waiting job waits for: its issue's active job, then a free worker", async () => {
      if (!queue.placeInLine) return
      const key = "octocat/hello-world#9"
      const limits = [{ key: "repo:octocat/hello-world", max: 3 }]
      const first = jobRequest({ concurrencyKey: key, limits })
      const followUp = jobRequest({ concurrencyKey: key, limits })
      await queue.enqueue(first)
      await queue.enqueue(followUp)
      // no worker yet: nothing active, so the first waits for a worker
      expect(await queue.placeInLine(first.jobId)).toEqual({ place: 1, waitingFor: { kind: "workers" } })
      // held only by the lack of a worker: nothing holds it, so heldOnly counts nothing and answers undefined
      expect(await queue.placeInLine(first.jobId, { heldOnly: true })).toBeUndefined()
      const release = gate()
      queue.process(
        "comment-on-issue",
        async (job) => {
          if (job.jobId === first.jobId) await release.opened
          return resultFor(job)
        },
        { concurrency: 2 },
      )
      await stateOf(queue, first.jobId, "active")
      expect(await queue.placeInLine(followUp.jobId)).toEqual({ place: 1, waitingFor: { kind: "key", key } })
      expect(await queue.placeInLine(followUp.jobId, { heldOnly: true })).toEqual({
        place: 1,
        waitingFor: { kind: "key", key },
      })
      release.open()
      await stateOf(queue, followUp.jobId, "completed")
      expect(await queue.placeInLine(followUp.jobId)).toBeUndefined()
    })

    it("cancels a job waiting for a slot; the one behind it moves up", async () => {
      const limits = [{ key: "repo:octocat/hello-world", max: 1 }]
      const running = jobRequest({ concurrencyKey: "octocat/hello-world#1", limits })
      const doomed = jobRequest({ concurrencyKey: "octocat/hello-world#2", limits })
      const last = jobRequest({ concurrencyKey: "octocat/hello-world#3", limits })
      for (const request of [running, doomed, last]) await queue.enqueue(request)
      const release = gate()
      const ran: string[] = []
      queue.process(
        "comment-on-issue",
        async (job) => {
          ran.push(job.jobId)
          if (job.jobId === running.jobId) await release.opened
          return resultFor(job)
        },
        { concurrency: 3 },
      )
      await stateOf(queue, running.jobId, "active")
      expect(await queue.cancel(doomed.jobId)).toBe(true)
      if (queue.placeInLine) expect((await queue.placeInLine(last.jobId))?.place).toBe(1)
      release.open()
      await stateOf(queue, last.jobId, "completed")
      expect(ran).toEqual([running.jobId, last.jobId])
      expect((await queue.getJob(doomed.jobId))?.state).toBe("cancelled")
    })

    it("fails an attempt that exceeds its wall-clock limit with a clear error, without retrying it", async () => {
      const request = jobRequest({ attempts: 3 })
      await queue.enqueue(request)
      let calls = 0
      let sawAbort = false
      queue.process(
        "comment-on-issue",
        async (job) => {
          calls++
          await new Promise((resolve) => job.signal.addEventListener("abort", resolve, { once: true }))
          sawAbort = true
          throw job.signal.reason
        },
        { concurrency: 1, timeouts: { wallMs: 150 } },
      )
      const failed = await stateOf(queue, request.jobId, "failed")
      expect(sawAbort).toBe(true)
      expect(failed.error).toMatch(/timed out after 150 ms/)
      await sleep(100)
      expect(calls).toBe(1)
    })

    it("retries an attempt that reports no progress within its idle limit; progress keeps it alive", async () => {
      const request = jobRequest({ attempts: 2 })
      await queue.enqueue(request)
      const attempts: number[] = []
      queue.process(
        "comment-on-issue",
        async (job) => {
          attempts.push(job.attempt)
          if (job.attempt === 1) {
            await new Promise((resolve) => job.signal.addEventListener("abort", resolve, { once: true }))
            throw job.signal.reason
          }
          // 4 × 80 ms = 320 ms in all, more than the 200 ms idle limit, but never 200 ms silent
          for (let step = 1; step <= 4; step++) {
            await sleep(80)
            await job.progress(step * 25, `step ${step}`)
          }
          return resultFor(job)
        },
        { concurrency: 1, timeouts: { idleMs: 200 } },
      )
      const done = await stateOf(queue, request.jobId, "completed")
      expect(attempts).toEqual([1, 2])
      expect(done.attempt).toBe(2)
    })
  })
}
