import { z } from "zod"
import { ValidationError } from "#domain/errors.js"
import { isRepoFullName } from "#domain/repo-ref.js"
import { type JobType, PRIORITIES, type WorkflowRun } from "#domain/workflow-run.js"
import { type ConcurrencyLimit, type EnqueueRequest, type QueueWait, stableJson } from "./ports/job-queue.js"

/**
 * The seed note's job DTOs, minus `apiKey`: secrets never travel in jobs. Workers read keys from their
 * own configuration. Objects are strict, so a misspelt or secret-bearing field is refused by name.
 */

const repoFullName = z
  .string({ error: 'repoFullName is required, e.g. "octocat/hello-world"' })
  .refine(isRepoFullName, { message: 'must look like "owner/repo"' })
const issueNumber = z.number({ error: "issueNumber is required and must be a number" }).int().positive()
const jobId = z.uuid({ error: "jobId must be a UUID (omit it and one is made for you)" })
const priority = z.enum(PRIORITIES).default("normal")

export const CommentOnIssueJobDataSchema = z.strictObject({
  issueNumber,
  repoFullName,
  jobId,
  /** post the plan as a comment on the issue (the CLI's `plan` does too, unless --no-post) */
  postToGitHub: z.boolean().default(true),
  /** deprecated spelling, still accepted: requests are rewritten to postToGitHub, old queued jobs keep it */
  postToGithub: z.boolean().optional(),
  priority,
})

/** Whether a comment-on-issue job posts: the old spelling wins only in jobs queued before the rename. */
export const postsToGitHub = (data: CommentOnIssueJobData): boolean => data.postToGithub ?? data.postToGitHub

export const AutoResolveIssueJobDataSchema = z.strictObject({
  issueNumber,
  repoFullName,
  jobId,
  options: z
    .strictObject({
      createPR: z.boolean().default(true),
      postToGitHub: z.boolean().default(false),
      maxAttempts: z.number().int().min(1).max(5).default(3),
      priority,
    })
    .prefault({}),
})

export const ResolveIssueJobDataSchema = z.strictObject({
  issueNumber,
  repoFullName,
  jobId,
  planId: z.string().min(1).optional(),
  /** what to change, from `/prwright fix <…>` on prwright's pull request: work continues on its branch */
  instructions: z
    .string()
    .min(1, { error: "instructions must not be empty (omit the field instead)" })
    .max(10_000, { error: "instructions are limited to 10000 characters" })
    .optional(),
  /**
   * `/prwright continue [+$N]`: go on from a run that stopped on its own budget, on its branch, with a
   * summary of its conversation; `budgetUsd` is this run's cost cap instead of the default
   */
  continueFrom: z
    .strictObject({
      runId: z.uuid({ error: "continueFrom.runId must be the id of the run that stopped" }),
      budgetUsd: z
        .number()
        .positive({ error: "continueFrom.budgetUsd must be a positive number of US dollars" })
        .max(1_000, { error: "continueFrom.budgetUsd is limited to $1000" })
        .optional(),
    })
    .optional(),
  options: z
    .strictObject({
      createPR: z.boolean().default(true),
      maxAttempts: z.number().int().min(1).max(5).default(3),
      priority,
    })
    .prefault({}),
})

/** `/prwright ask <question>` on an issue or pull request: read-only, one answer comment. */
export const AnswerQuestionJobDataSchema = z.strictObject({
  issueNumber,
  repoFullName,
  jobId,
  question: z
    .string()
    .trim()
    .min(1, { error: "question must not be empty" })
    .max(4_000, { error: "questions are limited to 4000 characters" }),
  priority,
})

export type CommentOnIssueJobData = z.infer<typeof CommentOnIssueJobDataSchema>
export type AutoResolveIssueJobData = z.infer<typeof AutoResolveIssueJobDataSchema>
export type ResolveIssueJobData = z.infer<typeof ResolveIssueJobDataSchema>
export type AnswerQuestionJobData = z.infer<typeof AnswerQuestionJobDataSchema>

export interface JobDataByType {
  "comment-on-issue": CommentOnIssueJobData
  "auto-resolve-issue": AutoResolveIssueJobData
  "resolve-issue": ResolveIssueJobData
  "answer-question": AnswerQuestionJobData
}
export type JobData = JobDataByType[JobType]

