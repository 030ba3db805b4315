import type { JobResult } from "#application/job-data.js"
import { jobResultOf } from "#application/job-data.js"
import type { RunPlace } from "#application/run-place.js"
import type { WorkflowRun } from "#domain/workflow-run.js"

/** The seed's JobStatus plus the fields INTERFACES.md adds; what GET /api/jobs/:jobId answers. */
export interface JobStatusBody {
  jobId: string
  type: WorkflowRun["type"]
  status: WorkflowRun["status"]
  progress: number
  progressMessage?: string | undefined
  attempts: number
  maxAttempts: number
  repoFullName: string
  issueNumber: number
  priority: WorkflowRun["priority"]
  trigger: WorkflowRun["trigger"]
  usage: WorkflowRun["usage"]
  result?: JobResult | undefined
  error?: string | undefined
  createdAt: string
  updatedAt: string
  startedAt?: string | undefined
  finishedAt?: string | undefined
  /** a waiting run's place in line, what it waits for and an estimated start (GET /api/jobs/:id) */
  queue?: RunPlace | undefined
}

export const toJobStatus = (run: WorkflowRun, place?: RunPlace): JobStatusBody => {
  const finished = run.status === "completed" || run.status === "failed" || run.status === "cancelled"
  const result = finished ? jobResultOf(run) : undefined
  return {
    jobId: run.id,
    type: run.type,
    status: run.status,
    progress: run.progress,
    progressMessage: run.progressMessage,
    attempts: run.attempts,
    maxAttempts: run.maxAttempts,
    repoFullName: run.repoFullName,
    issueNumber: run.issueNumber,
    priority: run.priority,
    trigger: run.trigger,
    usage: run.usage,
    result,
    error: run.error,
    createdAt: run.createdAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
    startedAt: run.startedAt?.toISOString(),
    finishedAt: run.finishedAt?.toISOString(),
    queue: run.status === "pending" ? place : undefined,
  }
}

/** The 202 answer to a requested job: its id and status, where to follow it, and whether it is new. */
export const acceptedBody = (result: { jobId: string; status: string; created: boolean }) => {
  const statusUrl = `/api/jobs/${result.jobId}`
  return {
    jobId: result.jobId,
    status: result.status,
    statusUrl,
    eventsUrl: `${statusUrl}/events`,
    created: result.created,
  }
}
