import type { WorkflowRun } from "#domain/workflow-run.js"
import type { Overview } from "./ui-schemas.js"

const median = (values: number[]): number | null => {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  const value =
    sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
  return Math.round(value * 10) / 10
}

const dayOf = (date: Date) => date.toISOString().slice(0, 10)

/** minutes from the trigger (the run was requested) to the pull request (the run ended with one) */
const minutesToPr = (run: WorkflowRun): number | undefined =>
  run.artifacts.pullRequestUrl && run.finishedAt
    ? (run.finishedAt.getTime() - run.createdAt.getTime()) / 60_000
    : undefined

/** The overview page's figures over whole UTC days: outcomes, cost and time to PR per day, success per repository. */
export const summarizeOverview = (
  runs: WorkflowRun[],
  range: { from: Date; to: Date; days: number; truncated: boolean },
): Overview => {
  const days = new Map<string, Overview["days"][number] & { minutes: number[] }>()
  for (let i = 0; i < range.days; i++) {
    const date = dayOf(new Date(range.from.getTime() + i * 86_400_000))
    days.set(date, {
      date,
      completed: 0,
      failed: 0,
      cancelled: 0,
      active: 0,
      costUsd: 0,
      medianMinutesToPr: null,
      minutes: [],
    })
  }
  const repos = new Map<string, { finished: number; completed: number }>()
  const allMinutes: number[] = []
  let cost = 0
  for (const run of runs) {
    const day = days.get(dayOf(run.createdAt))
    if (!day) continue
    if (run.status === "completed" || run.status === "failed" || run.status === "cancelled") {
      day[run.status] += 1
      const repo = repos.get(run.repoFullName) ?? { finished: 0, completed: 0 }
      repo.finished += 1
      if (run.status === "completed") repo.completed += 1
      repos.set(run.repoFullName, repo)
    } else day.active += 1
    day.costUsd = Math.round((day.costUsd + run.usage.costUsd) * 1e6) / 1e6
    cost += run.usage.costUsd
    const minutes = minutesToPr(run)
    if (minutes !== undefined) {
      day.minutes.push(minutes)
      allMinutes.push(minutes)
    }
  }
  return {
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    days: [...days.values()].map(({ minutes, ...day }) => ({ ...day, medianMinutesToPr: median(minutes) })),
    totals: {
      runs: runs.length,
      costUsd: Math.round(cost * 1e6) / 1e6,
      medianMinutesToPr: median(allMinutes),
    },
    repositories: [...repos.entries()]
      .map(([repoFullName, r]) => ({
        repoFullName,
        finished: r.finished,
        completed: r.completed,
        successRate: r.finished ? r.completed / r.finished : 0,
      }))
      .sort((a, b) => b.finished - a.finished || a.repoFullName.localeCompare(b.repoFullName)),
    truncated: range.truncated,
  }
}
