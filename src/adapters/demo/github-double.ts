// Over ~300 lines: the GitHub double's server, state and inspection helpers; its routes are split per area under ./github/.
/**
 * A GitHub stand-in for tests: REST API + git smart HTTP on 127.0.0.1, laid out like GitHub Enterprise:
 *   - REST root:   `double.apiUrl`  = http://127.0.0.1:PORT/api/v3   (Octokit's `baseUrl`)
 *   - web and git: `double.webUrl`  = http://127.0.0.1:PORT           (html_url, clone_url = …/owner/repo.git)
 * Auth as on GitHub: REST takes `Authorization: token X` / `Bearer X` (or Basic with the token as password);
 * git takes HTTP Basic with any user name and the token as password. Unknown tokens get 401; a repository
 * the token may not see is a 404, as GitHub hides private repositories.
 * GitHub Apps (`options.apps`): an RS256 JWT signed with the app's key reaches the installation endpoints,
 * and the installation tokens minted there work like any token for the installation's repositories.
 */
import { execFile } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { promisify } from "node:util"
import {
  type NewWorkflowRun,
  registerActionsRoutes,
  type StoredWorkflowRun,
} from "./github/actions-routes.js"
import { createAppAuth, type DoubleApp, expired, type MintedToken } from "./github/app-routes.js"
import { registerCheckRoutes, type StoredCheckRun, type StoredStatus } from "./github/check-routes.js"
import {
  createAccessState,
  type Role,
  registerCollaboratorRoutes,
  type StoredReaction,
} from "./github/collaborator-routes.js"
import { serveGit } from "./github/git-http.js"
import { registerPullRoutes } from "./github/pull-routes.js"
import { diffBetween, filesAt } from "./github/repo-inspection.js"
import {
  createRequestLog,
  presentedToken,
  type RecordedRequest,
  type TokenGrant,
} from "./github/request-log.js"
import { canSee, type DoubleState, registerCoreRoutes } from "./github/rest-routes.js"
import {
  type NewReview,
  registerReviewRoutes,
  type StoredReviewComment,
  type StoredThread,
} from "./github/review-routes.js"
import { createRouter, HttpError, type Identity, type Router } from "./github/router.js"
import { type StoredComment, type StoredPull, type StoredRepo, timestamp, userId } from "./github/shapes.js"

const run = promisify(execFile)

export type {
  DoubleApp,
  MintedToken,
  NewReview,
  RecordedRequest,
  Role,
  StoredCheckRun,
  StoredReaction,
  StoredReviewComment,
  StoredStatus,
  StoredThread,
  TokenGrant,
}

export interface CreateRepoOptions {
  /** the first commit's files (ignored when `from` is given) */
  files?: Record<string, string>
  /** an existing repository to host instead (all its branches and tags; its HEAD branch is the default) */
  from?: string
  defaultBranch?: string
  private?: boolean
}

export interface CreatedRepo {
  fullName: string
  cloneUrl: string
  gitDir: string
  headSha: string
}

