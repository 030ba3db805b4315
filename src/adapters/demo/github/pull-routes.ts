/**
 * Pull request endpoints of the double: list/create (`/repos/{o}/{r}/pulls`) and get/update
 * (`/repos/{o}/{r}/pulls/{n}`). Branches and commits are read from the hosted bare repository with real
 * git, so a pull request's head sha and stats follow what was pushed. Validation failures answer with
 * GitHub's 422 body (`message: "Validation Failed"` plus an `errors` array).
 */
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { pullJson, pullSimpleJson } from "./pull-shapes.js"
import type { DoubleState } from "./rest-routes.js"
import { visibleRepo } from "./rest-routes.js"
import { HttpError, type Router } from "./router.js"
import { type StoredPull, type StoredRepo, timestamp } from "./shapes.js"

const run = promisify(execFile)

const DOCS = {
  create: "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
  update: "https://docs.github.com/rest/pulls/pulls#update-a-pull-request",
  get: "https://docs.github.com/rest/pulls/pulls#get-a-pull-request",
}

const git = async (repo: StoredRepo, args: string[]): Promise<string> =>
  (await run("git", args, { cwd: repo.gitDir, maxBuffer: 64 * 1024 * 1024 })).stdout.trim()

/** sha of `refs/heads/<branch>`, or undefined when the branch does not exist */
export const branchSha = async (repo: StoredRepo, branch: string): Promise<string | undefined> =>
  git(repo, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`]).catch(() => undefined)

const invalid = (errors: Array<Record<string, string>>, documentation_url: string): HttpError =>
  new HttpError(422, "Validation Failed", { errors, documentation_url })

const shasOf = async (repo: StoredRepo, pull: StoredPull) => ({
  // GitHub keeps the last known sha when a branch is deleted; "0"s stand in here
  head: (await branchSha(repo, pull.head)) ?? "0".repeat(40),
  base: (await branchSha(repo, pull.base)) ?? "0".repeat(40),
})

const full = async (state: DoubleState, repo: StoredRepo, pull: StoredPull) => {
  const shas = await shasOf(repo, pull)
  const range = `${shas.base}...${shas.head}`
  const known = !shas.head.startsWith("0000") && !shas.base.startsWith("0000")
  const commits = known ? Number(await git(repo, ["rev-list", "--count", `${shas.base}..${shas.head}`])) : 0
  const numstat = known ? await git(repo, ["diff", "--numstat", range]) : ""
  let additions = 0
  let deletions = 0
  const lines = numstat ? numstat.split("\n") : []
  for (const line of lines) {
    const [added = "0", deleted = "0"] = line.split("\t")
    additions += Number(added) || 0
    deletions += Number(deleted) || 0
  }
  return pullJson(state.urls, repo, pull, shas, {
    commits,
    additions,
    deletions,
    changedFiles: lines.length,
  })
}

const pullOf = (repo: StoredRepo, params: Record<string, string>): StoredPull => {
  const pull = repo.pulls.get(Number(params.number))
  if (!pull) throw new HttpError(404, "Not Found", { documentation_url: DOCS.get })
  return pull
}

/** `branch` or `owner:branch`; another owner would be a fork, which the double does not host. */
const headBranch = (repo: StoredRepo, head: string): string | undefined => {
  const colon = head.indexOf(":")
  if (colon === -1) return head
  return head.slice(0, colon).toLowerCase() === repo.owner.toLowerCase() ? head.slice(colon + 1) : undefined
}

const text = (body: unknown, key: string): string | undefined => {
  const value = (body as Record<string, unknown> | undefined)?.[key]
  return typeof value === "string" ? value : undefined
}

export const registerPullRoutes = (router: Router, state: DoubleState): void => {
  router.add("GET", "/repos/:owner/:repo/pulls", async ({ identity, params, query }) => {
    const repo = visibleRepo(state, identity, params)
    const wanted = query.get("state") ?? "open"
    if (!["open", "closed", "all"].includes(wanted)) {
      throw invalid([{ resource: "Search", field: "state", code: "invalid" }], DOCS.get)
    }
    const head = query.get("head")
    const base = query.get("base")
    const perPage = Math.min(100, Math.max(1, Number(query.get("per_page") ?? 30) || 30))
    const page = Math.max(1, Number(query.get("page") ?? 1) || 1)
    const pulls = [...repo.pulls.values()]
      .filter((pull) => wanted === "all" || pull.state === wanted)
      // GitHub matches `head` only in the user:ref-name form
      .filter((pull) => !head || head.toLowerCase() === `${repo.owner}:${pull.head}`.toLowerCase())
      .filter((pull) => !base || pull.base === base)
      .sort((a, b) => b.number - a.number)
      .slice((page - 1) * perPage, page * perPage)
    const body = await Promise.all(
      pulls.map(async (pull) => pullSimpleJson(state.urls, repo, pull, await shasOf(repo, pull))),
    )
    return { status: 200, body }
  })

  router.add("POST", "/repos/:owner/:repo/pulls", async ({ identity, params, body }) => {
    const repo = visibleRepo(state, identity, params)
    const title = text(body, "title")
    const headInput = text(body, "head")
    const base = text(body, "base")
    const missing = (["title", "head", "base"] as const).filter(
      (field) => !text(body, field) || text(body, field)?.trim() === "",
    )
    if (missing.length > 0 || !title || !headInput || !base) {
      throw invalid(
        missing.map((field) => ({ resource: "PullRequest", code: "missing_field", field })),
        DOCS.create,
      )
    }
    const head = headBranch(repo, headInput)
    const headSha = head === undefined ? undefined : await branchSha(repo, head)
    const baseSha = await branchSha(repo, base)
    const errors: Array<Record<string, string>> = []
    if (!headSha || head === undefined)
      errors.push({ resource: "PullRequest", field: "head", code: "invalid" })
    if (!baseSha) errors.push({ resource: "PullRequest", field: "base", code: "invalid" })
    if (errors.length > 0 || head === undefined || !headSha || !baseSha) throw invalid(errors, DOCS.create)
    if ([...repo.pulls.values()].some((p) => p.state === "open" && p.head === head && p.base === base)) {
      throw invalid(
        [
          {
            resource: "PullRequest",
            code: "custom",
            message: `A pull request already exists for ${repo.owner}:${head}.`,
          },
        ],
        DOCS.create,
      )
    }
    if (Number(await git(repo, ["rev-list", "--count", `${baseSha}..${headSha}`])) === 0) {
      throw invalid(
        [{ resource: "PullRequest", code: "custom", message: `No commits between ${base} and ${head}` }],
        DOCS.create,
      )
    }
    const now = timestamp()
    const pull: StoredPull = {
      id: state.nextId(),
      number: repo.nextNumber++,
      title,
      body: text(body, "body") ?? null,
      state: "open",
      draft: (body as { draft?: unknown }).draft === true,
      head,
      base,
      user: identity.login,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
    }
    repo.pulls.set(pull.number, pull)
    const json = await full(state, repo, pull)
    return { status: 201, body: json, headers: { location: json.url } }
  })

  router.add("GET", "/repos/:owner/:repo/pulls/:number", async ({ identity, params }) => {
    const repo = visibleRepo(state, identity, params)
    return { status: 200, body: await full(state, repo, pullOf(repo, params)) }
  })

  router.add("PATCH", "/repos/:owner/:repo/pulls/:number", async ({ identity, params, body }) => {
    const repo = visibleRepo(state, identity, params)
    const pull = pullOf(repo, params)
    const patch = (body ?? {}) as Record<string, unknown>
    const nextState = patch.state
    if (nextState !== undefined && nextState !== "open" && nextState !== "closed") {
      throw invalid([{ resource: "PullRequest", field: "state", code: "invalid" }], DOCS.update)
    }
    const base = text(body, "base")
    if (base !== undefined && !(await branchSha(repo, base))) {
      throw invalid([{ resource: "PullRequest", field: "base", code: "invalid" }], DOCS.update)
    }
    if (typeof patch.title === "string") pull.title = patch.title
    if (typeof patch.body === "string" || patch.body === null) pull.body = patch.body
    if (base !== undefined) pull.base = base
    if (nextState !== undefined && nextState !== pull.state) {
      pull.state = nextState
      pull.closedAt = nextState === "closed" ? timestamp() : null
    }
    pull.updatedAt = timestamp()
    return { status: 200, body: await full(state, repo, pull) }
  })
}
