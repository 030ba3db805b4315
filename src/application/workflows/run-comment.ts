import type { RepoRef } from "#domain/repo-ref.js"
import type { GitHub, GitHubComment } from "../ports/github.js"

/** Marks a run's plan comment and its failure comment, so a retried attempt finds them. */
export const planMarker = (runId: string) => `<!-- prwright:plan ${runId} -->`
export const stoppedMarker = (runId: string) => `<!-- prwright:stopped ${runId} -->`

/**
 * Writes the one comment a run keeps on an issue: edits it when its id is known, else looks for it
 * by marker (a crash may have lost the saved id after GitHub created it), else creates it.
 * `body` must contain `marker`.
 */
export const upsertRunComment = async (
  github: GitHub,
  target: { repo: RepoRef; issueNumber: number; knownId: number | undefined; marker: string },
  body: string,
): Promise<GitHubComment> => {
  const id =
    target.knownId ?? (await github.findIssueComment(target.repo, target.issueNumber, target.marker))?.id
  return id
    ? github.updateIssueComment(target.repo, id, body)
    : github.createIssueComment(target.repo, target.issueNumber, body)
}
