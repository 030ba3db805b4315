import type { JobResult } from "#application/job-data.js"
import { jobResultOf } from "#application/job-data.js"
import type { WorkflowRun } from "#domain/workflow-run.js"

/** The seed's JobStatus plus the fields INTERFACES.md adds; what GET /api/jobs/:jobId answers. */
export interface JobStatusBody {
  jobId: string
  type: WorkflowRun["type"]
  status: WorkflowRun["status"]
  progress: number
  progressMessage?: string
  attempts: number
  maxAttempts: number
  repoFullName: string
  issueNumber: number
  priority: WorkflowRun["priority"]
  trigger: WorkflowRun["trigger"]
  usage: WorkflowRun["usage"]
  result?: JobResult
  error?: string
  createdAt: string
  updatedAt: string
  startedAt?: string
  finishedAt?: string
}

export const toJobStatus = (run: WorkflowRun): JobStatusBody => {
  const finished = run.status === "completed" || run.status === "failed" || run.status === "cancelled"
  const result = finished ? jobResultOf(run) : undefined
  return {
    jobId: run.id,
    type: run.type,
    status: run.status,
    progress: run.progress,
    ...(run.progressMessage === undefined ? {} : { progressMessage: run.progressMessage }),
    attempts: run.attempts,
    maxAttempts: run.maxAttempts,
    repoFullName: run.repoFullName,
    issueNumber: run.issueNumber,
    priority: run.priority,
    trigger: run.trigger,
    usage: run.usage,
    ...(result ? { result } : {}),
    ...(run.error === undefined ? {} : { error: run.error }),
    createdAt: run.createdAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
    ...(run.startedAt ? { startedAt: run.startedAt.toISOString() } : {}),
    ...(run.finishedAt ? { finishedAt: run.finishedAt.toISOString() } : {}),
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
