// Over ~300 lines: the GitHub port on Octokit, one method per port operation with its error mapping; rate limits, checks, reviews and CI runs are split beside it.
/**
 * The GitHub port on @octokit/rest. Every failure becomes a GitHubError whose message says what to fix
 * and whose `retryable` follows GitHub's answer (rate limits, 5xx and network faults are worth retrying;
 * bad credentials and missing access are not). The token never appears in a message.
 */
import { Octokit } from "@octokit/rest"
import type { CiRuns } from "#application/ports/ci-runs.js"
import type { CommitChecks } from "#application/ports/commit-checks.js"
import type {
  GitHub,
  GitHubComment,
  GitHubIssue,
  GitHubIssueComment,
  GitHubPullRequest,
  GitHubRepository,
  RepoPermission,
} from "#application/ports/github.js"
import type { Logger } from "#application/ports/logging.js"
import type { ReviewThreads } from "#application/ports/review-threads.js"
import { GitHubError, PrwrightError } from "#domain/errors.js"
import type { RepoRef } from "#domain/repo-ref.js"
import { createScrubber } from "#domain/secret-scrubber.js"
import { createGitHubFetch } from "./github-fetch.js"
import type { Subject } from "./octokit-call.js"
import { createOctokitCiRuns } from "./octokit-ci-runs.js"
import { createOctokitCommitChecks } from "./octokit-commit-checks.js"
import { createOctokitReviewThreads } from "./octokit-review-threads.js"
import { installRateLimits, type RateLimitOptions } from "./rate-limits.js"

export interface OctokitGitHubOptions {
  /** a fixed token (GITHUB_TOKEN); `auth` wins when both are given */
  token?: string | undefined
  /** a fixed token, or the token
 for the repository a call touches (GitHub App installation tokens) */
  auth?: string | ((repo: RepoRef) => Promise<string>)
  /** REST root; `https://api.github.com` by default, `https://HOST/api/v3` on GitHub Enterprise Server */
  baseUrl?: string
  userAgent?: string
  /** the HTTP client (default: github-fetch.ts) */
  fetch?: typeof fetch | undefined
  logger?: Logger
  /** how rate limits and transient faults are waited out (see rate-limits.ts); defaults are GitHub's advice */
  limits?: RateLimitOptions
}

/** The `Authorization` header value GitHub's git endpoint accepts for a token (HTTP Basic, x-access-token). */
export const gitAuthHeader = (token: string): string =>
  `Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`

/**
 * The repository a request is about: its `owner`/`repo` parameters, or the `/repos/{owner}/{repo}` of
 * its URL (pagination follows full `next` URLs without parameters).
 */
