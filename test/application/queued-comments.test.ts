/**
 * The "waiting in line" comment follows the line (issue 12): the real comment poster over the real
 * Octokit adapter into the GitHub double and a real SQLite run store; the places are steered by the
 * test (run-place.ts and the queues' placeInLine have their own tests, and fair-queue.e2e.test.ts runs
 * all of it together), and so is time: a fake clock drives the edit throttle, nothing sleeps.
 */
import { randomUUID } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createOctokitGitHub } from "#adapters/github/octokit-github.js"
import { createSqlRunStore, type SqlRunStore } from "#adapters/store/sql/sql-run-store.js"
import {
  createQueuedComments,
  type QueuedComments,
  type QueuedCommentTimers,
} from "#application/queued-comments.js"
import type { RunPlace, RunPlaces } from "#application/run-place.js"
import type { WorkflowRun } from "#domain/workflow-run.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import { type CapturedLog, createCapturingLogger } from "../support/logger.js"

const TOKEN = "ghp_queuedCommentsToken_0123456789"
const REPO = "acme/line"

/** setTimeout and Date.now the test moves by hand */
const fakeTimers = () => {
  let now = Date.parse("2026-12-06T10:00:00.000Z")
  let due: Array<{ at: number; run: () => void }> = []
  const timers: QueuedCommentTimers & { advance(ms: number): void } = {
    now: () => now,
    setTimeout(run, ms) {
      const timer = { at: now + ms, run }
      due.push(timer)
      return timer
    },
    clearTimeout(handle) {
      due = due.filter((timer) => timer !== handle)
    },
    advance(ms) {
      now += ms
      for (;;) {
        const next = due.filter((timer) => timer.at <= now).sort((a, b) => a.at - b.at)[0]
        if (!next) break
        due = due.filter((timer) => timer !== next)
        next.run()
      }
    },
  }
  return timers
}

/** a run's status event, as the journal shows it to the observer, and the edits it caused done */
const tell = async (
  observer: QueuedComments,
  runId: string,
  status: "running" | "completed" | "failed" | "cancelled",
  attempt: number,
) => {
  observer.observe(runId, [{ type: "status", status, attempt }])
  await observer.flush()
}

const waiting = (place: number): RunPlace => ({
  place,
  waitingFor: "repository-limit",
  limit: 1,
  estimatedStart: "unknown",
  estimate: "unknown (no finished runs yet)",
})

