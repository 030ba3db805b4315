import type { WorkflowRun } from "#domain/workflow-run.js"
import { type WaitReason, waitReasonOf } from "./job-data.js"
import type { JobQueue } from "./ports/job-queue.js"
import type { RunStore } from "./ports/run-store.js"

/**
 * A waiting run's place in line and an estimated start, for `GET /api/jobs/:id`, the UI and the
 * run's issue comment. The place comes from the queue (both adapters answer it the same way); the
 * estimate from how long recent finished runs took: one average run per `capacity` places ahead
 * (the limit that holds it, or 1). It is "unknown" when nothing has finished yet.
 */
export interface RunPlace {
  /** 1 = the next to start once what it waits for frees up */
  place: number
  waitingFor: WaitReason
  /** the limit that holds it (repository-limit / installation-limit) */
  limit?: number
  /** ISO 8601, or "unknown" when there is no history to estimate from */
  estimatedStart: string
  /** the estimate in words, with what it is based on */
  estimate: string
}

/** `heldOnly`: undefined unless a limit or the issue's active run holds it (see JobQueue.placeInLine) */
export type RunPlaces = (
  run: WorkflowRun,
  options?: { heldOnly?: boolean | undefined },
) => Promise<RunPlace | undefined>

const SAMPLE = 20
const CACHE_MS = 30_000
/** "no history yet" is kept briefly only: the first finished run should show soon */
const NO_HISTORY_CACHE_MS = 1_000

const minutes = (ms: number) => Math.max(1, Math.round(ms / 60_000))

/** `about 10:42 UTC (in ~4 min, from the average of 12 recent runs of acme/app)` */
const describe = (start: Date, waitMs: number, basis: string) =>
  `about ${start.toISOString().slice(11, 16)} UTC (in ~${minutes(waitMs)} min, from ${basis})`

export const WAIT_REASON_TEXT: Record<WaitReason, string> = {
  "issue-active": "this issue's active run to finish",
  "repository-limit": "a free slot of the repository's run limit",
  "installation-limit": "a free slot of the installation's run limit",
  "workers-busy": "a free worker",
}

export const createRunPlaces = (deps: {
  queue: JobQueue | undefined
  store: RunStore
  now?: () => number
}): RunPlaces => {
  const now = deps.now ?? Date.now
  const averages = new Map<
    string,
    { at: number; empty?: boolean; value: Promise<{ ms: number; basis: string } | undefined> }
  >()

  const durations = (runs: WorkflowRun[]) =>
    runs
      .filter((run) => run.startedAt && run.finishedAt)
      .map((run) => run.finishedAt!.getTime() - run.startedAt!.getTime())
      .filter((ms) => ms >= 0)

  /** mean duration of recent completed runs of the repository, else of any repository */
  const average = (repoFullName: string) => {
    const cached = averages.get(repoFullName)
    if (cached && now() - cached.at < (cached.empty ? NO_HISTORY_CACHE_MS : CACHE_MS)) return cached.value
    const value = (async () => {
      const own = durations(
        (await deps.store.listRuns({ repoFullName, status: "completed", limit: SAMPLE })).runs,
      )
      const sample =
        own.length > 0
          ? own
          : durations((await deps.store.listRuns({ status: "completed", limit: SAMPLE })).runs)
      if (sample.length === 0) return undefined
      const ms = sample.reduce((sum, d) => sum + d, 0) / sample.length
      const basis = `the average of ${sample.length} recent run${sample.length === 1 ? "" : "s"}${own.length > 0 ? ` of ${repoFullName}` : ""}`
      return { ms, basis }
    })()
    if (averages.size > 1_000) averages.clear()
    const entry: { at: number; empty?: boolean; value: typeof value } = { at: now(), value }
    averages.set(repoFullName, entry)
    value.then(
      (found) => {
        if (!found) entry.empty = true
      },
      () => averages.delete(repoFullName),
    )
    return value
  }

  return async (run, options) => {
    if (run.status !== "pending" || !deps.queue?.placeInLine) return undefined
    const found = await deps.queue.placeInLine(run.id, options)
    if (!found) return undefined
    const { reason, limit } = waitReasonOf(found.waitingFor)
    const history = await average(run.repoFullName)
    const capacity = limit ?? 1
    const base = { place: found.place, waitingFor: reason, ...(limit !== undefined ? { limit } : {}) }
    if (!history) return { ...base, estimatedStart: "unknown", estimate: "unknown (no finished runs yet)" }
    const waitMs = Math.ceil(found.place / capacity) * history.ms
    const start = new Date(now() + waitMs)
    return { ...base, estimatedStart: start.toISOString(), estimate: describe(start, waitMs, history.basis) }
  }
}

/** One line for people: `place 2 in line, waiting for …; estimated start: …` */
export const describePlace = (place: RunPlace): string => {
  const limit =
    place.limit !== undefined ? ` (${place.limit} active run${place.limit === 1 ? "" : "s"} at most)` : ""
  return `place ${place.place} in line, waiting for ${WAIT_REASON_TEXT[place.waitingFor]}${limit}; estimated start: ${place.estimate}`
}