export const JOB_DATA_SCHEMAS = {
  "comment-on-issue": CommentOnIssueJobDataSchema,
  "auto-resolve-issue": AutoResolveIssueJobDataSchema,
  "resolve-issue": ResolveIssueJobDataSchema,
  "answer-question": AnswerQuestionJobDataSchema,
} as const satisfies Record<JobType, z.ZodType>

/**
 * A payload parsed against its type's DTO: in the worker (a stored job may predate an upgrade) and
 * before a stored run is queued again. Failures are a ValidationError naming each field.
 */
export const parseJobData = <T extends JobType>(type: T, value: unknown): JobDataByType[T] =>
  parseWith(JOB_DATA_SCHEMAS[type], value, `${type} job data`) as JobDataByType[T]

/** The key under which at most one run is active: one repository issue. */
export const concurrencyKeyOf = (run: { repoFullName: string; issueNumber: number }): string =>
  `${run.repoFullName}#${run.issueNumber}`

/**
 * How many runs may be active at once per repository and per installation (0: no limit). An
 * installation is the account (user or organization) that owns the repositories, where a GitHub App
 * is installed; with a token the same grouping applies.
 */
export interface RunLimits {
  perRepository: number
  perInstallation: number
}

export const DEFAULT_RUN_LIMITS: RunLimits = { perRepository: 4, perInstallation: 10 }

const REPO_KEY = "repo:"
const INSTALLATION_KEY = "installation:"

/** The queue's counted slots for a run: its repository's, then its installation's. */
export const limitsOf = (run: { repoFullName: string }, limits: RunLimits): ConcurrencyLimit[] => {
  const owner = run.repoFullName.split("/")[0] ?? run.repoFullName
  return [
    ...(limits.perRepository > 0
      ? [{ key: `${REPO_KEY}${run.repoFullName}`, max: limits.perRepository }]
      : []),
    ...(limits.perInstallation > 0
      ? [{ key: `${INSTALLATION_KEY}${owner}`, max: limits.perInstallation }]
      : []),
  ]
}

/** What a waiting run waits for, as the API and the issue comment name it. */
export type WaitReason = "issue-active" | "repository-limit" | "installation-limit" | "workers-busy"

export const waitReasonOf = (wait: QueueWait): { reason: WaitReason; limit?: number } => {
  if (wait.kind === "key") return { reason: "issue-active" }
  if (wait.kind === "workers") return { reason: "workers-busy" }
  return {
    reason: wait.key.startsWith(INSTALLATION_KEY) ? "installation-limit" : "repository-limit",
    limit: wait.max,
  }
}

/**
 * The queue request for a run and its parsed job data: one run = one job (the run id is the job id),
 * one active run per issue (a second request waits for the first instead of racing it), and at most
 * `limits` active runs per repository and installation (more wait in line). The queue carries the
 * data as an opaque payload, so this is where it is checked to belong to the run.
 */
export const enqueueRequestOf = (run: WorkflowRun, data: JobData, limits?: RunLimits): EnqueueRequest => {
  if (data.jobId !== run.id) {
    const message = `must equal the job id ${run.id}`
    throw new ValidationError(`invalid job: data.jobId: ${message}`, [{ field: "data.jobId", message }])
  }
  return {
    type: run.type,
    jobId: run.id,
    data,
    priority: run.priority,
    attempts: run.maxAttempts,
    concurrencyKey: concurrencyKeyOf(run),
    ...(limits && limitsOf(run, limits).length > 0 ? { limits: limitsOf(run, limits) } : {}),
  }
}

const requestSchemaOf = (type: JobType) => JOB_DATA_SCHEMAS[type].extend({ jobId: jobId.optional() })
const requestSchemas = new Map<JobType, ReturnType<typeof requestSchemaOf>>()

/**
 * The HTTP/CLI request shape: the job DTO with `jobId` optional. Built once per type: a schema built
 * per request made zod compile its parser each time (0.35 ms against 0.02 ms a parse, measured).
 */
export const requestSchemaFor = (type: JobType) => {
  let schema = requestSchemas.get(type)
  if (!schema) {
    schema = requestSchemaOf(type)
    requestSchemas.set(type, schema)
  }
  return schema
}

