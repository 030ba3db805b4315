/** The OpenAPI paths of the session and UI routes, generated from the Zod schemas in ui-schemas.ts. */
import { z } from "zod"
import {
  AcceptedSchema,
  ApprovedSchema,
  ApproveRequestSchema,
  CSRF_HEADER,
  EventPageSchema,
  OverviewSchema,
  PlanSchema,
  RunDetailSchema,
  RunListSchema,
  SESSION_COOKIE,
  SessionRequestSchema,
  SessionSchema,
  SetupSchema,
} from "./ui-schemas.js"

const schema = (s: z.ZodType, io: "input" | "output") => z.toJSONSchema(s, { io, unrepresentable: "any" })
const json = (description: string, s: z.ZodType) => ({
  description,
  content: { "application/json": { schema: schema(s, "output") } },
})
const body = (s: z.ZodType) => ({
  required: true,
  content: { "application/json": { schema: schema(s, "input") } },
})
const error = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
})
const errors = {
  "400": error("invalid input: which field, and why"),
  "401": error("no valid bearer token or session"),
  "404": error("unknown run or plan"),
}
const mutating = {
  ...errors,
  "403": error(`session-authenticated request without the ${CSRF_HEADER} header`),
}
const jobIdParam = { name: "jobId", in: "path", required: true, schema: { type: "string" } }
const planIdParam = { name: "planId", in: "path", required: true, schema: { type: "string" } }
const query = (name: string, s: Record<string, unknown>) => ({ name, in: "query", schema: s })

/** the `security` of every API route: a bearer token, or the UI's session cookie */
export const uiSecuritySchemes = {
  session: {
    type: "apiKey",
    in: "cookie",
    name: SESSION_COOKIE,
    description: `from POST /api/session; requests that change something also need the ${CSRF_HEADER} header`,
  },
}

export const uiPaths = {
  "/api/session": {
    post: {
      security: [],
      summary: "Sign in with the API token: sets an HttpOnly, SameSite=Strict session cookie",
      requestBody: body(SessionRequestSchema),
      responses: {
        "200": json("signed in", SessionSchema),
        "400": error("token missing"),
        "401": error("token not valid"),
      },
    },
    get: {
      security: [],
      summary: "Whether this browser is signed in",
      responses: { "200": json("the session", SessionSchema) },
    },
    delete: {
      security: [{ session: [] }],
      summary: `Sign out (needs the ${CSRF_HEADER} header)`,
      responses: { "200": json("signed out", SessionSchema), ...mutating },
    },
  },
  "/api/runs": {
    get: {
      summary: "Runs for the UI's table, newest first: links, steps, cost, queue position",
      parameters: [
        query("status", { type: "string" }),
        query("type", { type: "string" }),
        query("repo", { type: "string" }),
        query("limit", { type: "integer", minimum: 1, maximum: 100, default: 25 }),
        query("cursor", { type: "string" }),
      ],
      responses: { "200": json("a page of runs", RunListSchema), ...errors },
    },
  },
  "/api/runs/{jobId}": {
    parameters: [jobIdParam],
    get: {
      summary: "One run with its request and budget",
      responses: { "200": json("the run", RunDetailSchema), ...errors },
    },
  },
  "/api/runs/{jobId}/events": {
    parameters: [jobIdParam],
    get: {
      summary: "A run's stored events as JSON pages (live: GET /api/jobs/{jobId}/events)",
      parameters: [
        query("after", { type: "integer", minimum: 0, default: 0 }),
        query("limit", { type: "integer", minimum: 1, maximum: 1000, default: 200 }),
      ],
      responses: { "200": json("a page of events", EventPageSchema), ...errors },
    },
  },
  "/api/runs/{jobId}/retry": {
    parameters: [jobIdParam],
    post: {
      summary: "Start a new run with the request of a failed or cancelled one",
      responses: {
        "202": json("the new run", AcceptedSchema),
        ...mutating,
        "409": error("the run has not failed or been cancelled"),
      },
    },
  },
  "/api/plans/{planId}": {
    parameters: [planIdParam],
    get: {
      summary: "One plan version (its id is the planning run's job id)",
      responses: { "200": json("the plan", PlanSchema), ...errors },
    },
  },
  "/api/plans/{planId}/approve": {
    parameters: [planIdParam],
    post: {
      summary:
        "Approve exactly this plan version and start its implementation (the path /prwright approve takes)",
      requestBody: body(ApproveRequestSchema),
      responses: {
        "202": json("approved; the implementing run", ApprovedSchema),
        ...mutating,
        "409": error("the version differs or a newer plan superseded it"),
      },
    },
  },
  "/api/overview": {
    get: {
      summary: "Runs per day by outcome, cost per day, time to PR, success per repository",
      parameters: [query("days", { type: "integer", minimum: 1, maximum: 365, default: 30 })],
      responses: { "200": json("the figures", OverviewSchema), ...errors },
    },
  },
  "/api/openapi.json": {
    get: {
      summary: "This document (the web UI reads request schemas from it)",
      responses: { "200": { description: "the OpenAPI 3.1 document" } },
    },
  },
  "/api/setup": {
    get: {
      summary: "The prwright doctor checks with their fixes, and the webhook URL for GitHub",
      responses: { "200": json("the set-up", SetupSchema), ...errors },
    },
  },
}
