import { NonRetryableError } from "#domain/errors.js"
import type { RepoRef } from "#domain/repo-ref.js"
import { changedPaths as changedPathsOf } from "../changed-paths.js"
import type { GitHub, GitHubIssue, GitHubRepository } from "../ports/github.js"
import type { Checkout, FileChange } from "../ports/workspace.js"
import type { RunContext, WorkflowOutcome } from "../run-job.js"
import { compareTestRuns, succeeded, type TestRun } from "../test-results.js"
import { pullRequestBody } from "./pull-request-body.js"
import { diffEvent } from "./repo-commands.js"
import type { CodingResult } from "./resolve-issue.js"

/** The change to commit now (the rule is in ../changed-paths.ts). */
export const changedPaths = async (
  checkout: Checkout,
  editedPaths: Set<string>,
  residue: Set<string>,
): Promise<string[]> => changedPathsOf(await checkout.status(), editedPaths, residue)

export const publishChange = async (
  deps: { github: GitHub; author: { name: string; email: string }; runUrl?: (runId: string) => string },
  input: {
    context: RunContext<"resolve-issue" | "auto-resolve-issue">
    repo: RepoRef
    repository: GitHubRepository
    issue: GitHubIssue
    checkout: Checkout
    branch: string
    submitted: Extract<CodingResult, { outcome: "submitted" }>
    editedPaths: Set<string>
    residue: Set<string>
    baseline?: TestRun
    after?: TestRun
    createPR: boolean
    model: string
    steps: number
    repairRounds: number
  },
): Promise<WorkflowOutcome> => {
  const { context, checkout, submitted } = input
  const paths = await changedPaths(checkout, input.editedPaths, input.residue)
  let commitHash: string | undefined
  // read before committing: afterwards the working tree equals HEAD
  const diffBeforeCommit = paths.length > 0 ? await checkout.diff(paths) : ""
  if (paths.length > 0) {
    commitHash = await checkout.commit({
      message: `${submitted.title}\n\n${submitted.summary}\n\nCloses #${input.issue.number}`,
      paths,
      author: deps.author,
    })
    if (commitHash) await checkout.push({ branch: input.branch, signal: context.signal })
  }
  // The PR shows everything the branch changes, including an earlier attempt's pushed commits.
  const files: FileChange[] = await checkout.committedChanges()
  if (paths.length > 0) await context.emit(diffEvent(diffBeforeCommit, paths))
  if (files.length === 0) {
    throw new NonRetryableError(
      "the agent submitted without changing any file: nothing to commit. Refine the issue (or its plan) and run again",
    )
  }
  // Nothing new this attempt: an earlier attempt already pushed the work (a retry after a crash).
  commitHash ??= checkout.headSha
  await context.saveArtifacts({ branchName: input.branch, commitHash, filesChanged: files.length })

  const comparison = compareTestRuns(input.baseline, input.after)
  const draft = input.after !== undefined && !succeeded(input.after)
  if (!input.createPR) {
    return {
      artifacts: { branchName: input.branch, commitHash, filesChanged: files.length },
      summary: submitted.summary,
    }
  }
  const body = pullRequestBody({
    runId: context.run.id,
    issueNumber: input.issue.number,
    summary: submitted.summary,
    files,
    ...(input.baseline ? { before: input.baseline } : {}),
    ...(input.after ? { after: input.after } : {}),
    comparison,
    usage: context.usage(),
    model: input.model,
    steps: input.steps,
    repairRounds: input.repairRounds,
    draft,
    ...(deps.runUrl ? { runUrl: deps.runUrl(context.run.id) } : {}),
  })
  // One PR per branch: a retried or repeated run updates the PR it finds.
  const existing = await deps.github.findPullRequest(input.repo, input.branch)
  const pr = existing
    ? await deps.github.updatePullRequest(input.repo, existing.number, { title: submitted.title, body })
    : await deps.github.createPullRequest(input.repo, {
        title: submitted.title,
        body,
        head: input.branch,
        base: input.repository.defaultBranch,
        draft,
      })
  const artifacts = {
    branchName: input.branch,
    commitHash,
    filesChanged: files.length,
    pullRequestUrl: pr.htmlUrl,
    pullRequestNumber: pr.number,
    pullRequestDraft: pr.draft,
  }
  await context.saveArtifacts(artifacts)
  return { artifacts, summary: submitted.summary }
}
