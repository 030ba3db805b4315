/**
 * The shapes of the routes the web UI uses, as Zod schemas. They are the one source of truth: the
 * server validates requests with them, the OpenAPI document is generated from them, and the UI's
 * typed client takes its types from them (`z.infer`, type-only imports, so nothing of Zod reaches
 * the browser bundle).
 */
import { z } from "zod"
import { JOB_TYPES, PRIORITIES, RUN_STATUSES } from "#domain/workflow-run.js"

export const CSRF_HEADER = "x-prwright-csrf"
export const SESSION_COOKIE = "prwright_session"

export const SessionRequestSchema = z.strictObject({
  token: z.string({ error: "token is required: paste PRWRIGHT_API_TOKEN" }).min(1, {
    error: "token must not be empty: paste PRWRIGHT_API_TOKEN (or the token printed at first start)",
  }),
})
export const SessionSchema = z.object({
  signedIn: z.boolean(),
  actor: z.string().optional(),
  expiresAt: z.string().optional(),
  csrfHeader: z.string(),
})

const UsageSchema = z.object({
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
  unpricedModel: z
    .string()
    .optional()
    .describe("a model without a price took part: the cost is unknown (set PRWRIGHT_MODEL_PRICES)"),
})
const ArtifactsSchema = z.object({
  planCommentUrl: z.string().optional(),
  pullRequestUrl: z.string().optional(),
  pullRequestNumber: z.number().optional(),
  pullRequestDraft: z.boolean().optional(),
  branchName: z.string().optional(),
  commitHash: z.string().optional(),
  filesChanged: z.number().optional(),
  failureCommentUrl: z.string().optional(),
})

/** A waiting run's place in line: GET /api/jobs/:id's `queue`, plus the line people read. */
export const QueuePlaceSchema = z.object({
  /** 1 = the next to start once what it waits for frees up */
  place: z.number(),
  waitingFor: z.enum(["issue-active", "repository-limit", "installation-limit", "workers-busy"]),
  /** the limit that holds it (repository-limit / installation-limit) */
  limit: z.number().optional(),
  /** ISO 8601, or "unknown" when no run has finished yet */
  estimatedStart: z.string(),
  /** the estimate in words, with its basis */
  estimate: z.string(),
  /** `place 2 in line, waiting for …; estimated start: …` (the issue comment's wording) */
  description: z.string(),
})

export const RunSummarySchema = z.object({
  jobId: z.string(),
  type: z.enum(JOB_TYPES),
  status: z.enum(RUN_STATUSES),
  progress: z.number(),
  progressMessage: z.string().optional(),
  attempts: z.number(),
  maxAttempts: z.number(),
  repoFullName: z.string(),
  issueNumber: z.number(),
  issueUrl: z.string().optional(),
  branchUrl: z.string().optional(),
  priority: z.enum(PRIORITIES),
  trigger: z.object({
    source: z.enum(["api", "cli", "webhook", "ui"]),
    actor: z.string().optional(),
    deliveryId: z.string().optional(),
    waitUntil: z.string().optional(),
  }),
  usage: UsageSchema,
  artifacts: ArtifactsSchema,
  /** tool calls so far */
  steps: z.number(),
  /** a pending run's place: the queue's own (as `queue.place`), else among the waiting runs of its job type */
  queuePosition: z.number().optional(),
  /** a pending run the queue holds: its place in line, what it waits for and an estimated start */
  queue: QueuePlaceSchema.optional(),
  /** the plan version this run wrote (planning) or implements (resolveIssue with a planId) */
  planId: z.string().optional(),
  error: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  durationMs: z.number().optional(),
})

export const RunListQuerySchema = z.strictObject({
  status: z.enum(RUN_STATUSES).optional(),
  type: z.enum(JOB_TYPES).optional(),
  repo: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().optional(),
})

export const RunListSchema = z.object({
  runs: z.array(RunSummarySchema),
  nextCursor: z.string().optional(),
})

export const RunDetailSchema = z.object({
  run: RunSummarySchema,
  input: z.record(z.string(), z.unknown()),
  summary: z.string().optional(),
  budget: z.object({ maxCostUsd: z.number().optional(), maxSteps: z.number().optional() }),
})

export const EventPageQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
})

export const RunEventSchema = z
  .object({ runId: z.string(), seq: z.number(), type: z.string(), at: z.string() })
  .catchall(z.unknown())

export const EventPageSchema = z.object({
  events: z.array(RunEventSchema),
  /** pass as ?after= for the next page; absent on the last page */
  nextAfter: z.number().optional(),
  /** the seq of the last event returned (or the `after` asked for) */
  lastSeq: z.number(),
})

export const PlanSchema = z.object({
  id: z.string(),
  repoFullName: z.string(),
  issueNumber: z.number(),
  version: z.number(),
  status: z.enum(["draft", "approved", "superseded"]),
  body: z.string(),
  runId: z.string().optional(),
  commentUrl: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
})

export const ApproveRequestSchema = z.strictObject({
  version: z
    .number({ error: "version is required: the plan version you read (approving names it exactly)" })
    .int()
    .positive(),
})

export const AcceptedSchema = z.object({
  jobId: z.string(),
  status: z.enum(RUN_STATUSES),
  statusUrl: z.string(),
  eventsUrl: z.string(),
  created: z.boolean().optional(),
})

export const ApprovedSchema = AcceptedSchema.extend({ plan: PlanSchema })

export const OverviewQuerySchema = z.strictObject({
  days: z.coerce.number().int().min(1).max(365).default(30),
})

export const OverviewSchema = z.object({
  from: z.string(),
  to: z.string(),
  days: z.array(
    z.object({
      date: z.string(),
      completed: z.number(),
      failed: z.number(),
      cancelled: z.number(),
      active: z.number(),
      costUsd: z.number(),
      /** median minutes from trigger to pull request of the runs that opened one that day */
      medianMinutesToPr: z.number().nullable(),
    }),
  ),
  totals: z.object({ runs: z.number(), costUsd: z.number(), medianMinutesToPr: z.number().nullable() }),
  repositories: z.array(
    z.object({
      repoFullName: z.string(),
      finished: z.number(),
      completed: z.number(),
      successRate: z.number(),
    }),
  ),
  /** true when the range held more runs than were read */
  truncated: z.boolean(),
})

export const SetupSchema = z.object({
  webhookUrl: z.string(),
  webhookSecretSet: z.boolean(),
  checks: z.array(z.object({ name: z.string(), ok: z.enum(["ok", "warn", "fail"]), detail: z.string() })),
})

export type SessionInfo = z.infer<typeof SessionSchema>
export type RunSummary = z.infer<typeof RunSummarySchema>
export type QueuePlace = z.infer<typeof QueuePlaceSchema>
export type RunList = z.infer<typeof RunListSchema>
export type RunDetail = z.infer<typeof RunDetailSchema>
export type EventPage = z.infer<typeof EventPageSchema>
export type Plan = z.infer<typeof PlanSchema>
export type Accepted = z.infer<typeof AcceptedSchema>
export type Approved = z.infer<typeof ApprovedSchema>
export type Overview = z.infer<typeof OverviewSchema>
export type Setup = z.infer<typeof SetupSchema>
export type SetupCheck = Setup["checks"][number]
