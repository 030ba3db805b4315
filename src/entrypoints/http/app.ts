import { type Context, Hono } from "hono"
import { bodyLimit } from "hono/body-limit"
import { HTTPException } from "hono/http-exception"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import type { ApiAuth } from "#application/api-auth.js"
import type { EventBus } from "#application/ports/event-bus.js"
import type { Logger } from "#application/ports/logging.js"
import type { RunStore } from "#application/ports/run-store.js"
import type { RepoSettings } from "#application/repo-settings.js"
import type { WorkflowRequester } from "#application/request-workflow.js"
import type { RunPlaces } from "#application/run-place.js"
import { type ErrorCode, PrwrightError, ValidationError } from "#domain/errors.js"
import type { WorkflowRun } from "#domain/workflow-run.js"
import { JOB_TYPES, type JobType, RUN_STATUSES } from "#domain/workflow-run.js"
import { batchedReads } from "./batched-reads.js"
import { acceptedBody, toJobStatus } from "./job-status.js"
import { jsonBody } from "./json-body.js"
import { createMetrics, type Metrics, metricsRefusal } from "./metrics.js"
import { openApiDocument } from "./openapi.js"
import { registerRepoSettingsRoutes } from "./repo-settings-routes.js"
import { registerEventRoutes } from "./run-events.js"
import {
  type AuthEnv,
  authenticate,
  createSessions,
  registerSessionRoutes,
  type Sessions,
} from "./session.js"
import { registerStaticUi } from "./static-ui.js"
import { uiPaths, uiSecuritySchemes } from "./ui-openapi.js"
import { registerUiRoutes, type UiRouteDeps } from "./ui-routes.js"
import { registerWebhookRoutes, type WebhookDeps } from "./webhooks.js"

export interface HttpAppDeps {
  requester: WorkflowRequester
  cancelRun: (jobId: string) => Promise<WorkflowRun>
  store: RunStore
  bus: EventBus
  auth: ApiAuth
  logger: Logger
  /** job types this process can run; others answer 501 until their workflow ships */
  workflows: readonly JobType[]
  readiness?: () => Promise<Record<string, { ok: boolean; detail?: string }>>
  version: string
  /** GitHub webhook intake; without it (or without a secret) POST /api/webhooks/github answers 503 */
  webhooks?: Omit<WebhookDeps, "logger">
  metrics?: Metrics
  /** GET/PUT /api/repos/:owner/:name/settings; without it those routes answer 404 */
  repoSettings?: RepoSettings
  /** the web UI's routes: plans, approval, setup, links (see ui-routes.ts) */
  ui?: Omit<UiRouteDeps, "store" | "requester">
  /** a waiting run's place in line and estimated start (absent: not shown) */
  runPlaces?: RunPlaces | undefined
  /** the built UI (default dist/ui) */
  uiDir?: string | undefined
  sessions?: Sessions
  /** bearer token for GET /metrics (PRWRIGHT_METRICS_TOKEN); unset: only unforwarded loopback peers */
  metricsToken?: string | undefined
}

const STATUS_OF: Record<ErrorCode, ContentfulStatusCode> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  config: 503,
  cancelled: 409,
  internal: 500,
}

const ROUTES: Record<string, JobType> = {
  commentOnIssue: "comment-on-issue",
  autoResolveIssue: "auto-resolve-issue",
  resolveIssue: "resolve-issue",
}

