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

/** Marks the "waiting in line" comment of a run, so the run's start can find and update it. */
export const queuedMarker = (runId: string) => `<!-- prwright:queued ${runId} -->`

/** The comment a webhook-started run posts when it has to wait: its place and the estimated start. */
export const queuedCommentBody = (options: {
  runId: string
  type: string
  /** the GitHub login that asked for the run, mentioned in the comment */
  sender?: string
  /** `place 2 in line, waiting for …; estimated start: …` (run-place.ts describePlace) */
  place: string
  runUrl?: string
}): string =>
  `⏳ ${options.sender ? `@${options.sender} ` : ""}this ${options.type} run is queued: ${options.place}. It starts on its own; ` +
  `\`/prwright cancel\` takes it out of line.` +
  `${options.runUrl ? ` [Follow the run](${options.runUrl}).` : ""}\n\n${queuedMarker(options.runId)}`

/** The same comment once the run left the line. */
export const leftQueueBody = (options: {
  runId: string
  type: string
  outcome: "started" | "cancelled"
  at: Date
  waitedMs: number
  runUrl?: string
}): string => {
  const minutes = Math.max(0, Math.round(options.waitedMs / 60_000))
  const waited = minutes === 0 ? "under a minute" : `${minutes} min`
  const head =
    options.outcome === "started"
      ? `▶️ this ${options.type} run started at ${options.at.toISOString().slice(11, 16)} UTC after waiting ${waited} in line.`
      : `⏹️ this ${options.type} run was cancelled while it waited in line (${waited}).`
  return `${head}${options.runUrl ? ` [Follow the run](${options.runUrl}).` : ""}\n\n${queuedMarker(options.runId)}`
}
