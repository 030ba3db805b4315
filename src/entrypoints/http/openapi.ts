import { z } from "zod"
import { requestSchemaFor } from "#application/job-data.js"
import { RepoSettingsSchema } from "#application/repo-settings.js"
import { JOB_TYPES, PRIORITIES, RUN_STATUSES } from "#domain/workflow-run.js"

/**
 * The OpenAPI 3.1 document of the HTTP API. Request bodies come from the same Zod schemas the API
 * validates with, so the document cannot drift from what the server accepts.
 */
const body = (schema: z.ZodType) => ({
  required: true,
  content: {
    "application/json": { schema: z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) },
  },
})

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (description: string, schema: unknown) => ({
  description,
  content: { "application/json": { schema } },
})
const errors = {
  "400": json("invalid input: which field, and why", ref("Error")),
  "401": json("missing or invalid bearer token", ref("Error")),
  "404": json("unknown job", ref("Error")),
}
const accepted = { "202": json("queued (or the existing job for a repeated jobId)", ref("Accepted")) }
const jobIdParam = { name: "jobId", in: "path", required: true, schema: { type: "string" } }

export const openApiDocument = (version: string) => ({
  openapi: "3.1.0",
  info: {
    title: "prwright",
    version,
    description: "Turns GitHub issues into implementation plans and pull requests with an LLM coding agent.",
  },
  security: [{ bearer: [] }],
  paths: {
    "/api/repos/{owner}/{name}/settings": {
      parameters: [
        { name: "owner", in: "path", required: true, schema: { type: "string" } },
        { name: "name", in: "path", required: true, schema: { type: "string" } },
      ],
      get: {
        summary: "A repository's settings ({} until some are saved)",
        responses: { "200": json("the settings", ref("RepoSettings")), ...errors },
      },
      put: {
        summary: "Replace a repository's settings (limits may lower the operator's, never raise them)",
        requestBody: body(RepoSettingsSchema),
        responses: { "200": json("the saved settings", ref("RepoSettings")), ...errors },
      },
    },
    "/api/workflow/commentOnIssue": {
      post: {
        summary:
          "Plan an issue; the plan is posted as one comment unless postToGitHub is false (postToGithub: deprecated spelling)",
        requestBody: body(requestSchemaFor("comment-on-issue")),
        responses: { ...accepted, ...errors, "409": json("jobId already used for other data", ref("Error")) },
      },
    },
    "/api/workflow/autoResolveIssue": {
      post: {
        summary: "Plan, implement, verify and open a pull request in one run",
        requestBody: body(requestSchemaFor("auto-resolve-issue")),
        responses: { ...accepted, ...errors, "409": json("jobId already used for other data", ref("Error")) },
      },
    },
    "/api/workflow/resolveIssue": {
      post: {
        summary: "Implement an issue (from planId, else its latest plan) and open a pull request",
        requestBody: body(requestSchemaFor("resolve-issue")),
        responses: { ...accepted, ...errors, "409": json("jobId already used for other data", ref("Error")) },
      },
    },
    "/api/jobs": {
      get: {
        summary: "List jobs, newest first",
        parameters: [
          { name: "status", in: "query", schema: { type: "string", enum: [...RUN_STATUSES] } },
          { name: "type", in: "query", schema: { type: "string", enum: [...JOB_TYPES] } },
          { name: "repo", in: "query", schema: { type: "string" } },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 200, default: 50 } },
          { name: "cursor", in: "query", schema: { type: "string" } },
        ],
        responses: {
          "200": json("a page of jobs", {
            type: "object",
            properties: { jobs: { type: "array", items: ref("JobStatus") }, nextCursor: { type: "string" } },
            required: ["jobs"],
          }),
          ...errors,
        },
      },
    },
    "/api/jobs/{jobId}": {
      parameters: [jobIdParam],
      get: { summary: "A job's status", responses: { "200": json("the job", ref("JobStatus")), ...errors } },
      delete: {
        summary: "Cancel a queued or running job",
        responses: {
          "202": json("cancel requested", ref("JobStatus")),
          ...errors,
          "409": json("already finished", ref("Error")),
        },
      },
    },
    "/api/jobs/{jobId}/events": {
      parameters: [jobIdParam],
      get: {
        summary: "The run's events: live text/event-stream (resumable with Last-Event-ID), or a JSON array",
        parameters: [
          { name: "Last-Event-ID", in: "header", schema: { type: "integer", minimum: 0 } },
          { name: "after", in: "query", schema: { type: "integer", minimum: 0 } },
        ],
        responses: {
          "200": {
            description: "events in order; `id` is the event's seq",
            content: {
              "text/event-stream": { schema: { type: "string" } },
              "application/json": { schema: { type: "array", items: ref("RunEvent") } },
            },
          },
          ...errors,
        },
      },
    },
    "/api/webhooks/github": {
      post: {
        security: [],
        summary:
          "GitHub webhooks (X-Hub-Signature-256 with GITHUB_WEBHOOK_SECRET): prwright:plan / prwright:resolve labels and /prwright comments from users with write access",
        parameters: [
          { name: "X-GitHub-Event", in: "header", required: true, schema: { type: "string" } },
          { name: "X-GitHub-Delivery", in: "header", required: true, schema: { type: "string" } },
          { name: "X-Hub-Signature-256", in: "header", required: true, schema: { type: "string" } },
        ],
        responses: {
          "202": { description: "a run was started" },
          "200": {
            description: "nothing started, and why (ignored, duplicate, not authorised, already active)",
          },
          "401": { description: "missing or invalid signature" },
          "413": { description: "payload over 1 MiB" },
          "503": { description: "GITHUB_WEBHOOK_SECRET is not set" },
        },
      },
    },
    "/healthz": {
      get: { security: [], summary: "Liveness", responses: { "200": { description: "alive" } } },
    },
    "/readyz": {
      get: {
        security: [],
        summary: "Readiness of each dependency",
        responses: { "200": { description: "ready" }, "503": { description: "a dependency is down" } },
      },
    },
    "/metrics": {
      get: {
        security: [],
        summary: "Prometheus text exposition",
        responses: {
          "200": { description: "metrics", content: { "text/plain": { schema: { type: "string" } } } },
        },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "PRWRIGHT_API_TOKEN" } },
    schemas: {
      Error: {
        type: "object",
        required: ["error"],
        properties: {
          error: {
            type: "object",
            required: ["code", "message"],
            properties: { code: { type: "string" }, message: { type: "string" }, details: {} },
          },
        },
      },
      RepoSettings: {
        type: "object",
        required: ["repoFullName", "settings"],
        properties: {
          repoFullName: { type: "string", description: "lower-cased owner/name" },
          settings: z.toJSONSchema(RepoSettingsSchema, { io: "output", unrepresentable: "any" }),
          updatedAt: { type: "string", format: "date-time" },
        },
      },
      Accepted: {
        type: "object",
        required: ["jobId", "status", "statusUrl", "eventsUrl"],
        properties: {
          jobId: { type: "string" },
          status: { type: "string", enum: [...RUN_STATUSES] },
          statusUrl: { type: "string" },
          eventsUrl: { type: "string" },
          created: {
            type: "boolean",
            description: "false when this jobId already existed with the same data",
          },
        },
      },
      JobStatus: {
        type: "object",
        required: [
          "jobId",
          "type",
          "status",
          "progress",
          "attempts",
          "repoFullName",
          "issueNumber",
          "usage",
          "createdAt",
          "updatedAt",
        ],
        properties: {
          jobId: { type: "string" },
          type: { type: "string", enum: [...JOB_TYPES] },
          status: { type: "string", enum: [...RUN_STATUSES] },
          progress: { type: "number", minimum: 0, maximum: 100 },
          progressMessage: { type: "string" },
          attempts: { type: "integer" },
          maxAttempts: { type: "integer" },
          repoFullName: { type: "string" },
          issueNumber: { type: "integer" },
          priority: { type: "string", enum: [...PRIORITIES] },
          trigger: { type: "object" },
          usage: {
            type: "object",
            required: ["inputTokens", "outputTokens", "costUsd"],
            properties: {
              inputTokens: { type: "integer" },
              outputTokens: { type: "integer" },
              costUsd: { type: "number" },
              unpricedModel: {
                type: "string",
                description:
                  "a model without a price took part: the cost is unknown (set PRWRIGHT_MODEL_PRICES)",
              },
            },
          },
          result: { type: "object", description: "the seed's JobResult, once finished" },
          error: { type: "string" },
          createdAt: { type: "string", format: "date-time" },
          updatedAt: { type: "string", format: "date-time" },
          startedAt: { type: "string", format: "date-time" },
          finishedAt: { type: "string", format: "date-time" },
          queue: {
            type: "object",
            description:
              "GET /api/jobs/:jobId of a waiting (pending) run: its place in line, what it waits for and an estimated start",
            required: ["place", "waitingFor", "estimatedStart", "estimate"],
            properties: {
              place: { type: "integer", minimum: 1, description: "1 = the next to start" },
              waitingFor: {
                type: "string",
                enum: ["issue-active", "repository-limit", "installation-limit", "workers-busy"],
              },
              limit: {
                type: "integer",
                description: "the run limit that holds it (repository or installation)",
              },
              estimatedStart: {
                type: "string",
                description: 'ISO 8601 date-time, or "unknown" when no run has finished yet to estimate from',
              },
              estimate: { type: "string", description: "the estimate in words, with its basis" },
            },
          },
        },
      },
      RunEvent: {
        type: "object",
        required: ["runId", "seq", "type", "at"],
        properties: {
          runId: { type: "string" },
          seq: { type: "integer" },
          type: { type: "string" },
          at: { type: "string" },
        },
      },
    },
  },
})
