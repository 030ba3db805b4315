/**
 * Pull request reviews in the double: review comments (REST list, per review, replies) and review threads
 * over GraphQL (`reviewThreads` of a pull request, `resolveReviewThread`), which is the only API GitHub
 * offers for resolving a thread. Reviews are added by tests with `addReview`, as a reviewer would.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import type { DoubleState } from "./rest-routes.js"
import { visibleRepo } from "./rest-routes.js"
import { HttpError, type Identity, type Router } from "./router.js"
import { simpleUser, timestamp } from "./shapes.js"

export interface StoredReviewComment {
  id: number
  repo: string
  pull: number
  reviewId: number | null
  inReplyTo: number | null
  user: string
  body: string
  path: string
  line: number | null
  diffHunk: string
  createdAt: string
}

export interface StoredThread {
  nodeId: string
  repo: string
  pull: number
  /** the first comment's id; replies join its thread */
  rootId: number
  resolved: boolean
  resolvedBy: string | null
}

export interface ReviewState {
  comments: StoredReviewComment[]
  threads: StoredThread[]
  reviews: Array<{ id: number; repo: string; pull: number; user: string; state: string; body: string }>
}

export interface NewReview {
  user: string
  state: "CHANGES_REQUESTED" | "COMMENTED" | "APPROVED"
  body?: string
  comments: Array<{ path: string; line: number; body: string; diffHunk: string }>
}

const commentJson = (state: DoubleState, c: StoredReviewComment) => ({
  id: c.id,
  node_id: `PRRC_${c.id}`,
  pull_request_review_id: c.reviewId,
  in_reply_to_id: c.inReplyTo ?? undefined,
  diff_hunk: c.diffHunk,
  path: c.path,
  line: c.line,
  original_line: c.line,
  side: "RIGHT",
  body: c.body,
  user: simpleUser(state.urls, c.user),
  created_at: c.createdAt,
  updated_at: c.createdAt,
  html_url: `${state.urls.web}/${c.repo}/pull/${c.pull}#discussion_r${c.id}`,
  url: `${state.urls.api}/repos/${c.repo}/pulls/comments/${c.id}`,
  pull_request_url: `${state.urls.api}/repos/${c.repo}/pulls/${c.pull}`,
  author_association: "COLLABORATOR",
  commit_id: "0".repeat(40),
  original_commit_id: "0".repeat(40),
  _links: {},
})

