/** How a run shows on a commit: a check run (GitHub App) or a commit status (any token). */
import type { RepoRef } from "#domain/repo-ref.js"

export type CheckRunStatus = "queued" | "in_progress" | "completed"
export type CheckRunConclusion = "success" | "failure" | "neutral" | "cancelled" | "timed_out"

export interface CheckRunOutput {
  title: string
  /** Markdown, at most 65535 characters */
  summary: string
  text?: string
}

export interface CheckRunUpdate {
  status: CheckRunStatus
  /** required when status is completed */
  conclusion?: CheckRunConclusion | undefined
  detailsUrl?: string | undefined
  output: CheckRunOutput
}

export type CommitState = "pending" | "success" | "failure" | "error"

export interface CommitChecks {
  /** sha of the branch's head commit; undefined when the branch does not exist */
  getBranchSha(repo: RepoRef, branch: string): Promise<string | undefined>
  /** GitHubError 403 for a token that is not a GitHub App's (check runs are for Apps only) */
  createCheckRun(
    repo: RepoRef,
    check: CheckRunUpdate & { name: string; headSha: string; externalId: string },
  ): Promise<{ id: number }>
  /** the check run named `name` on `sha` whose external id is `externalId` (another process made it) */
  findCheckRun(repo: RepoRef, sha: string, name: string, externalId: string): Promise<number | undefined>
  updateCheckRun(repo: RepoRef, checkRunId: number, update: CheckRunUpdate): Promise<void>
  /** `description` is cut to GitHub's 140 characters */
  setCommitStatus(
    repo: RepoRef,
    sha: string,
    status: { state: CommitState; context: string; description: string; targetUrl?: string | undefined },
  ): Promise<void>
}
