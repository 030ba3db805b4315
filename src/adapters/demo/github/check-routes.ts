/**
 * Check runs, commit statuses and branches in the double. As on GitHub, only a GitHub App (an
 * installation token, login `…[bot]`) may create check runs; a personal token gets 403 and has to use
 * commit statuses. Each write is kept so tests can read what a commit shows.
 */
import { branchSha } from "./pull-routes.js"
import type { DoubleState } from "./rest-routes.js"
import { visibleRepo } from "./rest-routes.js"
import { HttpError, type Router } from "./router.js"
import { timestamp } from "./shapes.js"

export interface StoredCheckRun {
  id: number
  repo: string
  name: string
  headSha: string
  status: "queued" | "in_progress" | "completed"
  conclusion: string | null
  externalId: string | null
  detailsUrl: string | null
  output: { title: string | null; summary: string | null; text: string | null }
  startedAt: string | null
  completedAt: string | null
  /** every status this check run passed through, in order */
  history: string[]
}

export interface StoredStatus {
  id: number
  repo: string
  sha: string
  state: "error" | "failure" | "pending" | "success"
  context: string
  description: string | null
  targetUrl: string | null
  createdAt: string
}

export interface CheckState {
  checkRuns: Map<number, StoredCheckRun>
  statuses: StoredStatus[]
}

const DOCS = {
  create: "https://docs.github.com/rest/checks/runs#create-a-check-run",
  status: "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
  branch: "https://docs.github.com/rest/branches/branches#get-a-branch",
}

const checkRunJson = (state: DoubleState, run: StoredCheckRun) => ({
  id: run.id,
  node_id: `CR_${run.id}`,
  head_sha: run.headSha,
  external_id: run.externalId,
  url: `${state.urls.api}/repos/${run.repo}/check-runs/${run.id}`,
  html_url: `${state.urls.web}/${run.repo}/runs/${run.id}`,
  details_url: run.detailsUrl,
  status: run.status,
  conclusion: run.conclusion,
  started_at: run.startedAt,
  completed_at: run.completedAt,
  output: { ...run.output, annotations_count: 0, annotations_url: "" },
  name: run.name,
  check_suite: { id: 1 },
  app: null,
  pull_requests: [],
})

const CONCLUSIONS = [
  "action_required",
  "cancelled",
  "failure",
  "neutral",
  "success",
  "skipped",
  "stale",
  "timed_out",
]

const applyPatch = (run: StoredCheckRun, body: Record<string, unknown>) => {
  const output = body.output as Record<string, string | undefined> | undefined
  if (output) {
    if (!output.title || !output.summary)
      throw new HttpError(422, 'Invalid request.\n\n"title", "summary" are required keys in output.')
    if (output.summary.length > 65_535 || (output.text?.length ?? 0) > 65_535)
      throw new HttpError(422, "Invalid request.\n\nOutput is limited to 65535 characters.")
    run.output = { title: output.title, summary: output.summary, text: output.text ?? null }
  }
  if (typeof body.details_url === "string") run.detailsUrl = body.details_url
  if (typeof body.conclusion === "string") {
    if (!CONCLUSIONS.includes(body.conclusion))
      throw new HttpError(422, `Invalid request.\n\n${body.conclusion} is not a member of ${CONCLUSIONS}.`)
    run.conclusion = body.conclusion
    run.status = "completed"
    run.completedAt = typeof body.completed_at === "string" ? body.completed_at : timestamp()
  } else if (typeof body.status === "string") {
    if (body.status === "completed")
      throw new HttpError(422, "Invalid request.\n\nconclusion is required when status is completed.")
    run.status = body.status as StoredCheckRun["status"]
    if (run.status === "in_progress") run.startedAt ??= timestamp()
  }
  run.history.push(run.conclusion ? `completed:${run.conclusion}` : run.status)
}

