import { errorMessage, GitHubError } from "#domain/errors.js"
import { createOneAtATime } from "#domain/one-at-a-time.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import type { RunEventData } from "#domain/run-event.js"
import { isTerminal, type WorkflowRun } from "#domain/workflow-run.js"
import type { GitHub } from "./ports/github.js"
import type { Logger } from "./ports/logging.js"
import type { RunStore } from "./ports/run-store.js"
import { describePlace, type RunPlace, type RunPlaces } from "./run-place.js"
import { leftQueueBody, queuedCommentBody } from "./workflows/run-comment.js"

/**
 * The issue comment of a webhook-started run that has to wait (issue 12's fair queue): posted when
 * the run is queued behind a limit or its issue's active run, with its place and estimated start,
 * edited while it waits whenever its place or what it waits for changes, and edited once more when
 * the run starts (or is cancelled while waiting). A run that starts at once gets none.
 *
 * Following the line: every status event that can move a line (a run starting or ending, anywhere in
 * this process's journal) asks for a "pass": each followed run's place is looked up in the queue, and
 * its comment is edited only when the place, the reason or the limit differs from what it shows (kept
 * in the run's `queuedCommentPlace` artifact, so any process can tell). The followed runs are the
 * ones this process posted for, plus the waiting runs with a comment listed from the store (pending
 * runs only, an indexed query, never the history; at most once per `refreshMs`, so comments another
 * process posted are picked up within that time). GitHub traffic is bounded: passes run at most once
 * per `passMs` (the last request always gets one), each comment is written (posted or edited) at
 * most once per `editMs` (a change inside the window lands when it ends, with the place of that
 * moment; a change that reverted meanwhile costs nothing; inside the window its place is not even
 * looked up, which bounds the queue's place queries to one per comment per window), and runs
 * without a comment cost no GitHub request and no place lookup. A run waiting only for a free worker
 * once its slot freed is shown so only after a window (a worker usually takes it first, and its start
 * is the next edit). With several processes, whichever one records the event edits; they share what the comment
 * shows through the store, so a second process seeing the same place does not edit again (the edit
 * throttle itself is per process).
 *
 * Start and cancel edits are made by whichever process records them: it finds the comment through
 * the run's `queuedCommentId` artifact, so a run that never waited costs GitHub no request. A run that
 * starts while its comment is being posted or edited is caught by the poster or editor, which looks
 * at the run again after recording the comment.
 */
export interface QueuedComments {
  /**
   * after a webhook enqueued `run`: posts the comment when the run waits for a limit or its issue.
   * Returns at once (the delivery's answer never waits for GitHub); never throws.
   */
  announce(run: WorkflowRun, sender: string): void
  /**
   * journal observer: a start or cancel edits the run's own comment, and any start or end re-checks
   * the places of the runs with a comment; never throws, never waits for GitHub
   */
  observe(runId: string, events: RunEventData[]): void
  /** runs a pass that is waiting for its throttle now and waits for all GitHub work in flight */
  flush(): Promise<void>
  /**
   * stops following (throttled edits not made yet are dropped: the run's start still edits the
   * comment, from whichever process records it) and waits for the work in flight
   */
  close(): Promise<void>
}

