/** Pull request review comments and threads: what a review follow-up reads, answers and resolves. */
import type { RepoRef } from "#domain/repo-ref.js"

export interface ReviewComment {
  id: number
  /** the review it was submitted with; null for a reply posted on its own */
  reviewId: number | null
  /** the thread's first comment, for replies */
  inReplyTo: number | null
  author: string
  body: string
  path: string
  line: number | null
  /** the diff lines the comment points at (GitHub's `diff_hunk`) */
  diffHunk: string
  htmlUrl: string
}

export interface ReviewThread {
  /** GraphQL node id (what resolving needs) */
  id: string
  isResolved: boolean
  /** REST ids of the thread's comments, first comment first */
  commentIds: number[]
}

export interface ReviewThreads {
  /** every review comment of the pull request (replies included), oldest first */
  listReviewComments(repo: RepoRef, pullNumber: number): Promise<ReviewComment[]>
  replyToReviewComment(repo: RepoRef, pullNumber: number, commentId: number, body: string): Promise<void>
  listReviewThreads(repo: RepoRef, pullNumber: number): Promise<ReviewThread[]>
  resolveReviewThread(repo: RepoRef, threadId: string): Promise<void>
}