export const registerCheckRoutes = (router: Router, state: DoubleState): CheckState => {
  const checks: CheckState = { checkRuns: new Map(), statuses: [] }

  router.add("POST", "/repos/:owner/:repo/check-runs", ({ identity, params, body }) => {
    const repo = visibleRepo(state, identity, params)
    if (!identity.login.endsWith("[bot]"))
      throw new HttpError(403, "You must authenticate via a GitHub App.", { documentation_url: DOCS.create })
    const input = (body ?? {}) as Record<string, unknown>
    if (typeof input.name !== "string" || !/^[0-9a-f]{40}$/.test(String(input.head_sha)))
      throw new HttpError(422, 'Invalid request.\n\n"name", "head_sha" are required.', {
        documentation_url: DOCS.create,
      })
    const run: StoredCheckRun = {
      id: state.nextId(),
      repo: repo.fullName,
      name: input.name,
      headSha: String(input.head_sha),
      status: "queued",
      conclusion: null,
      externalId: typeof input.external_id === "string" ? input.external_id : null,
      detailsUrl: null,
      output: { title: null, summary: null, text: null },
      startedAt: null,
      completedAt: null,
      history: [],
    }
    applyPatch(run, input)
    checks.checkRuns.set(run.id, run)
    return { status: 201, body: checkRunJson(state, run) }
  })

  router.add("PATCH", "/repos/:owner/:repo/check-runs/:id", ({ identity, params, body }) => {
    const repo = visibleRepo(state, identity, params)
    const run = checks.checkRuns.get(Number(params.id))
    if (!run || run.repo !== repo.fullName) throw new HttpError(404, "Not Found")
    applyPatch(run, (body ?? {}) as Record<string, unknown>)
    return { status: 200, body: checkRunJson(state, run) }
  })

  router.add("GET", "/repos/:owner/:repo/commits/:ref/check-runs", ({ identity, params }) => {
    const repo = visibleRepo(state, identity, params)
    const runs = [...checks.checkRuns.values()].filter(
      (r) => r.repo === repo.fullName && r.headSha === params.ref,
    )
    return {
      status: 200,
      body: { total_count: runs.length, check_runs: runs.map((r) => checkRunJson(state, r)) },
    }
  })

  router.add("POST", "/repos/:owner/:repo/statuses/:sha", ({ identity, params, body }) => {
    const repo = visibleRepo(state, identity, params)
    const input = (body ?? {}) as Record<string, unknown>
    if (!["error", "failure", "pending", "success"].includes(String(input.state)))
      throw new HttpError(422, "Validation Failed", { documentation_url: DOCS.status })
    const status: StoredStatus = {
      id: state.nextId(),
      repo: repo.fullName,
      sha: String(params.sha),
      state: input.state as StoredStatus["state"],
      context: typeof input.context === "string" ? input.context : "default",
      description: typeof input.description === "string" ? input.description : null,
      targetUrl: typeof input.target_url === "string" ? input.target_url : null,
      createdAt: timestamp(),
    }
    if ((status.description?.length ?? 0) > 140)
      throw new HttpError(422, "Validation Failed", {
        errors: [
          {
            resource: "Status",
            code: "custom",
            field: "description",
            message: "description is too long (maximum is 140 characters)",
          },
        ],
      })
    checks.statuses.push(status)
    return {
      status: 201,
      body: {
        id: status.id,
        state: status.state,
        context: status.context,
        description: status.description,
        target_url: status.targetUrl,
        created_at: status.createdAt,
        updated_at: status.createdAt,
      },
    }
  })

  router.add("GET", "/repos/:owner/:repo/branches/:branch", async ({ identity, params }) => {
    const repo = visibleRepo(state, identity, params)
    const sha = await branchSha(repo, String(params.branch))
    if (!sha) throw new HttpError(404, "Branch not found", { documentation_url: DOCS.branch })
    return {
      status: 200,
      body: {
        name: params.branch,
        commit: { sha, url: `${state.urls.api}/repos/${repo.fullName}/commits/${sha}` },
        protected: false,
      },
    }
  })

  return checks
}