export interface GitHubDouble {
  /** REST root, for Octokit's baseUrl / GITHUB_API_URL */
  apiUrl: string
  /** host of html_url and git (`${webUrl}/owner/repo.git`) */
  webUrl: string
  /** the first configured token (a generated all-access one when none were given) */
  token: string
  tokens: Record<string, TokenGrant>
  /** the handler table: add endpoints (pulls, branches …) with `router.add(method, "/repos/:owner/:repo/…", fn)` */
  router: Router
  state: DoubleState
  requests: RecordedRequest[]
  /** true once any request carried a token in its URL */
  readonly tokenSeenInUrl: boolean
  createRepo(fullName: string, options: CreateRepoOptions): Promise<CreatedRepo>
  createIssue(
    fullName: string,
    issue: { title: string; body: string; labels?: string[]; user?: string },
  ): number
  comments(fullName: string, issueNumber: number): StoredComment[]
  /** sha of a ref in the hosted bare repository, or undefined */
  refSha(fullName: string, ref: string): Promise<string | undefined>
  /** pull requests of a repository, oldest first */
  pullRequests(fullName: string): StoredPull[]
  /** every file on `branch` (path → content), read from the hosted repository */
  branchFiles(fullName: string, branch: string): Promise<Record<string, string>>
  /** the diff a pull request from `head` into `base` would show */
  diff(fullName: string, base: string, head: string): Promise<string>
  /** sets what `login` may do in a repository (GET …/collaborators/{login}/permission) */
  grant(fullName: string, login: string, role: Role): void
  /** reactions given to an issue comment, oldest first */
  reactions(commentId: number): StoredReaction[]
  /** installation tokens minted so far (GitHub Apps), oldest first */
  readonly mintedTokens: MintedToken[]
  /** every app JWT presented, valid or not */
  readonly appJwts: string[]
  /** expires every minted installation token now: the double answers 401 to them from then on */
  expireAppTokens(): void
  /**
   * Makes the next `times` API calls matching `method`/`path` fail as GitHub would: e.g. a secondary rate
   * limit (403, `retry-after: 2`), a primary one (403, `x-ratelimit-remaining: 0`) or a 502.
   */
  failNext(fault: InjectedFault): void
  /** check runs created on a repository, oldest first (only GitHub Apps may create them) */
  checkRuns(fullName: string): StoredCheckRun[]
  /** commit statuses set on a repository, oldest first */
  statuses(fullName: string): StoredStatus[]
  /** a submitted review with its comments on a pull request (each comment starts a thread) */
  addReview(fullName: string, pull: number, review: NewReview): { reviewId: number; commentIds: number[] }
  /** a reply in a review thread, e.g. by a user without write access */
  addReviewReply(fullName: string, rootCommentId: number, user: string, body: string): number
  /** review comments (with replies) of a pull request, oldest first */
  reviewComments(fullName: string, pull: number): StoredReviewComment[]
  /** review threads of a pull request */
  reviewThreads(fullName: string, pull: number): StoredThread[]
  /** a finished GitHub Actions run with its jobs and logs (send the workflow_run webhook yourself) */
  addWorkflowRun(fullName: string, run: NewWorkflowRun): StoredWorkflowRun
  /** ids of the jobs whose logs were downloaded, in order */
  readonly jobLogReads: number[]
  /** GET answers carry an ETag and a matching `If-None-Match` gets 304 (GitHub's conditional requests) */
  readonly notModifiedCount: number
  close(): Promise<void>
}

export interface InjectedFault {
  method?: string
  /** matched against the API path (after /api/v3), e.g. /\/issues\/\d+\/comments$/ */
  path?: RegExp
  status: number
  headers?: Record<string, string>
  message?: string
  /** how many matching calls fail (default 1) */
  times?: number
}

/** GitHub's answer to a request over a secondary rate limit. */
export const secondaryRateLimit = (
  retryAfterSeconds: number,
  match: Omit<InjectedFault, "status"> = {},
): InjectedFault => ({
  ...match,
  status: 403,
  headers: { "retry-after": String(retryAfterSeconds), ...match.headers },
  message:
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
})

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.statusCode = status
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
  if (body === undefined) {
    res.end()
    return
  }
  res.setHeader("content-type", "application/json; charset=utf-8")
  res.end(JSON.stringify(body))
}

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString("utf8")
}

const GIT_PATH = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/

export interface GitHubDoubleOptions {
  tokens?: Record<string, TokenGrant>
  /** GitHub Apps by app id, each with its public key and installations */
  apps?: Record<string, DoubleApp>
  /** lifetime of minted installation tokens; 1 hour (GitHub's) by default */
  appTokenTtlMs?: number
}