/** Time and timers, injected so tests drive the throttles without sleeping. */
export interface QueuedCommentTimers {
  now(): number
  setTimeout(run: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

const realTimers: QueuedCommentTimers = {
  now: Date.now,
  setTimeout: (run, ms) => setTimeout(run, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** at most one edit of a comment per this many ms (the last change always lands) */
export const QUEUED_COMMENT_EDIT_MS = 10_000
/** at most one re-check of the places per this many ms per process */
export const QUEUED_COMMENT_PASS_MS = 1_000
/** at most one read of the waiting runs with a comment from the store per this many ms per process */
export const QUEUED_COMMENT_REFRESH_MS = 10_000
/** waiting runs followed per pass (the newest pending runs; older ones keep their last edit) */
const MAX_FOLLOWED = 1_000
const PAGE = 200

/** what the comment shows that matters: the place, what it waits for and the limit (not the estimate) */
export const placeKey = (place: RunPlace): string => `${place.place}|${place.waitingFor}|${place.limit ?? ""}`

interface Followed {
  run: WorkflowRun
  commentId: number
  /** placeKey of what the comment shows (undefined: not known, e.g. posted before it was recorded) */
  shown: string | undefined
  lastEditAt: number | undefined
  /** a throttled edit waiting for its window */
  timer?: unknown
  /** since when it has been waiting only for a free worker (shown once that lasted `editMs`) */
  workersSince?: number | undefined
  editing: boolean
}

export const createQueuedComments = (deps: {
  github: GitHub
  store: RunStore
  places: RunPlaces
  logger: Logger
  runUrl?: ((runId: string) => string) | undefined
  timers?: QueuedCommentTimers
  editMs?: number
  passMs?: number
  refreshMs?: number
}): QueuedComments => {
  const log = deps.logger.child({ component: "queued-comments" })
  const timers = deps.timers ?? realTimers
  const editMs = deps.editMs ?? QUEUED_COMMENT_EDIT_MS
  const passMs = deps.passMs ?? QUEUED_COMMENT_PASS_MS
  const refreshMs = deps.refreshMs ?? QUEUED_COMMENT_REFRESH_MS
  const pending = new Set<Promise<void>>()
  const oneAtATime = createOneAtATime()
  const followed = new Map<string, Followed>()
  const link = (runId: string) => (deps.runUrl ? { runUrl: deps.runUrl(runId) } : {})

  const track = (runId: string | undefined, work: Promise<void>, what: string) => {
    const tracked = work.catch((error: unknown) =>
      log.warn(what, { ...(runId ? { runId } : {}), error: errorMessage(error) }),
    )
    pending.add(tracked)
    void tracked.finally(() => pending.delete(tracked))
  }

  const unfollow = (runId: string) => {
    const entry = followed.get(runId)
    if (entry?.timer !== undefined) timers.clearTimeout(entry.timer)
    followed.delete(runId)
  }

  const leave = async (runId: string, outcome: "started" | "cancelled") => {
    const run = await deps.store.getRun(runId)
    const commentId = run?.artifacts.queuedCommentId
    if (!run || commentId === undefined) return
    await edit(run, commentId, outcome)
  }

  const edit = async (run: WorkflowRun, commentId: number, outcome: "started" | "cancelled") => {
    const repo = parseRepoRef(run.repoFullName)
    const at = outcome === "started" ? (run.startedAt ?? new Date()) : (run.finishedAt ?? new Date())
    await deps.github.updateIssueComment(
      repo,
      commentId,
      leftQueueBody({
        runId: run.id,
        type: run.type,
        outcome,
        at,
        waitedMs: at.getTime() - run.createdAt.getTime(),
        ...link(run.id),
      }),
    )
  }

  /** the run has left the line (while its comment was posted or edited): say so, nobody else will */
  const leftMeanwhile = async (run: WorkflowRun, commentId: number) => {
    unfollow(run.id)
    await edit(run, commentId, run.status === "cancelled" ? "cancelled" : "started")
  }

  const placeBody = (run: WorkflowRun, sender: string | undefined, place: RunPlace) =>
    queuedCommentBody({
      runId: run.id,
      type: run.type,
      ...(sender ? { sender } : {}),
      place: describePlace(place),
      ...link(run.id),
    })

  const post = async (run: WorkflowRun, sender: string) => {
    // a run waiting only for a free worker gets no comment: not even its place is counted
    const place = await deps.places(run, { heldOnly: true })
    if (!place || place.waitingFor === "workers-busy") return
    const comment = await deps.github.createIssueComment(
      parseRepoRef(run.repoFullName),
      run.issueNumber,
      placeBody(run, sender, place),
    )
    log.info("run queued behind a limit", { runId: run.id, place: place.place, waitingFor: place.waitingFor })
    const shown = placeKey(place)
    const recorded = await deps.store.updateRun(run.id, {
      artifacts: { queuedCommentId: comment.id, queuedCommentPlace: shown },
    })
    // it may have started (or been cancelled) while the comment was on its way: then nobody else edits it
    if (recorded.status !== "pending") return leftMeanwhile(recorded, comment.id)
    if (!followed.has(run.id))
      followed.set(run.id, {
        run: recorded,
        commentId: comment.id,
        shown,
        // the post is the comment's first write: its window starts now
        lastEditAt: timers.now(),
        editing: false,
      })
    // a newcomer of a higher priority moves the runs behind it
    requestPass()
  }

  /** re-checks one followed run's place and edits its comment when what it shows is out of date */
  const update = (runId: string) =>
    oneAtATime(runId, async () => {
      const entry = followed.get(runId)
      if (!entry || closed) return
      const later = (ms: number) => {
        if (entry.timer !== undefined || closed) return
        entry.timer = timers.setTimeout(() => {
          entry.timer = undefined
          track(runId, update(runId), "could not update the queued comment")
        }, ms)
      }
      // inside the comment's edit window nothing is looked up: the place of the window's end counts
      const wait = entry.lastEditAt === undefined ? 0 : entry.lastEditAt + editMs - timers.now()
      if (wait > 0) return later(wait)
      if (entry.timer !== undefined) {
        timers.clearTimeout(entry.timer)
        entry.timer = undefined
      }
      const place = await deps.places(entry.run)
      // not waiting right now (started, or a retry's backoff): its start edits the comment
      if (!place || followed.get(runId) !== entry) return
      const key = placeKey(place)
      if (key === entry.shown) return
      // a slot freed up and the run waits only for a worker: usually one takes it within moments and
      // its start is the next edit; "waiting for a free worker" is shown once it lasted a window
      if (place.waitingFor !== "workers-busy") entry.workersSince = undefined
      else if (entry.workersSince === undefined) {
        entry.workersSince = timers.now()
        return later(editMs)
      } else if (timers.now() - entry.workersSince < editMs)
        return later(entry.workersSince + editMs - timers.now())
      entry.lastEditAt = timers.now()
      entry.editing = true
      try {
        const { run } = entry
        try {
          await deps.github.updateIssueComment(
            parseRepoRef(run.repoFullName),
            entry.commentId,
            placeBody(run, run.trigger.actor, place),
          )
        } catch (error) {
          // a deleted comment is left alone; anything else is tried again after the window
          if (error instanceof GitHubError && error.status === 404) unfollow(runId)
          else later(editMs)
          throw error
        }
        entry.shown = key
        log.info("queued comment follows the line", {
          runId,
          place: place.place,
          waitingFor: place.waitingFor,
        })
        const recorded = await deps.store.updateRun(runId, { artifacts: { queuedCommentPlace: key } })
        // it started (perhaps in another process, which edited first) while this edit was on its way
        if (recorded.status !== "pending") await leftMeanwhile(recorded, entry.commentId)
      } finally {
        entry.editing = false
      }
    })

  /** the waiting runs with a comment, from the store (any process may have posted them) */
  const refresh = async () => {
    const seen = new Set<string>()
    let cursor: string | undefined
    let complete = false
    while (seen.size < MAX_FOLLOWED) {
      const page = await deps.store.listRuns({ status: "pending", limit: PAGE, cursor })
      for (const run of page.runs) {
        seen.add(run.id)
        const commentId = run.artifacts.queuedCommentId
        if (commentId === undefined) continue
        const entry = followed.get(run.id)
        const stored = run.artifacts.queuedCommentPlace
        if (!entry) {
          followed.set(run.id, { run, commentId, shown: stored, lastEditAt: undefined, editing: false })
        } else if (!entry.editing && stored !== undefined) {
          // another process may have edited it since
          entry.shown = stored
        }
      }
      cursor = page.nextCursor
      if (!cursor) {
        complete = true
        break
      }
    }
    if (complete) for (const runId of followed.keys()) if (!seen.has(runId)) unfollow(runId)
  }

  // passes: one at a time, at most one per passMs; a request during a pass or its window gets one after
  let closed = false
  let passRunning = false
  let passWanted = false
  let lastPassAt: number | undefined
  let passTimer: unknown
  let lastRefreshAt: number | undefined
  let refreshTimer: unknown

  const runPass = () => {
    passWanted = false
    passRunning = true
    lastPassAt = timers.now()
    const work = (async () => {
      // this process's own comments are followed at once; other processes' ones from the store,
      // read at most once per refreshMs (a skipped read is owed: it comes when the window ends)
      const due = lastRefreshAt === undefined ? 0 : lastRefreshAt + refreshMs - timers.now()
      if (due <= 0) {
        lastRefreshAt = timers.now()
        await refresh()
      } else if (refreshTimer === undefined && !closed) {
        refreshTimer = timers.setTimeout(() => {
          refreshTimer = undefined
          requestPass()
        }, due)
      }
      if (followed.size === 0) return
      await Promise.all([...followed.keys()].map((runId) => update(runId)))
    })()
    track(
      undefined,
      work.finally(() => {
        passRunning = false
        if (passWanted) requestPass()
      }),
      "could not follow the queued comments' places",
    )
  }

  const requestPass = () => {
    passWanted = true
    if (closed || passRunning || passTimer !== undefined) return
    const wait = lastPassAt === undefined ? 0 : lastPassAt + passMs - timers.now()
    if (wait <= 0) return runPass()
    passTimer = timers.setTimeout(() => {
      passTimer = undefined
      if (!passRunning) runPass()
    }, wait)
  }

  return {
    announce(run, sender) {
      track(run.id, post(run, sender), "could not post the run's place in line")
    },
    observe(runId, events) {
      const status = events.findLast((event) => event.type === "status")
      if (status?.type !== "status") return
      // the first start (attempt 1), or a cancel before any start
      const outcome =
        status.status === "running" && status.attempt <= 1
          ? "started"
          : status.status === "cancelled" && status.attempt === 0
            ? "cancelled"
            : undefined
      if (outcome) {
        unfollow(runId)
        // after any place edit of it in flight, so the last word is the start
        track(
          runId,
          oneAtATime(runId, () => leave(runId, outcome)),
          "could not update the queued comment",
        )
      }
      // a run left a line (it started) or freed a slot (it ended): the places behind may have moved
      if (status.status === "running" || isTerminal(status.status)) requestPass()
    },
    async flush() {
      if (passTimer !== undefined) {
        timers.clearTimeout(passTimer)
        passTimer = undefined
        if (!passRunning) runPass()
      }
      while (pending.size > 0) await Promise.all([...pending])
    },
    async close() {
      closed = true
      for (const handle of [passTimer, refreshTimer, ...[...followed.values()].map((entry) => entry.timer)])
        if (handle !== undefined) timers.clearTimeout(handle)
      passTimer = undefined
      refreshTimer = undefined
      for (const entry of followed.values()) entry.timer = undefined
      while (pending.size > 0) await Promise.all([...pending])
    },
  }
}
