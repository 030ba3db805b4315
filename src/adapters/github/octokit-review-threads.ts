/** Review comments over REST and review threads over GraphQL (resolving exists only there). */
import type { Octokit } from "@octokit/rest"
import type { ReviewComment, ReviewThreads } from "#application/ports/review-threads.js"
import { GitHubError } from "#domain/errors.js"
import type { Call } from "./octokit-call.js"

const THREADS = `query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $after) {
        nodes { id isResolved comments(first: 100) { nodes { databaseId } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}`

const RESOLVE = `mutation($threadId: ID!) {
  resolveReviewThread(input: { threadId: $threadId }) { thread { id isResolved } }
}`

interface ThreadsAnswer {
  repository: {
    pullRequest: {
      reviewThreads: {
        nodes: Array<{ id: string; isResolved: boolean; comments: { nodes: Array<{ databaseId: number }> } }>
        pageInfo: { hasNextPage: boolean; endCursor: string | null }
      }
    } | null
  } | null
}

export const createOctokitReviewThreads = (octokit: Octokit, call: Call): ReviewThreads => ({
  async listReviewComments(repo, pullNumber) {
    const data = await call(
      {
        kind: "other",
        repo,
        what: `the review comments of #${pullNumber}`,
        permission: "pull requests: read",
      },
      () =>
        octokit.paginate(octokit.rest.pulls.listReviewComments, {
          owner: repo.owner,
          repo: repo.name,
          pull_number: pullNumber,
          per_page: 100,
        }),
    )
    return data.map(
      (c): ReviewComment => ({
        id: c.id,
        reviewId: c.pull_request_review_id ?? null,
        inReplyTo: c.in_reply_to_id ?? null,
        author: c.user?.login ?? "ghost",
        body: c.body,
        path: c.path,
        line: c.line ?? c.original_line ?? null,
        diffHunk: c.diff_hunk,
        htmlUrl: c.html_url,
      }),
    )
  },

  async replyToReviewComment(repo, pullNumber, commentId, body) {
    await call(
      {
        kind: "other",
        repo,
        what: `a reply to review comment ${commentId}`,
        permission: "pull requests: write",
      },
      () =>
        octokit.rest.pulls.createReplyForReviewComment({
          owner: repo.owner,
          repo: repo.name,
          pull_number: pullNumber,
          comment_id: commentId,
          body,
        }),
    )
  },

  async listReviewThreads(repo, pullNumber) {
    const threads = []
    let after: string | null = null
    for (let page = 0; page < 10; page++) {
      const answer: ThreadsAnswer = await call(
        {
          kind: "other",
          repo,
          what: `the review threads of #${pullNumber}`,
          permission: "pull requests: read",
        },
        () =>
          octokit.graphql<ThreadsAnswer>(THREADS, {
            owner: repo.owner,
            name: repo.name,
            number: pullNumber,
            after,
          }),
      )
      const connection = answer.repository?.pullRequest?.reviewThreads
      if (!connection)
        throw new GitHubError(`pull request ${repo.fullName}#${pullNumber} was not found over GraphQL`, {
          retryable: false,
        })
      for (const node of connection.nodes)
        threads.push({
          id: node.id,
          isResolved: node.isResolved,
          commentIds: node.comments.nodes.map((c) => c.databaseId),
        })
      if (!connection.pageInfo.hasNextPage) break
      after = connection.pageInfo.endCursor
    }
    return threads
  },

  async resolveReviewThread(repo, threadId) {
    await call(
      { kind: "other", repo, what: `review thread ${threadId}`, permission: "pull requests: write" },
      () => octokit.graphql(RESOLVE, { threadId }),
    )
  },
})
