/**
 * The REST endpoints the double serves. Add pulls/branches the same way: a route in a `register…` function
 * that reads and writes `DoubleState`.
 */
import { HttpError, type Identity, type Router } from "./router.js"
import {
  commentJson,
  fullRepository,
  issueJson,
  privateUser,
  type StoredComment,
  type StoredRepo,
  timestamp,
  type Urls,
} from "./shapes.js"

export interface DoubleState {
  urls: Urls
  /** keyed by lower-cased full name: GitHub names are case-insensitive */
  repos: Map<string, StoredRepo>
  comments: Map<number, StoredComment>
  nextId(): number
}

const DOCS = {
  repo: "https://docs.github.com/rest/repos/repos#get-a-repository",
  issue: "https://docs.github.com/rest/issues/issues#get-an-issue",
  comment: "https://docs.github.com/rest/issues/comments#update-an-issue-comment",
}

export const canSee = (identity: Identity, fullName: string): boolean =>
  identity.repos === "*" || identity.repos.some((name) => name.toLowerCase() === fullName.toLowerCase())

/** The repository, or GitHub's 404 when it does not exist or the token may not see it (GitHub hides both). */
export const visibleRepo = (
  state: DoubleState,
  identity: Identity,
  params: Record<string, string>,
): StoredRepo => {
  const fullName = `${params.owner}/${params.repo}`
  const repo = state.repos.get(fullName.toLowerCase())
  if (!repo || !canSee(identity, repo.fullName)) {
    throw new HttpError(404, "Not Found", { documentation_url: DOCS.repo })
  }
  return repo
}

const issueNumber = (params: Record<string, string>): number => {
  const number = Number(params.number)
  if (!Number.isSafeInteger(number) || number < 1) throw new HttpError(404, "Not Found")
  return number
}

const commentsOf = (state: DoubleState, repo: StoredRepo, number: number): StoredComment[] =>
  [...state.comments.values()].filter(
    (comment) => comment.repo === repo.fullName && comment.issueNumber === number,
  )

const requireBody = (body: unknown, resource: string): string => {
  const value = (body as { body?: unknown } | undefined)?.body
  if (typeof value !== "string" || value.length === 0) {
    throw new HttpError(422, "Validation Failed", {
      errors: [{ resource, code: "missing_field", field: "body" }],
      documentation_url: DOCS.comment,
    })
  }
  if (value.length > 65536) {
    throw new HttpError(422, "Validation Failed", {
      errors: [
        {
          resource,
          code: "custom",
          field: "body",
          message: "body is too long (maximum is 65536 characters)",
        },
      ],
    })
  }
  return value
}

export const registerCoreRoutes = (router: Router, state: DoubleState): void => {
  const { urls } = state

  router.add("GET", "/user", ({ identity }) => ({ status: 200, body: privateUser(urls, identity.login) }))

  router.add("GET", "/repos/:owner/:repo", ({ identity, params }) => ({
    status: 200,
    body: fullRepository(urls, visibleRepo(state, identity, params)),
  }))

  router.add("GET", "/repos/:owner/:repo/issues/:number", ({ identity, params }) => {
    const repo = visibleRepo(state, identity, params)
    const number = issueNumber(params)
    const issue = repo.issues.get(number)
    if (!issue) throw new HttpError(404, "Not Found", { documentation_url: DOCS.issue })
    return { status: 200, body: issueJson(urls, repo, issue, commentsOf(state, repo, number).length) }
  })

  router.add("GET", "/repos/:owner/:repo/issues/:number/comments", ({ identity, params }) => {
    const repo = visibleRepo(state, identity, params)
    const number = issueNumber(params)
    if (!repo.issues.has(number)) throw new HttpError(404, "Not Found")
    return { status: 200, body: commentsOf(state, repo, number).map((c) => commentJson(urls, repo, c)) }
  })

  router.add("POST", "/repos/:owner/:repo/issues/:number/comments", ({ identity, params, body }) => {
    const repo = visibleRepo(state, identity, params)
    const number = issueNumber(params)
    if (!repo.issues.has(number)) throw new HttpError(404, "Not Found")
    const now = timestamp()
    const comment: StoredComment = {
      id: state.nextId(),
      repo: repo.fullName,
      issueNumber: number,
      body: requireBody(body, "IssueComment"),
      user: identity.login,
      createdAt: now,
      updatedAt: now,
    }
    state.comments.set(comment.id, comment)
    const json = commentJson(urls, repo, comment)
    return { status: 201, body: json, headers: { location: json.url } }
  })

  router.add("PATCH", "/repos/:owner/:repo/issues/comments/:id", ({ identity, params, body }) => {
    const repo = visibleRepo(state, identity, params)
    const comment = state.comments.get(Number(params.id))
    if (!comment || comment.repo !== repo.fullName) {
      throw new HttpError(404, "Not Found", { documentation_url: DOCS.comment })
    }
    comment.body = requireBody(body, "IssueComment")
    comment.updatedAt = timestamp()
    return { status: 200, body: commentJson(urls, repo, comment) }
  })
}
