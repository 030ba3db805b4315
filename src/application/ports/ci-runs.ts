/** A repository's CI (GitHub Actions) as CI repair reads it, and a file on a branch. */
import type { RepoRef } from "#domain/repo-ref.js"

export interface WorkflowRunRef {
  id: number
  name: string
  headSha: string
  headBranch: string
  conclusion: string | null
}

export interface FailedJob {
  id: number
  name: string
}

export interface CiRuns {
  /** the Actions runs of a check suite */
  listWorkflowRuns(repo: RepoRef, filter: { checkSuiteId: number }): Promise<WorkflowRunRef[]>
  listFailedJobs(repo: RepoRef, workflowRunId: number): Promise<FailedJob[]>
  /** the job's log as text (GitHub keeps them for a while; undefined once gone) */
  getJobLog(repo: RepoRef, jobId: number): Promise<string | undefined>
  /** a file's text at `ref`; undefined when it does not exist */
  getFileText(repo: RepoRef, path: string, ref: string): Promise<string | undefined>
}