export const registerReviewRoutes = (router: Router, state: DoubleState) => {
  const reviews: ReviewState = { comments: [], threads: [], reviews: [] }
  const rootOf = (comment: StoredReviewComment): number => {
    let current = comment
    while (current.inReplyTo !== null) {
      const parent = reviews.comments.find((c) => c.id === current.inReplyTo)
      if (!parent) break
      current = parent
    }
    return current.id
  }

  router.add("GET", "/repos/:owner/:repo/pulls/:number/comments", ({ identity, params }) => {
    const repo = visibleRepo(state, identity, params)
    const list = reviews.comments.filter((c) => c.repo === repo.fullName && c.pull === Number(params.number))
    return { status: 200, body: list.map((c) => commentJson(state, c)) }
  })

  router.add("GET", "/repos/:owner/:repo/pulls/:number/reviews/:review/comments", ({ identity, params }) => {
    const repo = visibleRepo(state, identity, params)
    const list = reviews.comments.filter(
      (c) =>
        c.repo === repo.fullName && c.pull === Number(params.number) && c.reviewId === Number(params.review),
    )
    return { status: 200, body: list.map((c) => commentJson(state, c)) }
  })

  router.add(
    "POST",
    "/repos/:owner/:repo/pulls/:number/comments/:id/replies",
    ({ identity, params, body }) => {
      const repo = visibleRepo(state, identity, params)
      const parent = reviews.comments.find((c) => c.id === Number(params.id) && c.repo === repo.fullName)
      if (!parent || parent.pull !== Number(params.number)) throw new HttpError(404, "Not Found")
      const text = (body as { body?: unknown } | undefined)?.body
      if (typeof text !== "string" || text.length === 0) throw new HttpError(422, "Validation Failed")
      const reply: StoredReviewComment = {
        ...parent,
        id: state.nextId(),
        reviewId: null,
        inReplyTo: rootOf(parent),
        user: identity.login,
        body: text,
        createdAt: timestamp(),
      }
      reviews.comments.push(reply)
      return { status: 201, body: commentJson(state, reply) }
    },
  )

  /** POST /api/graphql: the two operations prwright uses, recognised by their field names. */
  const graphql = (identity: Identity, query: string, variables: Record<string, unknown>) => {
    if (/resolveReviewThread/.test(query)) {
      const thread = reviews.threads.find((t) => t.nodeId === variables.threadId)
      if (!thread)
        return {
          errors: [
            {
              type: "NOT_FOUND",
              message: `Could not resolve to a node with the global id of '${String(variables.threadId)}'`,
            },
          ],
        }
      thread.resolved = true
      thread.resolvedBy = identity.login
      return { data: { resolveReviewThread: { thread: { id: thread.nodeId, isResolved: true } } } }
    }
    if (/reviewThreads/.test(query)) {
      const fullName = `${String(variables.owner)}/${String(variables.name)}`
      const repo = visibleRepo(state, identity, {
        owner: String(variables.owner),
        repo: String(variables.name),
      })
      const nodes = reviews.threads
        .filter((t) => t.repo === repo.fullName && t.pull === Number(variables.number))
        .map((t) => ({
          id: t.nodeId,
          isResolved: t.resolved,
          comments: {
            nodes: reviews.comments
              .filter((c) => c.repo === fullName && (c.id === t.rootId || c.inReplyTo === t.rootId))
              .map((c) => ({ databaseId: c.id })),
          },
        }))
      return {
        data: {
          repository: {
            pullRequest: { reviewThreads: { nodes, pageInfo: { hasNextPage: false, endCursor: null } } },
          },
        },
      }
    }
    return { errors: [{ message: "this double answers reviewThreads and resolveReviewThread only" }] }
  }

  const handleGraphql = async (req: IncomingMessage, res: ServerResponse, identity: Identity | undefined) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    res.setHeader("content-type", "application/json; charset=utf-8")
    if (!identity) {
      res.statusCode = 401
      res.end(JSON.stringify({ message: "Bad credentials" }))
      return
    }
    const { query, variables } = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as {
      query: string
      variables?: Record<string, unknown>
    }
    try {
      res.statusCode = 200
      res.end(JSON.stringify(graphql(identity, query, variables ?? {})))
    } catch (error) {
      res.statusCode = 200
      res.end(JSON.stringify({ errors: [{ type: "NOT_FOUND", message: String((error as Error).message) }] }))
    }
  }

  const addReview = (fullName: string, pull: number, review: NewReview) => {
    const reviewId = state.nextId()
    reviews.reviews.push({
      id: reviewId,
      repo: fullName,
      pull,
      user: review.user,
      state: review.state,
      body: review.body ?? "",
    })
    const commentIds: number[] = []
    for (const c of review.comments) {
      const comment: StoredReviewComment = {
        id: state.nextId(),
        repo: fullName,
        pull,
        reviewId,
        inReplyTo: null,
        user: review.user,
        body: c.body,
        path: c.path,
        line: c.line,
        diffHunk: c.diffHunk,
        createdAt: timestamp(),
      }
      reviews.comments.push(comment)
      reviews.threads.push({
        nodeId: `PRRT_${comment.id}`,
        repo: fullName,
        pull,
        rootId: comment.id,
        resolved: false,
        resolvedBy: null,
      })
      commentIds.push(comment.id)
    }
    return { reviewId, commentIds }
  }

  /** someone replies in a thread (e.g. a user without write access) */
  const addReply = (fullName: string, rootId: number, user: string, body: string) => {
    const root = reviews.comments.find((c) => c.id === rootId && c.repo === fullName)
    if (!root) throw new Error(`addReply: no review comment ${rootId} on ${fullName}`)
    const reply = {
      ...root,
      id: state.nextId(),
      reviewId: state.nextId(),
      inReplyTo: rootId,
      user,
      body,
      createdAt: timestamp(),
    }
    reviews.comments.push(reply)
    return reply.id
  }

  return { reviews, handleGraphql, addReview, addReply }
}