export const createHttpApp = (deps: HttpAppDeps): Hono => {
  const app = new Hono()

  app.onError((error, c) => {
    // a response a middleware already made
    if (error instanceof HTTPException) return error.getResponse()
    if (error instanceof PrwrightError) {
      const status = STATUS_OF[error.code]
      const details = error instanceof ValidationError ? { issues: error.issues } : undefined
      return c.json(
        { error: { code: error.code, message: error.message, ...(details ? { details } : {}) } },
        status,
      )
    }
    deps.logger.error("unhandled error in HTTP request", { path: c.req.path, error: String(error) })
    return c.json({ error: { code: "internal", message: "internal error; see the server log" } }, 500)
  })
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  )

  const metrics = deps.metrics ?? createMetrics()
  app.use("*", async (c, next) => {
    const started = performance.now()
    await next()
    // the matched route pattern, not the path: job ids must not explode the label set
    const route =
      c.req.routePath && c.req.routePath !== "*" && c.req.routePath !== "/*" ? c.req.routePath : "unmatched"
    metrics.countRequest(
      { method: c.req.method, route, status: String(c.res.status) },
      (performance.now() - started) / 1000,
    )
  })

  app.get("/healthz", (c) => c.json({ status: "ok", version: deps.version }))
  registerStaticUi(app, { version: deps.version, uiDir: deps.uiDir })
  app.get("/metrics", async (c) => {
    const refused = metricsRefusal(c, deps.metricsToken)
    if (refused) return c.json({ error: refused }, refused.code === "unauthorized" ? 401 : 403)
    return c.text(await metrics.render(), 200, { "content-type": metrics.contentType })
  })
  app.get("/readyz", async (c) => {
    const checks = (await deps.readiness?.()) ?? {}
    const ok = Object.values(checks).every((check) => check.ok)
    return c.json({ status: ok ? "ready" : "not ready", checks }, ok ? 200 : 503)
  })

  // A POST-only route asked with another method says so (405 + Allow), before any token check.
  const postOnly = (c: Context) => {
    c.header("Allow", "POST")
    return c.json(
      {
        error: {
          code: "method_not_allowed",
          message: `${c.req.path} accepts POST only, not ${c.req.method}`,
        },
      },
      405,
    )
  }
  app.on(["GET", "PUT", "PATCH", "DELETE"], "/api/workflow/:name", postOnly)
  app.on(["GET", "PUT", "PATCH", "DELETE"], "/api/webhooks/github", postOnly)
  // public, so client generators and API tools can load it; it describes the API, it holds no data
  app.get("/api/openapi.json", (c) => {
    const doc = openApiDocument(deps.version)
    return c.json({
      ...doc,
      security: [{ bearer: [] }, { session: [] }],
      paths: { ...doc.paths, ...uiPaths },
      components: {
        ...doc.components,
        securitySchemes: { ...doc.components.securitySchemes, ...uiSecuritySchemes },
      },
    })
  })

  // Registered before the API: its handler answers first, so the bearer-token check never runs for it.
  registerWebhookRoutes(app, {
    ...(deps.webhooks ?? { handle: async () => ({ outcome: "ignored", reason: "webhooks are disabled" }) }),
    logger: deps.logger,
  })

  const sessions = deps.sessions ?? createSessions()
  registerSessionRoutes(app, { auth: deps.auth, sessions })

  const api = new Hono<AuthEnv>()
  api.use("*", authenticate({ auth: deps.auth, sessions }))
  api.use(
    "/workflow/*",
    bodyLimit({
      maxSize: 64 * 1024,
      onError: (c) =>
        c.json(
          { error: { code: "too_large", message: "request body is over 64 KiB: send only the job fields" } },
          413,
        ),
    }),
  )

  api.post("/workflow/:name", async (c) => {
    const type = ROUTES[c.req.param("name")]
    if (!type) {
      throw new PrwrightError(
        "not_found",
        `unknown workflow "${c.req.param("name")}": use one of ${Object.keys(ROUTES).join(", ")}`,
      )
    }
    if (!deps.workflows.includes(type)) {
      return c.json(
        {
          error: {
            code: "not_implemented",
            message: `${c.req.param("name")} is not available in this version yet; commentOnIssue is`,
          },
        },
        501,
      )
    }
    const actor = c.get("actor")
    const source = c.get("via") === "session" ? "ui" : "api"
    const result = await deps.requester.enqueue(type, await jsonBody(c), {
      source,
      ...(actor ? { actor } : {}),
    })
    metrics.countJob(type, result.created)
    return c.json({ ...acceptedBody(result), deprecations: result.deprecations }, 202)
  })

  api.get("/jobs", async (c) => {
    const q = c.req.query()
    const issues = []
    if (q.status && !(RUN_STATUSES as readonly string[]).includes(q.status))
      issues.push({ field: "status", message: `must be one of ${RUN_STATUSES.join(", ")}` })
    if (q.type && !(JOB_TYPES as readonly string[]).includes(q.type))
      issues.push({ field: "type", message: `must be one of ${JOB_TYPES.join(", ")}` })
    const limit = q.limit === undefined ? 50 : Number(q.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > 200)
      issues.push({ field: "limit", message: "must be an integer from 1 to 200" })
    if (issues.length > 0)
      throw new ValidationError(
        `invalid query: ${issues.map((i) => `${i.field} ${i.message}`).join("; ")}`,
        issues,
      )
    const page = await deps.store.listRuns({
      limit,
      // an empty query parameter means unset
      status: (q.status || undefined) as WorkflowRun["status"] | undefined,
      type: (q.type || undefined) as JobType | undefined,
      repoFullName: q.repo || undefined,
      cursor: q.cursor || undefined,
    })
    return c.json({
      jobs: page.runs.map((run) => toJobStatus(run)),
      nextCursor: page.nextCursor,
    })
  })

  // pollers of one run (UI tabs, `--wait`, scripts) share a read started after their request arrived
  const reads = batchedReads(deps.store)
  api.get("/jobs/:jobId", async (c) => {
    const run = await reads.getRun(c.req.param("jobId"))
    if (!run) throw new PrwrightError("not_found", `no job with id ${c.req.param("jobId")}`)
    // the place is a courtesy: a queue that does not answer must not fail the status read
    const place = run.status === "pending" ? await deps.runPlaces?.(run).catch(() => undefined) : undefined
    return c.json(toJobStatus(run, place))
  })

  api.delete("/jobs/:jobId", async (c) => {
    const run = await deps.cancelRun(c.req.param("jobId"))
    return c.json(toJobStatus(run), 202)
  })

  registerEventRoutes(api, { store: deps.store, bus: deps.bus })
  if (deps.repoSettings) registerRepoSettingsRoutes(api, deps.repoSettings)
  registerUiRoutes(api, {
    store: deps.store,
    requester: deps.requester,
    ...(deps.runPlaces ? { runPlaces: deps.runPlaces } : {}),
    ...deps.ui,
  })

  app.route("/api", api)
  return app
}