const repoOfRequest = (request: Record<string, unknown>): RepoRef => {
  // GraphQL calls name their repository in a request option (their URL is /graphql)
  const named = (request.request as { prwrightRepo?: unknown } | undefined)?.prwrightRepo
  if (typeof named === "string" && named.includes("/")) {
    const [ownerName = "", name = ""] = named.split("/")
    return { owner: ownerName, name, fullName: named }
  }
  const { owner, repo } = request
  if (typeof owner === "string" && typeof repo === "string")
    return { owner, name: repo, fullName: `${owner}/${repo}` }
  const match = /\/repos\/([^/?#]+)\/([^/?#]+)/.exec(String(request.url ?? ""))
  if (match?.[1] && match[2] && !match[1].startsWith("{")) {
    const name = decodeURIComponent(match[2])
    const ownerName = decodeURIComponent(match[1])
    return { owner: ownerName, name, fullName: `${ownerName}/${name}` }
  }
  throw new GitHubError(
    `GitHub App auth needs a repository for every call, and ${String(request.method)} ${String(request.url)} has none: use GITHUB_TOKEN for account-wide calls`,
    { retryable: false },
  )
}

interface HttpFailure {
  status?: number
  message?: string
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown }
}

const describe = (subject: Subject): string => {
  switch (subject.kind) {
    case "repo":
      return `repository ${subject.repo.fullName}`
    case "issue":
    case "comment-create":
      return `issue ${subject.repo.fullName}#${subject.number}`
    case "comment-update":
      return `comment ${subject.commentId} on ${subject.repo.fullName}`
    case "pull-find":
      return `the pull requests of ${subject.repo.fullName} (branch ${subject.branch})`
    case "pull-create":
      return `a pull request from ${subject.head} into ${subject.base} on ${subject.repo.fullName}`
    case "pull-update":
    case "pull-get":
      return `pull request ${subject.repo.fullName}#${subject.number}`
    case "permission":
      return `the permission of ${subject.username} on ${subject.repo.fullName}`
    case "reaction":
      return `a reaction to comment ${subject.commentId} on ${subject.repo.fullName}`
    case "other":
      return `${subject.what} on ${subject.repo.fullName}`
  }
}

const needsPullRequests = (subject: Subject): boolean => subject.kind.startsWith("pull-")

const notFoundMessage = (subject: Subject): string => {
  const repo = subject.repo.fullName
  const access = `give the token access to ${repo} (contents: read, issues: write)`
  switch (subject.kind) {
    case "repo":
      return `repository ${repo} was not found, or the token cannot read it: ${access}, and check the name`
    case "issue":
      return `issue ${repo}#${subject.number} was not found, or the token cannot read ${repo}: check the issue number and ${access}`
    case "comment-create":
      return `cannot comment on ${repo}#${subject.number}: the issue was not found, or the token cannot read ${repo}: ${access}`
    case "comment-update":
      return `comment ${subject.commentId} on ${repo} was not found (deleted?), or the token cannot edit it: ${access}`
    case "pull-find":
    case "pull-create":
      return `repository ${repo} was not found, or the token cannot see its pull requests: give the token access to ${repo} (pull requests: write, contents: write)`
    case "pull-update":
      return `pull request ${repo}#${subject.number} was not found, or the token cannot edit it: give the token pull requests: write on ${repo}`
    case "pull-get":
      return `pull request ${repo}#${subject.number} was not found, or the token cannot read ${repo}: check the number and give the token pull requests: read on ${repo}`
    case "permission":
      return `cannot read the collaborators of ${repo}: the token needs push access to ${repo} to look up a user's permission`
    case "reaction":
      return `comment ${subject.commentId} on ${repo} was not found (deleted?), or the token cannot react to it: ${access}`
    case "other":
      return `${subject.what} on ${repo} was not found, or the token cannot see it: give the token ${subject.permission} on ${repo}`
  }
}

/** GitHub's 422 `errors` array, as one line: a message when it gives one, else `field code`. */
const validationDetails = (data: unknown): string => {
  const errors = (data as { errors?: unknown } | undefined)?.errors
  if (!Array.isArray(errors)) return ""
  return errors
    .map((entry: { message?: unknown; field?: unknown; code?: unknown } | string) =>
      typeof entry === "string"
        ? entry
        : typeof entry.message === "string"
          ? entry.message
          : `${String(entry.field ?? "")} ${String(entry.code ?? "")}`.trim(),
    )
    .filter(Boolean)
    .join("; ")
}

interface PullRequestData {
  number: number
  html_url: string
  state: string
  draft?: boolean
  title: string
  body: string | null
  head: { ref: string; repo: { full_name: string } | null }
  base: { ref: string }
}

const ROLES: readonly RepoPermission[] = ["admin", "maintain", "write", "triage", "read", "none"]

/** `role_name` carries maintain and triage (and custom roles); `permission` only admin/write/read/none. */
const permissionOf = (data: { permission: string; role_name?: string }): RepoPermission => {
  const role = ROLES.find((r) => r === data.role_name)
  if (role) return role
  return ROLES.find((r) => r === data.permission) ?? "none"
}

const pullRequest = (data: PullRequestData): GitHubPullRequest => ({
  number: data.number,
  htmlUrl: data.html_url,
  state: data.state === "closed" ? "closed" : "open",
  draft: data.draft === true,
  head: data.head.ref,
  base: data.base.ref,
  title: data.title,
  body: data.body ?? "",
})

/** The Octokit adapter implements the GitHub port and the narrower ports beside it. */
export type OctokitGitHub = GitHub & CommitChecks & ReviewThreads & CiRuns

export const createOctokitGitHub = (options: OctokitGitHubOptions): OctokitGitHub => {
  const { logger } = options
  const auth = options.auth ?? options.token
  const baseUrl = (options.baseUrl ?? "https://api.github.com").replace(/\/+$/, "")
  const toLogger = (message: string) => logger?.debug(message, { component: "octokit" })
  const octokit = new Octokit({
    ...(typeof auth === "string" ? { auth } : {}),
    baseUrl,
    userAgent: options.userAgent ?? "prwright",
    // github-fetch.ts: fetch's contract at a fraction of the built-in fetch's CPU per request
    request: { fetch: options.fetch ?? createGitHubFetch() },
    log: { debug: toLogger, info: toLogger, warn: toLogger, error: toLogger },
  })
  // the tokens handed out per repository, so a message that echoes one can still be scrubbed
  const usedTokens = new Set<string>(typeof auth === "string" && auth ? [auth] : [])
  if (typeof auth === "function") {
    octokit.hook.before("request", async (request) => {
      const repo = repoOfRequest(request as unknown as Record<string, unknown>)
      const token = await auth(repo)
      if (usedTokens.size > 50) usedTokens.clear()
      usedTokens.add(token)
      request.headers.authorization = `token ${token}`
    })
  }

  // after the auth hook, so it wraps it: every retry asks for a (possibly refreshed) token again
  installRateLimits(octokit, { logger, ...options.limits })

  // made per use: usedTokens grows as installation tokens are minted
  const scrub = (text: string): string => createScrubber(usedTokens)(text)

  const toError = (error: unknown, subject: Subject): PrwrightError => {
    // already explained (e.g. the GitHub App could not get a token for the repository)
    if (error instanceof PrwrightError) return error
    const failure = (error ?? {}) as HttpFailure
    const status = typeof failure.status === "number" && failure.status > 0 ? failure.status : undefined
    const headers = failure.response?.headers ?? {}
    const data = failure.response?.data as { message?: unknown } | undefined
    const githubMessage = scrub(typeof data?.message === "string" ? data.message : (failure.message ?? ""))
    const what = describe(subject)
    const make = (message: string, retryable?: boolean) =>
      new GitHubError(scrub(message), { status, cause: error, retryable })

    if (!failure.response || status === undefined) {
      return make(
        `could not reach GitHub at ${baseUrl} for ${what} (${githubMessage || "network error"}): check GITHUB_API_URL and the network; the run will be retried`,
        true,
      )
    }
    if (status === 401) {
      return make(
        `GitHub refused the token (401 ${githubMessage || "Bad credentials"}): check GITHUB_TOKEN (or the GitHub App credentials); it may be mistyped, expired or revoked`,
        false,
      )
    }
    if (status === 404) return make(notFoundMessage(subject), false)
    const remaining = headers["x-ratelimit-remaining"]
    const rateLimited =
      status === 429 || (status === 403 && (String(remaining) === "0" || /rate limit/i.test(githubMessage)))
    if (rateLimited) {
      const reset = Number(headers["x-ratelimit-reset"])
      const retryAfter = headers["retry-after"]
      const when = retryAfter
        ? `in ${retryAfter}s`
        : Number.isFinite(reset) && reset > 0
          ? `after ${new Date(reset * 1000).toISOString()}`
          : "later"
      return make(
        `GitHub rate limit reached for ${what} (${status} ${githubMessage}): the run will be retried ${when}; use a GitHub App or a less busy token to raise the limit`,
        true,
      )
    }
    if (status === 403) {
      const fix = needsPullRequests(subject)
        ? `give the token pull_requests: write (and contents: write) on ${subject.repo.fullName}; for a GitHub App, grant "Pull requests: Read and write" and accept the new permissions on the installation`
        : subject.kind === "other"
          ? `give the token ${subject.permission} on ${subject.repo.fullName}`
          : `give the token the permissions prwright needs on ${subject.repo.fullName} (contents: read, issues: write, pull requests: write)`
      return make(`GitHub refused access to ${what} (403 ${githubMessage}): ${fix}`, false)
    }
    if (status === 410)
      return make(
        `${what} is gone (410 ${githubMessage}): issues may be disabled on ${subject.repo.fullName}`,
        false,
      )
    if (status === 422) {
      const details = validationDetails(failure.response.data)
      const hint =
        subject.kind === "pull-create" && /"?head"? invalid/.test(details)
          ? `: branch ${subject.head} does not exist on GitHub; push it first`
          : subject.kind === "pull-create" && /no commits between/i.test(details)
            ? `: ${subject.head} has no commits that ${subject.base} lacks; commit and push the change first`
            : ""
      return make(
        `GitHub rejected the request for ${what} (422 ${githubMessage}${details ? `: ${scrub(details)}` : ""})${hint}`,
        false,
      )
    }
    if (status >= 500)
      return make(`GitHub had a server error (${status}) for ${what}: the run will be retried`, true)
    return make(`GitHub answered ${status} for ${what}: ${githubMessage}`)
  }

  const call = async <T>(subject: Subject, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (error) {
      throw toError(error, subject)
    }
  }

  const findPullRequest = async (repo: RepoRef, branch: string): Promise<GitHubPullRequest | undefined> => {
    const { data } = await call({ kind: "pull-find", repo, branch }, () =>
      octokit.rest.pulls.list({
        owner: repo.owner,
        repo: repo.name,
        head: `${repo.owner}:${branch}`,
        state: "open",
        per_page: 100,
      }),
    )
    // `head` filters by owner:branch already; checking again keeps a fork's same-named branch out
    const match = data.find(
      (pr) => pr.head.ref === branch && pr.head.repo?.full_name.toLowerCase() === repo.fullName.toLowerCase(),
    )
    return match && pullRequest(match)
  }

  const comment = (data: { id: number; html_url: string; body?: string | null }): GitHubComment => ({
    id: data.id,
    htmlUrl: data.html_url,
    body: data.body ?? "",
  })

  return {
    ...createOctokitCommitChecks(octokit, call),
    ...createOctokitReviewThreads(octokit, call),
    ...createOctokitCiRuns(octokit, call),

    async getRepository(repo) {
      const { data } = await call({ kind: "repo", repo }, () =>
        octokit.rest.repos.get({ owner: repo.owner, repo: repo.name }),
      )
      const result: GitHubRepository = {
        fullName: data.full_name,
        cloneUrl: data.clone_url,
        defaultBranch: data.default_branch,
        private: data.private,
        htmlUrl: data.html_url,
      }
      return result
    },

    async getIssue(repo, issueNumber) {
      const { data } = await call({ kind: "issue", repo, number: issueNumber }, () =>
        octokit.rest.issues.get({ owner: repo.owner, repo: repo.name, issue_number: issueNumber }),
      )
      const issue: GitHubIssue = {
        number: data.number,
        title: data.title,
        body: data.body ?? "",
        state: data.state === "closed" ? "closed" : "open",
        htmlUrl: data.html_url,
        author: data.user?.login ?? "ghost",
        labels: data.labels
          .map((label) => (typeof label === "string" ? label : (label.name ?? "")))
          .filter((name) => name.length > 0),
        isPullRequest: data.pull_request !== undefined && data.pull_request !== null,
      }
      return issue
    },

    async createIssueComment(repo, issueNumber, body) {
      const { data } = await call({ kind: "comment-create", repo, number: issueNumber }, () =>
        octokit.rest.issues.createComment({
          owner: repo.owner,
          repo: repo.name,
          issue_number: issueNumber,
          body,
        }),
      )
      return comment(data)
    },

    async listIssueComments(repo, issueNumber, listing) {
      const limit = Math.max(1, listing?.limit ?? 100)
      const found: GitHubIssueComment[] = []
      const iterator = octokit.paginate.iterator(octokit.rest.issues.listComments, {
        owner: repo.owner,
        repo: repo.name,
        issue_number: issueNumber,
        per_page: Math.min(100, limit),
      })
      try {
        for await (const page of iterator) {
          for (const data of page.data) {
            if (found.length >= limit) break
            found.push({ ...comment(data), author: data.user?.login ?? "", createdAt: data.created_at })
          }
          if (found.length >= limit) break
        }
      } catch (error) {
        return call({ kind: "issue", repo, number: issueNumber }, () => Promise.reject(error))
      }
      return found
    },

    async findIssueComment(repo, issueNumber, marker) {
      // Newest comments are where a run's own comment lives; stop after a bounded number of pages.
      const iterator = octokit.paginate.iterator(octokit.rest.issues.listComments, {
        owner: repo.owner,
        repo: repo.name,
        issue_number: issueNumber,
        per_page: 100,
      })
      let pages = 0
      try {
        for await (const page of iterator) {
          const found = page.data.find((c) => c.body?.includes(marker))
          if (found) return comment(found)
          if (++pages >= 10) break
        }
      } catch (error) {
        return call({ kind: "issue", repo, number: issueNumber }, () => Promise.reject(error))
      }
      return undefined
    },

    async updateIssueComment(repo, commentId, body) {
      const { data } = await call({ kind: "comment-update", repo, commentId }, () =>
        octokit.rest.issues.updateComment({
          owner: repo.owner,
          repo: repo.name,
          comment_id: commentId,
          body,
        }),
      )
      return comment(data)
    },

    findPullRequest,

    async createPullRequest(repo, pr) {
      const subject: Subject = { kind: "pull-create", repo, head: pr.head, base: pr.base }
      const create = (draft: boolean) =>
        octokit.rest.pulls.create({
          owner: repo.owner,
          repo: repo.name,
          title: pr.title,
          body: pr.body,
          head: pr.head,
          base: pr.base,
          draft,
        })
      try {
        return pullRequest((await create(pr.draft)).data)
      } catch (error) {
        const details = validationDetails((error as HttpFailure).response?.data)
        if ((error as HttpFailure).status === 422 && /already exists/i.test(details)) {
          // a retried job, or a PR opened by hand: one pull request per branch, so take the open one
          const existing = await findPullRequest(repo, pr.head)
          if (existing) return existing
        }
        if (
          (error as HttpFailure).status === 422 &&
          pr.draft &&
          /draft pull requests are not supported/i.test(details)
        ) {
          logger?.warn("draft pull requests are not available in this repository; opening a ready one", {
            repo: repo.fullName,
          })
          return pullRequest((await call(subject, () => create(false))).data)
        }
        throw toError(error, subject)
      }
    },

    async updatePullRequest(repo, number, patch) {
      const { data } = await call({ kind: "pull-update", repo, number }, () =>
        octokit.rest.pulls.update({
          owner: repo.owner,
          repo: repo.name,
          pull_number: number,
          ...(patch.title === undefined ? {} : { title: patch.title }),
          ...(patch.body === undefined ? {} : { body: patch.body }),
        }),
      )
      return pullRequest(data)
    },

    async getPullRequest(repo, number) {
      const { data } = await call({ kind: "pull-get", repo, number }, () =>
        octokit.rest.pulls.get({ owner: repo.owner, repo: repo.name, pull_number: number }),
      )
      return pullRequest(data)
    },

    async getPermission(repo, username) {
      try {
        const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
          owner: repo.owner,
          repo: repo.name,
          username,
        })
        return permissionOf(data)
      } catch (error) {
        // GitHub answers 404 for a login that is not a user; such a login may do nothing
        if ((error as HttpFailure).status === 404 && (error as HttpFailure).response) {
          const repoVisible = await octokit.rest.repos
            .get({ owner: repo.owner, repo: repo.name })
            .then(() => true)
            .catch(() => false)
          if (repoVisible) return "none"
        }
        throw toError(error, { kind: "permission", repo, username })
      }
    },

    async addReaction(repo, commentId, content) {
      await call({ kind: "reaction", repo, commentId }, () =>
        octokit.rest.reactions.createForIssueComment({
          owner: repo.owner,
          repo: repo.name,
          comment_id: commentId,
          content,
        }),
      )
    },
  }
}