export const startGitHubDouble = async (options: GitHubDoubleOptions = {}): Promise<GitHubDouble> => {
  const tokens: Record<string, TokenGrant> = options.tokens ?? {
    [`ghp_double${randomBytes(12).toString("hex")}`]: { login: "prwright-bot", repos: "*" },
  }
  const root = await mkdtemp(path.join(tmpdir(), "github-double-"))
  const projectRoot = path.join(root, "git")
  await mkdir(projectRoot, { recursive: true })
  let lastId = 100
  const state: DoubleState = {
    urls: { api: "", web: "" },
    repos: new Map(),
    comments: new Map(),
    nextId: () => ++lastId,
  }
  const router = createRouter()
  registerCoreRoutes(router, state)
  registerPullRoutes(router, state)
  const access = createAccessState()
  registerCollaboratorRoutes(router, state, access)
  const checks = registerCheckRoutes(router, state)
  const reviewing = registerReviewRoutes(router, state)
  const actions = registerActionsRoutes(router, state)
  const log = createRequestLog(tokens)
  const appAuth = createAppAuth({
    apps: options.apps ?? {},
    tokens,
    urls: state.urls,
    tokenTtlMs: options.appTokenTtlMs ?? 3_600_000,
  })
  const used = new Map<string, number>()
  const faults: Array<InjectedFault & { left: number }> = []
  let notModified = 0

  const rateHeaders = (token: string): Record<string, string> => {
    const count = (used.get(token) ?? 0) + 1
    used.set(token, count)
    return {
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": String(Math.max(0, 5000 - count)),
      "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
      "x-ratelimit-used": String(count),
      "x-ratelimit-resource": "core",
      "x-github-api-version-selected": "2022-11-28",
    }
  }

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const apiPath = url.pathname.slice("/api/v3".length) || "/"
    const header = req.headers.authorization
    const method = req.method ?? "GET"
    if (appAuth.handles(method, apiPath)) {
      await readBody(req)
      const answer = appAuth.handle(method, apiPath, header)
      json(res, answer.status, answer.body)
      return
    }
    const token = presentedToken(header, tokens)
    const grant = token === undefined ? undefined : tokens[token]
    if (!grant || token === undefined || expired(grant)) {
      const message = header ? "Bad credentials" : "Requires authentication"
      json(res, 401, { message, documentation_url: "https://docs.github.com/rest", status: "401" })
      return
    }
    const identity: Identity = { token, login: grant.login, id: userId(grant.login), repos: grant.repos }
    const headers = rateHeaders(token)
    const fault = faults.find(
      (f) =>
        f.left > 0 && (!f.method || f.method.toUpperCase() === method) && (!f.path || f.path.test(apiPath)),
    )
    if (fault) {
      fault.left--
      await readBody(req)
      json(
        res,
        fault.status,
        { message: fault.message ?? "Server Error", documentation_url: "https://docs.github.com/rest" },
        { ...headers, ...fault.headers },
      )
      return
    }
    const found = router.match(method, apiPath)
    if (!found) {
      json(
        res,
        404,
        { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" },
        headers,
      )
      return
    }
    let body: unknown
    const text = await readBody(req)
    if (text.length > 0) {
      try {
        body = JSON.parse(text)
      } catch {
        json(
          res,
          400,
          { message: "Problems parsing JSON", documentation_url: "https://docs.github.com/rest" },
          headers,
        )
        return
      }
    }
    try {
      const result = await found.handler({
        method,
        params: found.params,
        query: url.searchParams,
        body,
        headers: req.headers,
        identity,
      })
      if (result.raw) {
        res.statusCode = result.status
        for (const [name, value] of Object.entries({ ...headers, ...result.headers }))
          res.setHeader(name, value)
        res.end(String(result.body ?? ""))
        return
      }
      if (method === "GET" && result.status === 200 && result.body !== undefined) {
        const etag = `W/"${createHash("sha1").update(JSON.stringify(result.body)).digest("hex")}"`
        if (req.headers["if-none-match"] === etag) {
          notModified++
          json(res, 304, undefined, { ...headers, ...result.headers, etag })
          return
        }
        json(res, result.status, result.body, { ...headers, ...result.headers, etag })
        return
      }
      json(res, result.status, result.body, { ...headers, ...result.headers })
    } catch (error) {
      if (error instanceof HttpError) json(res, error.status, error.body, headers)
      else
        json(res, 500, { message: String(error), documentation_url: "https://docs.github.com/rest" }, headers)
    }
  }

  const handleGit = (req: IncomingMessage, res: ServerResponse, url: URL, match: RegExpExecArray) => {
    const fullName = `${match[1]}/${match[2]}`
    const token = presentedToken(req.headers.authorization, tokens)
    const grant = token === undefined ? undefined : tokens[token]
    if (!grant || expired(grant)) {
      res.statusCode = 401
      res.setHeader("www-authenticate", 'Basic realm="GitHub"')
      res.end("Invalid username or token. Password authentication is not supported for Git operations.\n")
      return
    }
    const repo = state.repos.get(fullName.toLowerCase())
    if (!repo || !canSee({ token: "", login: grant.login, id: 0, repos: grant.repos }, repo.fullName)) {
      res.statusCode = 404
      res.end("Repository not found.\n")
      return
    }
    const pushing = match[3] === "git-receive-pack" || url.searchParams.get("service") === "git-receive-pack"
    if (pushing && grant.push === false) {
      res.statusCode = 403
      res.end(`Permission to ${repo.fullName}.git denied to ${grant.login}.\n`)
      return
    }
    serveGit(req, res, {
      projectRoot,
      pathInfo: `/${repo.fullName}.git/${match[3]}`,
      query: url.search.slice(1),
      remoteUser: grant.login,
    })
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://double.invalid")
    const gitMatch = GIT_PATH.exec(url.pathname)
    const kind = url.pathname.startsWith("/api/") ? "api" : gitMatch ? "git" : "other"
    log.record(req, res, kind)
    if (url.pathname === "/api/graphql" && req.method === "POST") {
      const token = presentedToken(req.headers.authorization, tokens)
      const grant = token === undefined ? undefined : tokens[token]
      const identity =
        grant && token !== undefined && !expired(grant)
          ? { token, login: grant.login, id: userId(grant.login), repos: grant.repos }
          : undefined
      reviewing.handleGraphql(req, res, identity).catch((error) => {
        if (!res.headersSent) json(res, 500, { message: String(error) })
      })
    } else if (kind === "api") {
      handleApi(req, res, url).catch((error) => {
        if (!res.headersSent) json(res, 500, { message: String(error) })
      })
    } else if (gitMatch) {
      handleGit(req, res, url, gitMatch)
    } else {
      json(res, 404, { message: "Not Found" })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  state.urls.web = `http://127.0.0.1:${port}`
  state.urls.api = `${state.urls.web}/api/v3`

  const gitEnv = {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "Double",
    GIT_AUTHOR_EMAIL: "double@example.invalid",
    GIT_COMMITTER_NAME: "Double",
    GIT_COMMITTER_EMAIL: "double@example.invalid",
  }
  const git = async (args: string[], cwd?: string) =>
    (await run("git", args, { cwd, env: gitEnv })).stdout.trim()

  const double: GitHubDouble = {
    apiUrl: state.urls.api,
    webUrl: state.urls.web,
    token: Object.keys(tokens)[0] ?? "",
    tokens,
    router,
    state,
    requests: log.requests,
    get tokenSeenInUrl() {
      return log.tokenSeenInUrl
    },

    async createRepo(fullName, repoOptions) {
      const [owner, name, ...rest] = fullName.split("/")
      if (!owner || !name || rest.length > 0) throw new Error(`createRepo: "${fullName}" is not owner/repo`)
      if (state.repos.has(fullName.toLowerCase())) throw new Error(`createRepo: ${fullName} already exists`)
      const gitDir = path.join(projectRoot, owner, `${name}.git`)
      let branch = repoOptions.defaultBranch ?? "main"
      if (repoOptions.from) {
        await git(["clone", "--quiet", "--bare", repoOptions.from, gitDir])
        if (repoOptions.defaultBranch)
          await git(["symbolic-ref", "HEAD", `refs/heads/${repoOptions.defaultBranch}`], gitDir)
        branch = await git(["symbolic-ref", "--short", "HEAD"], gitDir)
      } else {
        const work = await mkdtemp(path.join(root, "work-"))
        try {
          await git(["init", "--quiet", "-b", branch], work)
          for (const [file, content] of Object.entries(repoOptions.files ?? {})) {
            await mkdir(path.dirname(path.join(work, file)), { recursive: true })
            await writeFile(path.join(work, file), content)
          }
          await git(["add", "-A"], work)
          await git(
            ["-c", "commit.gpgsign=false", "commit", "--quiet", "--allow-empty", "-m", "Initial commit"],
            work,
          )
          await git(["init", "--quiet", "--bare", "-b", branch, gitDir])
          await git(["push", "--quiet", gitDir, `HEAD:refs/heads/${branch}`], work)
        } finally {
          await rm(work, { recursive: true, force: true })
        }
      }
      await git(["config", "http.receivepack", "true"], gitDir)
      const repo: StoredRepo = {
        id: state.nextId(),
        owner,
        name,
        fullName,
        private: repoOptions.private ?? false,
        defaultBranch: branch,
        gitDir,
        createdAt: timestamp(),
        nextNumber: 1,
        issues: new Map(),
        pulls: new Map(),
      }
      state.repos.set(fullName.toLowerCase(), repo)
      const headSha = await git(["rev-parse", `refs/heads/${branch}`], gitDir)
      return { fullName, cloneUrl: `${state.urls.web}/${fullName}.git`, gitDir, headSha }
    },

    createIssue(fullName, issue) {
      const repo = state.repos.get(fullName.toLowerCase())
      if (!repo) throw new Error(`createIssue: no repository ${fullName}; call createRepo first`)
      const number = repo.nextNumber++
      const now = timestamp()
      repo.issues.set(number, {
        id: state.nextId(),
        number,
        title: issue.title,
        body: issue.body,
        state: "open",
        labels: issue.labels ?? [],
        user: issue.user ?? "octocat",
        createdAt: now,
        updatedAt: now,
      })
      return number
    },

    comments(fullName, issueNumber) {
      return [...state.comments.values()].filter(
        (c) => c.repo.toLowerCase() === fullName.toLowerCase() && c.issueNumber === issueNumber,
      )
    },

    async refSha(fullName, ref) {
      const repo = state.repos.get(fullName.toLowerCase())
      if (!repo) return undefined
      try {
        return await git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], repo.gitDir)
      } catch {
        return undefined
      }
    },

    pullRequests(fullName) {
      const repo = state.repos.get(fullName.toLowerCase())
      return repo ? [...repo.pulls.values()].sort((a, b) => a.number - b.number) : []
    },

    async branchFiles(fullName, branch) {
      const repo = state.repos.get(fullName.toLowerCase())
      if (!repo) throw new Error(`branchFiles: no repository ${fullName}`)
      return filesAt(repo.gitDir, `refs/heads/${branch}`)
    },

    async diff(fullName, base, head) {
      const repo = state.repos.get(fullName.toLowerCase())
      if (!repo) throw new Error(`diff: no repository ${fullName}`)
      return diffBetween(repo.gitDir, base, head)
    },

    grant(fullName, login, role) {
      const key = fullName.toLowerCase()
      const grants = access.grants.get(key) ?? new Map<string, Role>()
      grants.set(login.toLowerCase(), role)
      access.grants.set(key, grants)
    },

    reactions(commentId) {
      return access.reactions.filter((r) => r.commentId === commentId)
    },

    mintedTokens: appAuth.minted,
    appJwts: appAuth.jwtsSeen,
    expireAppTokens: () => appAuth.expireTokens(),
    checkRuns(fullName) {
      return [...checks.checkRuns.values()].filter((r) => r.repo.toLowerCase() === fullName.toLowerCase())
    },
    statuses(fullName) {
      return checks.statuses.filter((s) => s.repo.toLowerCase() === fullName.toLowerCase())
    },
    addReview: (fullName, pull, review) => reviewing.addReview(fullName, pull, review),
    addReviewReply: (fullName, rootId, user, body) => reviewing.addReply(fullName, rootId, user, body),
    reviewComments(fullName, pull) {
      return reviewing.reviews.comments.filter(
        (c) => c.repo.toLowerCase() === fullName.toLowerCase() && c.pull === pull,
      )
    },
    reviewThreads(fullName, pull) {
      return reviewing.reviews.threads.filter(
        (t) => t.repo.toLowerCase() === fullName.toLowerCase() && t.pull === pull,
      )
    },
    addWorkflowRun: (fullName, input) => actions.addWorkflowRun(fullName, input),
    jobLogReads: actions.logReads,
    failNext(fault) {
      faults.push({ ...fault, left: fault.times ?? 1 })
    },
    get notModifiedCount() {
      return notModified
    },

    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await rm(root, { recursive: true, force: true })
    },
  }
  return double
}
