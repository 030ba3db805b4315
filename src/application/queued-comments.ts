import { errorMessage } from "#domain/errors.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import type { RunEventData } from "#domain/run-event.js"
import type { WorkflowRun } from "#domain/workflow-run.js"
import type { GitHub } from "./ports/github.js"
import type { Logger } from "./ports/logging.js"
import type { RunStore } from "./ports/run-store.js"
import { describePlace, type RunPlaces } from "./run-place.js"
import { leftQueueBody, queuedCommentBody } from "./workflows/run-comment.js"

/**
 * The issue comment of a webhook-started run that has to wait (issue 12's fair queue): posted when
 * the run is queued behind a limit or its issue's active run, with its place and estimated start, and
 * edited when the run starts (or is cancelled while waiting). A run that starts at once gets none.
 * The edit is made by whichever process records the start (a worker): it finds the comment through
 * the run's `queuedCommentId` artifact, so a run that never waited costs GitHub no request. A run that
 * starts while its comment is being posted is caught by the poster, which looks at the run again
 * after recording the comment.
 */
export interface QueuedComments {
  /**
   * after a webhook enqueued `run`: posts the comment when the run waits for a limit or its issue.
   * Returns at once (the delivery's answer never waits for GitHub); never throws.
   */
  announce(run: WorkflowRun, sender: string): void
  /** journal observer: a start or cancel edits the comment; never throws, never waits for GitHub */
  observe(runId: string, events: RunEventData[]): void
  flush(): Promise<void>
}

export const createQueuedComments = (deps: {
  github: GitHub
  store: RunStore
  places: RunPlaces
  logger: Logger
  runUrl?: ((runId: string) => string) | undefined
}): QueuedComments => {
  const log = deps.logger.child({ component: "queued-comments" })
  const pending = new Set<Promise<void>>()
  const link = (runId: string) => (deps.runUrl ? { runUrl: deps.runUrl(runId) } : {})

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

  const track = (runId: string, work: Promise<void>, what: string) => {
    const tracked = work.catch((error: unknown) => log.warn(what, { runId, error: errorMessage(error) }))
    pending.add(tracked)
    void tracked.finally(() => pending.delete(tracked))
  }

  const post = async (run: WorkflowRun, sender: string) => {
    // a run waiting only for a free worker gets no comment: not even its place is counted
    const place = await deps.places(run, { heldOnly: true })
    if (!place || place.waitingFor === "workers-busy") return
    const comment = await deps.github.createIssueComment(
      parseRepoRef(run.repoFullName),
      run.issueNumber,
      queuedCommentBody({
        runId: run.id,
        type: run.type,
        sender,
        place: describePlace(place),
        ...link(run.id),
      }),
    )
    log.info("run queued behind a limit", { runId: run.id, place: place.place, waitingFor: place.waitingFor })
    const recorded = await deps.store.updateRun(run.id, { artifacts: { queuedCommentId: comment.id } })
    // it may have started (or been cancelled) while the comment was on its way: then nobody else edits it
    if (recorded.status !== "pending")
      await edit(recorded, comment.id, recorded.status === "cancelled" ? "cancelled" : "started")
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
      if (!outcome) return
      track(runId, leave(runId, outcome), "could not update the queued comment")
    },
    async flush() {
      while (pending.size > 0) await Promise.all([...pending])
    },
  }
}
