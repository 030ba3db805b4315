/**
 * The UI's typed API client. Shapes are the server's own Zod schemas (type-only imports from
 * src/entrypoints/http/ui-schemas.ts, so no second definition); every route the client calls is
 * listed in API_ROUTES, which test/http/ui-api.test.ts checks against GET /api/openapi.json.
 */
import type {
  Accepted,
  Approved,
  EventPage,
  Overview,
  Plan,
  RunDetail,
  RunList,
  SessionInfo,
  Setup,
} from "../../src/entrypoints/http/ui-schemas.ts"

export type {
  Accepted,
  Approved,
  EventPage,
  Overview,
  Plan,
  RunDetail,
  RunList,
  RunSummary,
  SessionInfo,
  Setup,
  SetupCheck,
} from "../../src/entrypoints/http/ui-schemas.ts"

/** must equal CSRF_HEADER on the server (checked by test/http/ui-api.test.ts) */
export const CSRF_HEADER = "x-prwright-csrf"

/** method + OpenAPI path of every call below */
export const API_ROUTES = {
  signIn: ["post", "/api/session"],
  session: ["get", "/api/session"],
  signOut: ["delete", "/api/session"],
  runs: ["get", "/api/runs"],
  run: ["get", "/api/runs/{jobId}"],
  events: ["get", "/api/runs/{jobId}/events"],
  liveEvents: ["get", "/api/jobs/{jobId}/events"],
  retry: ["post", "/api/runs/{jobId}/retry"],
  cancel: ["delete", "/api/jobs/{jobId}"],
  plan: ["get", "/api/plans/{planId}"],
  approve: ["post", "/api/plans/{planId}/approve"],
  overview: ["get", "/api/overview"],
  setup: ["get", "/api/setup"],
  openapi: ["get", "/api/openapi.json"],
  startAutoResolve: ["post", "/api/workflow/autoResolveIssue"],
  startComment: ["post", "/api/workflow/commentOnIssue"],
  startResolve: ["post", "/api/workflow/resolveIssue"],
} as const

export type WorkflowRoute = "autoResolveIssue" | "commentOnIssue" | "resolveIssue"

export interface FieldIssue {
  field: string
  message: string
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message)
    this.name = "ApiError"
  }
}

let onUnauthorized: () => void = () => {}
export const setUnauthorizedHandler = (handler: () => void) => {
  onUnauthorized = handler
}

const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const headers: Record<string, string> = { accept: "application/json" }
  if (method !== "GET") headers[CSRF_HEADER] = "1"
  if (body !== undefined) headers["content-type"] = "application/json"
  let response: Response
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  } catch {
    throw new ApiError("cannot reach the prwright server: is it running?", 0, "unreachable")
  }
  if (!response.ok) {
    const answer = (await response.json().catch(() => ({}))) as {
      error?: { code?: string; message?: string; details?: { issues?: FieldIssue[] } }
    }
    if (response.status === 401 && path !== "/api/session") onUnauthorized()
    throw new ApiError(
      answer.error?.message ?? `${response.status} ${response.statusText}`,
      response.status,
      answer.error?.code ?? "error",
      answer.error?.details?.issues ?? [],
    )
  }
  return (await response.json()) as T
}

const id = encodeURIComponent
const query = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== "") search.set(key, String(value))
  const text = search.toString()
  return text ? `?${text}` : ""
}

export const api = {
  signIn: (token: string) => call<SessionInfo>("POST", "/api/session", { token }),
  session: () => call<SessionInfo>("GET", "/api/session"),
  signOut: () => call<SessionInfo>("DELETE", "/api/session"),
  runs: (filter: { status?: string; type?: string; repo?: string; cursor?: string; limit?: number }) =>
    call<RunList>("GET", `/api/runs${query(filter)}`),
  run: (jobId: string) => call<RunDetail>("GET", `/api/runs/${id(jobId)}`),
  events: (jobId: string, after: number, limit = 500) =>
    call<EventPage>("GET", `/api/runs/${id(jobId)}/events${query({ after, limit })}`),
  liveEventsUrl: (jobId: string, after: number) => `/api/jobs/${id(jobId)}/events?after=${after}`,
  retry: (jobId: string) => call<Accepted>("POST", `/api/runs/${id(jobId)}/retry`),
  cancel: (jobId: string) => call<unknown>("DELETE", `/api/jobs/${id(jobId)}`),
  plan: (planId: string) => call<Plan>("GET", `/api/plans/${id(planId)}`),
  approve: (planId: string, version: number) =>
    call<Approved>("POST", `/api/plans/${id(planId)}/approve`, { version }),
  overview: (days: number) => call<Overview>("GET", `/api/overview${query({ days })}`),
  setup: () => call<Setup>("GET", "/api/setup"),
  openapi: () => call<OpenApiDocument>("GET", "/api/openapi.json"),
  start: (route: WorkflowRoute, body: Record<string, unknown>) =>
    call<Accepted>("POST", `/api/workflow/${route}`, body),
}

export interface JsonSchema {
  type?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  minimum?: number
  maximum?: number
  enum?: unknown[]
  default?: unknown
  description?: string
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>
}
