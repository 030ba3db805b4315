/** What the use cases need from GitHub. */
import type { RepoRef } from "#domain/repo-ref.js"

export interface GitHubRepository {
  fullName: string
  /** https clone URL as the API returns it; the token is added by the git adapter, in a header */
  cloneUrl: string
  defaultBranch: string
  private: boolean
  htmlUrl: string
}

export interface GitHubIssue {
  number: number
  title: string
  body: string
  state: "open" | "closed"
  htmlUrl: string
  author: string
  labels: string[]
  isPullRequest: boolean
}

export interface GitHubComment {
  id: number
  htmlUrl: string
  body: string
}

/** A comment on an issue as listed, with who wrote it and when. */
export interface GitHubIssueComment extends GitHubComment {
  /** login of the comment's author ("" when GitHub has no user, e.g. a deleted account) */
  author: string
  /** ISO 8601 */
  createdAt: string
}

export interface GitHub {
  /** GitHubError 404 when the repository does not exist or the token cannot see it */
  getRepository(repo: RepoRef): Promise<GitHubRepository>
  getIssue(repo: RepoRef, issueNumber: number): Promise<GitHubIssue>
  createIssueComment(repo: RepoRef, issueNumber: number, body: string): Promise<GitHubComment>
  updateIssueComment(repo: RepoRef, commentId: number, body: string): Promise<GitHubComment>
  /** the issue's comments, oldest first (at most `limit`, default 100) */
  listIssueComments(
    repo: RepoRef,
    issueNumber: number,
    options?: { limit?: number },
  ): Promise<GitHubIssueComment[]>
  /** the issue's comment whose body contains `marker` (how a retried run finds the comment it already posted) */
  findIssueComment(repo: RepoRef, issueNumber: number, marker: string): Promise<GitHubComment | undefined>
  /** the open pull request whose head is `branch` in this repository, if any */
  findPullRequest(repo: RepoRef, branch: string): Promise<GitHubPullRequest | undefined>
  createPullRequest(repo: RepoRef, pr: NewPullRequest): Promise<GitHubPullRequest>
  updatePullRequest(
    repo: RepoRef,
    number: number,
    patch: { title?: string; body?: string },
  ): Promise<GitHubPullRequest>
  /** GitHubError 404 when there is no such pull request */
  getPullRequest(repo: RepoRef, number: number): Promise<GitHubPullRequest>
  /** what `username` may do in the repository; "none" for a user GitHub does not know */
  getPermission(repo: RepoRef, username: string): Promise<RepoPermission>
  /** reacts to an issue comment (idempotent on GitHub: the same reaction twice is one) */
  addReaction(repo: RepoRef, commentId: number, content: ReactionContent): Promise<void>
}

/** A user's role on a repository, strongest first. */
export type RepoPermission = "admin" | "maintain" | "write" | "triage" | "read" | "none"

export type ReactionContent = "+1" | "-1" | "laugh" | "confused" | "heart" | "hooray" | "rocket" | "eyes"

export interface NewPullRequest {
  title: string
  body: string
  /** branch name in the same repository */
  head: string
  base: string
  draft: boolean
}

export interface GitHubPullRequest {
  number: number
  htmlUrl: string
  state: "open" | "closed"
  draft: boolean
  head: string
  base: string
  title: string
  body: string
}
