/**
 * What every issue workflow does first: read the repository and the issue (refusing a pull
 * request), and check out the default branch for the run. Shared by commentOnIssue and the
 * implementing workflows.
 */
import { NonRetryableError } from "#domain/errors.js"
import { parseRepoRef, type RepoRef } from "#domain/repo-ref.js"
import type { PlanningAgentOptions, PlanningResult } from "../agent/planning-agent.js"
import type { GitHub, GitHubIssue, GitHubRepository } from "../ports/github.js"
import type { Checkout, Workspace } from "../ports/workspace.js"

/** The planning agent, injected so the workflows stay testable without a model. */
export type Planner = (options: PlanningAgentOptions) => Promise<PlanningResult>

export interface IssueInput {
  repo: RepoRef
  repository: GitHubRepository
  issue: GitHubIssue
}

export const readIssue = async (
  github: GitHub,
  data: { repoFullName: string; issueNumber: number },
): Promise<IssueInput> => {
  const repo = parseRepoRef(data.repoFullName)
  const repository = await github.getRepository(repo)
  const issue = await github.getIssue(repo, data.issueNumber)
  if (issue.isPullRequest) {
    throw new NonRetryableError(
      `#${data.issueNumber} in ${repo.fullName} is a pull request, not an issue: ask on an issue`,
      { code: "invalid_input" },
    )
  }
  return { repo, repository, issue }
}

/** A fresh working copy of the default branch for this run (on `branch` when given). */
export const checkOutDefaultBranch = (
  workspace: Workspace,
  input: IssueInput,
  run: { runId: string; branch?: string | undefined; signal: AbortSignal },
): Promise<Checkout> =>
  workspace.checkout({
    repo: input.repo,
    cloneUrl: input.repository.cloneUrl,
    ref: input.repository.defaultBranch,
    runId: run.runId,
    branch: run.branch,
    signal: run.signal,
  })
