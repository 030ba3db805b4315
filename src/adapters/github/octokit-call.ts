import type { RepoRef } from "#domain/repo-ref.js"

/**
 * How the GitHub adapter's parts make a call: every request goes through one `Call`, which turns a
 * failure into a GitHubError naming the subject and the fix. Its own file, so the parts
 * (octokit-commit-checks.ts, octokit-review-threads.ts) and octokit-github.ts import no circle.
 */
export type Call = <T>(subject: Subject, fn: () => Promise<T>) => Promise<T>

/** What the failing call was about, to name the fix. */
export type Subject =
  | { kind: "repo"; repo: RepoRef }
  | { kind: "issue"; repo: RepoRef; number: number }
  | { kind: "comment-create"; repo: RepoRef; number: number }
  | { kind: "comment-update"; repo: RepoRef; commentId: number }
  | { kind: "pull-find"; repo: RepoRef; branch: string }
  | { kind: "pull-create"; repo: RepoRef; head: string; base: string }
  | { kind: "pull-update"; repo: RepoRef; number: number }
  | { kind: "pull-get"; repo: RepoRef; number: number }
  | { kind: "permission"; repo: RepoRef; username: string }
  | { kind: "reaction"; repo: RepoRef; commentId: number }
  /** anything else: `what` names it ("check run 12", "the status of abc123") */
  | { kind: "other"; repo: RepoRef; what: string; permission: string }