export const ArtifactsSchema = z.object({
  planCommentId: z.number().int().optional(),
  planCommentUrl: z.url().optional(),
  pullRequestUrl: z.url().optional(),
  pullRequestNumber: z.number().int().optional(),
  branchName: z.string().optional(),
  commitHash: z.string().optional(),
  filesChanged: z.number().int().min(0).optional(),
  failureCommentId: z.number().int().optional(),
  failureCommentUrl: z.url().optional(),
  pullRequestDraft: z.boolean().optional(),
  queuedCommentId: z.number().int().optional(),
})

/** What a worker returns for a job (the seed's JobResult). */
export const JobResultSchema = z.object({
  success: z.boolean(),
  jobId: z.string(),
  issueNumber: z.number().int().positive(),
  repoFullName: z.string(),
  artifacts: ArtifactsSchema.optional(),
  summary: z.string().optional(),
  error: z.string().optional(),
  executionTime: z.number().min(0),
  metadata: z.record(z.string(), z.unknown()).optional(),
})
export type JobResult = z.infer<typeof JobResultSchema>

/** The seed's JobResult of a run as it stands. */
export const jobResultOf = (run: WorkflowRun, success = run.status === "completed"): JobResult => ({
  success,
  jobId: run.id,
  issueNumber: run.issueNumber,
  repoFullName: run.repoFullName,
  artifacts: run.artifacts,
  summary: run.summary,
  error: run.error,
  executionTime:
    run.startedAt && run.finishedAt ? Math.max(0, run.finishedAt.getTime() - run.startedAt.getTime()) : 0,
})
/** The field names an object schema at `path` knows (through defaults and optionals). */
const knownKeysAt = (schema: z.ZodType, path: PropertyKey[]): string[] => {
  type Node = { shape?: Record<string, unknown>; unwrap?: () => unknown } | undefined
  const unwrap = (node: Node): Node => {
    let current = node
    for (let i = 0; i < 5 && current && !current.shape && typeof current.unwrap === "function"; i++)
      current = current.unwrap() as Node
    return current
  }
  let node = unwrap(schema as unknown as Node)
  for (const key of path) node = unwrap(node?.shape?.[String(key)] as Node)
  return Object.keys(node?.shape ?? {})
}

const distance = (a: string, b: string): number => {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  let previous = Array.from({ length: y.length + 1 }, (_, i) => i)
  for (let i = 1; i <= x.length; i++) {
    const row = [i]
    for (let j = 1; j <= y.length; j++)
      row[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (x[i - 1] === y[j - 1] ? 0 : 1),
      )
    previous = row
  }
  return previous[y.length] ?? 0
}

/** The known name closest to a misspelt one, when it is close enough to be a typo. */
export const closestName = (name: string, known: readonly string[]): string | undefined => {
  let best: { name: string; d: number } | undefined
  for (const candidate of known) {
    const d = distance(name, candidate)
    if (!best || d < best.d) best = { name: candidate, d }
  }
  return best && best.d <= Math.max(2, Math.floor(name.length / 3)) ? best.name : undefined
}

/** Parses with a Zod schema; failures become a ValidationError naming each field. */
export const parseWith = <S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> => {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const issues = parsed.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join(".") : "(body)"
    const unknownField = (key: string) => {
      const near = closestName(key, knownKeysAt(schema, issue.path))
      return near ? `${JSON.stringify(key)} (did you mean ${JSON.stringify(near)}?)` : JSON.stringify(key)
    }
    const message =
      issue.code === "unrecognized_keys"
        ? `unknown field(s) ${issue.keys.map(unknownField).join(", ")}: remove them${
            issue.keys.some((k) => /key|token|secret|password/i.test(k))
              ? " (secrets are configured on the server, never sent with a job)"
              : ""
          }`
        : issue.message
    return { field: issue.code === "unrecognized_keys" ? issue.keys.join(",") : field, message }
  })
  const summary = issues.map((i) => `${i.field}: ${i.message}`).join("; ")
  throw new ValidationError(`invalid ${what}: ${summary}`, issues)
}

/** JSON with object keys sorted, so two equal DTOs compare equal whatever their key order. */
/** Top-level fields whose values differ between two job DTOs (names only: values may be private). */
export const differingFields = (a: Record<string, unknown>, b: Record<string, unknown>): string[] =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((key) => stableJson(a[key]) !== stableJson(b[key]))
    .sort()