describe("the queued comment follows the run's place in line", () => {
  let dir: string
  let store: SqlRunStore
  let github: GitHubDouble
  let lines: CapturedLog[]
  /** what the queue would answer: run id → place (absent: not waiting) */
  let places: Map<string, RunPlace>
  let placeLookups: string[]
  let timers: ReturnType<typeof fakeTimers>
  const runPlaces: RunPlaces = async (run) => {
    placeLookups.push(run.id)
    return places.get(run.id)
  }

  const commentsFor = (options: { timers?: QueuedCommentTimers } = {}): QueuedComments =>
    createQueuedComments({
      github: createOctokitGitHub({ token: TOKEN, baseUrl: github.apiUrl }),
      store,
      places: runPlaces,
      logger: createCapturingLogger(lines),
      timers: options.timers ?? timers,
      editMs: 10_000,
      passMs: 1_000,
    })

  const newRun = async (issue: number, actor = "alice"): Promise<WorkflowRun> =>
    store.createRun({
      id: randomUUID(),
      type: "comment-on-issue",
      repoFullName: REPO,
      issueNumber: issue,
      priority: "normal",
      input: {},
      trigger: { source: "webhook", actor, deliveryId: randomUUID() },
      maxAttempts: 1,
    })
  const start = (run: WorkflowRun) =>
    store.updateRun(run.id, { status: "running", attempts: 1, startedAt: new Date(timers.now()) })
  const queuedComment = (issue: number) =>
    github.comments(REPO, issue).find((comment) => comment.body.includes("<!-- prwright:queued "))
  const edits = (issue: number) => {
    const id = queuedComment(issue)?.id
    return github.requests.filter(
      (request) => request.method === "PATCH" && request.path.endsWith(`/issues/comments/${id}`),
    ).length
  }
  /** two runs on issues a and b, waiting at places 1 and 2 with their comments posted */
  const queueTwo = async (comments: QueuedComments, a: number, b: number) => {
    const runs = [await newRun(a), await newRun(b)] as const
    for (const [index, run] of runs.entries()) places.set(run.id, waiting(index + 1))
    for (const run of runs) comments.announce(run, "alice")
    await comments.flush()
    return runs
  }
  const issues = () => [1, 2, 3, 4].map(() => github.createIssue(REPO, { title: "task", body: "do it" }))

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "prwright-queued-comments-"))
    store = await createSqlRunStore({ url: `sqlite:${path.join(dir, "prwright.db")}` })
    github = await startGitHubDouble({ tokens: { [TOKEN]: { login: "prwright-bot", repos: "*" } } })
    await github.createRepo(REPO, { files: { "README.md": "# line\n" } })
    lines = []
    places = new Map()
    placeLookups = []
    timers = fakeTimers()
  })
  afterEach(async () => {
    await github.close()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it("moves up when the run ahead starts, edits only on a change, and at most once per window (the last change lands)", async () => {
    const [i1, i2, i3, i4] = issues() as [number, number, number, number]
    const comments = commentsFor()
    const first = await newRun(i1)
    await start(first)
    const second = await newRun(i2)
    const third = await newRun(i3)
    places.set(second.id, waiting(1))
    places.set(third.id, waiting(2))
    comments.announce(first, "alice")
    comments.announce(second, "alice")
    comments.announce(third, "alice")
    await comments.flush()
    expect(queuedComment(i1)).toBeUndefined()
    expect(queuedComment(i2)?.body).toMatch(/@alice this comment-on-issue run is queued: place 1 in line/)
    expect(queuedComment(i3)?.body).toMatch(/place 2 in line/)
    expect((await store.getRun(third.id))?.artifacts.queuedCommentPlace).toBe("2|repository-limit|1")

    // (the posts opened each comment's 10 s window)
    timers.advance(10_000)
    // the first run ends; nobody has moved yet (the second has not started): no edit
    await store.updateRun(first.id, { status: "completed", finishedAt: new Date(timers.now()) })
    await tell(comments, first.id, "completed", 1)
    expect([edits(i2), edits(i3)]).toEqual([0, 0])

    // the second starts: its comment says so, the third's moves up to place 1
    places.delete(second.id)
    places.set(third.id, waiting(1))
    await start(second)
    await tell(comments, second.id, "running", 1)
    expect(queuedComment(i2)?.body).toMatch(/started at 10:00 UTC after waiting under a minute in line/)
    expect(queuedComment(i3)?.body).toMatch(
      /place 1 in line, waiting for a free slot of the repository's run limit/,
    )
    expect([edits(i2), edits(i3)]).toEqual([1, 1])
    expect((await store.getRun(third.id))?.artifacts.queuedCommentPlace).toBe("1|repository-limit|1")

    // 3 s later an urgent run jumps the line (third → 2), 2 s after that another one (third → 3):
    // inside the third's 10 s window, so nothing is edited yet …
    timers.advance(3_000)
    const urgent = await newRun(i4, "bob")
    places.set(urgent.id, waiting(1))
    places.set(third.id, waiting(2))
    comments.announce(urgent, "bob")
    await comments.flush()
    expect(queuedComment(i4)?.body).toMatch(/@bob .* place 1 in line/)
    timers.advance(2_000)
    places.set(third.id, waiting(3))
    await tell(comments, randomUUID(), "failed", 1)
    expect(edits(i3)).toBe(1)
    expect(queuedComment(i3)?.body).toMatch(/place 1 in line/)
    // … and when the window ends, one edit with the place of that moment
    timers.advance(4_999)
    await comments.flush()
    expect(edits(i3)).toBe(1)
    timers.advance(1)
    await comments.flush()
    expect(edits(i3)).toBe(2)
    expect(queuedComment(i3)?.body).toMatch(/place 3 in line/)

    // a change that reverts inside the window costs nothing
    timers.advance(2_000)
    places.set(third.id, waiting(2))
    await tell(comments, randomUUID(), "completed", 1)
    places.set(third.id, waiting(3))
    timers.advance(8_000)
    await comments.flush()
    expect(edits(i3)).toBe(2)

    // what it waits for changing is a change too (the same place)
    timers.advance(10_000)
    places.set(third.id, { ...waiting(3), waitingFor: "installation-limit", limit: 10 })
    await tell(comments, randomUUID(), "running", 1)
    expect(edits(i3)).toBe(3)
    expect(queuedComment(i3)?.body).toMatch(
      /place 3 in line, waiting for a free slot of the installation's run limit \(10 active runs at most\)/,
    )

    // the third is cancelled while waiting: its comment says so, and nothing follows it any more
    places.delete(third.id)
    await store.updateRun(third.id, { status: "cancelled", finishedAt: new Date(timers.now()) })
    await tell(comments, third.id, "cancelled", 0)
    expect(queuedComment(i3)?.body).toMatch(/cancelled while it waited in line/)
    expect(edits(i3)).toBe(4)
    placeLookups = []
    timers.advance(20_000)
    await tell(comments, randomUUID(), "completed", 1)
    expect(placeLookups).toEqual([urgent.id])
    expect(edits(i3)).toBe(4)
    expect(lines.filter((line) => line.level === "warn")).toEqual([])
  })

  it("runs without a comment cost GitHub nothing and no place lookups, however many events", async () => {
    const [i1, i2] = issues() as [number, number]
    const comments = commentsFor()
    const runs = [await newRun(i1), await newRun(i2)]
    // waiting only for a free worker: no comment
    places.set(runs[1]!.id, { ...waiting(1), waitingFor: "workers-busy" })
    comments.announce(runs[0]!, "alice")
    comments.announce(runs[1]!, "alice")
    await comments.flush()
    const before = github.requests.length
    placeLookups = []
    for (let n = 0; n < 20; n++) {
      timers.advance(500)
      comments.observe(randomUUID(), [
        { type: "status", status: n % 2 ? "running" : "completed", attempt: 1 },
      ])
      await comments.flush()
    }
    expect(github.requests.length).toBe(before)
    expect(placeLookups).toEqual([])
  })

  it("a run that waits only for a free worker once its slot freed is shown so only when that lasts a window", async () => {
    const [i1, i2] = issues() as [number, number]
    const comments = commentsFor()
    const [quick, slow] = await queueTwo(comments, i1, i2)
    timers.advance(10_000)
    const workers = (place: number): RunPlace => ({
      place,
      waitingFor: "workers-busy",
      estimatedStart: "unknown",
      estimate: "unknown (no finished runs yet)",
    })
    places.set(quick.id, workers(1))
    places.set(slow.id, workers(2))
    await tell(comments, randomUUID(), "completed", 1)
    expect([edits(i1), edits(i2)]).toEqual([0, 0])
    // a worker takes the first within moments: its next (and only) edit is its start
    timers.advance(300)
    places.delete(quick.id)
    places.set(slow.id, workers(1))
    await start(quick)
    await tell(comments, quick.id, "running", 1)
    expect(queuedComment(i1)?.body).toMatch(/started at/)
    expect([edits(i1), edits(i2)]).toEqual([1, 0])
    // the other one still waits for a worker a whole window later: now it says so
    timers.advance(9_700)
    await comments.flush()
    expect(edits(i2)).toBe(1)
    expect(queuedComment(i2)?.body).toMatch(/place 1 in line, waiting for a free worker; estimated start/)
    expect(edits(i1)).toBe(1)
  })

  it("a place edit that crosses the run's start in another process is followed by the start edit", async () => {
    const [i1] = issues() as [number]
    const comments = commentsFor()
    const run = await newRun(i1)
    places.set(run.id, waiting(2))
    comments.announce(run, "alice")
    await comments.flush()
    timers.advance(10_000)
    // the queue still answered place 1 while another process started the run (and edited its comment)
    places.set(run.id, waiting(1))
    await start(run)
    await tell(comments, randomUUID(), "completed", 1)
    expect(edits(i1)).toBe(2)
    expect(queuedComment(i1)?.body).toMatch(/started at 10:00 UTC/)
    // and it is not followed any more
    placeLookups = []
    timers.advance(20_000)
    await tell(comments, randomUUID(), "completed", 1)
    expect(placeLookups).toEqual([])
  })

  it("the post opens the comment's first window; close drops the edits not made yet and follows nothing more", async () => {
    const [i1] = issues() as [number]
    const comments = commentsFor()
    const run = await newRun(i1)
    places.set(run.id, waiting(2))
    comments.announce(run, "alice")
    await comments.flush()
    places.set(run.id, waiting(1))
    await tell(comments, randomUUID(), "running", 1)
    expect(edits(i1)).toBe(0)
    placeLookups = []
    timers.advance(10_000)
    await comments.flush()
    expect(edits(i1)).toBe(1)
    // the window's end looked the place up once; inside the window it was not looked up at all
    expect(placeLookups).toEqual([run.id])
    timers.advance(1_000)
    places.set(run.id, waiting(2))
    await tell(comments, randomUUID(), "running", 1)
    expect(edits(i1)).toBe(1)
    await comments.close()
    const before = github.requests.length
    placeLookups = []
    timers.advance(60_000)
    await tell(comments, randomUUID(), "completed", 1)
    expect(github.requests.length).toBe(before)
    expect(placeLookups).toEqual([])
  })

  it("another process (the one that records the event) finds the comments in the store and edits only on a change", async () => {
    const [i1, i2, i3] = issues() as [number, number, number]
    const poster = commentsFor()
    const [ahead, behind] = await queueTwo(poster, i1, i2)

    // a worker process that started after the comments were posted
    const workerTime = fakeTimers()
    const worker = commentsFor({ timers: workerTime })
    await tell(worker, randomUUID(), "completed", 1)
    expect([edits(i1), edits(i2)]).toEqual([0, 0])

    places.delete(ahead.id)
    places.set(behind.id, waiting(1))
    await start(ahead)
    await tell(worker, ahead.id, "running", 1)
    expect(queuedComment(i1)?.body).toMatch(/started at/)
    expect(queuedComment(i2)?.body).toMatch(/place 1 in line/)
    expect([edits(i1), edits(i2)]).toEqual([1, 1])

    // the poster sees a later event: the store says the comment already shows place 1
    timers.advance(60_000)
    await tell(poster, randomUUID(), "completed", 1)
    expect([edits(i1), edits(i2)]).toEqual([1, 1])

    // a comment the poster adds after the worker read the store is followed by the worker within its
    // refresh window: the worker's own next event does not see it, the owed read 10 s later does
    const late = await newRun(i3, "carol")
    places.set(late.id, waiting(2))
    poster.announce(late, "carol")
    await poster.flush()
    expect(queuedComment(i3)?.body).toMatch(/place 2 in line/)
    places.delete(behind.id)
    places.set(late.id, waiting(1))
    await start(behind)
    await tell(worker, behind.id, "running", 1)
    expect(queuedComment(i2)?.body).toMatch(/started at/)
    expect(edits(i3)).toBe(0)
    workerTime.advance(10_000)
    await worker.flush()
    expect(edits(i3)).toBe(1)
    expect(queuedComment(i3)?.body).toMatch(/@carol .*place 1 in line/)
  })
})
