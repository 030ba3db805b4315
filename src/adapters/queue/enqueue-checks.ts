import { JOB_DATA_SCHEMAS } from "#application/job-data.js"
import type { EnqueueRequest } from "#application/ports/job-queue.js"
import { ConflictError, ValidationError } from "#domain/errors.js"
import { JOB_TYPES, PRIORITIES } from "#domain/workflow-run.js"

type Issue = { field: string; message: string }

/**
 * The checks both adapters run before touching storage, so they refuse the same requests the same way
 * and nothing is stored for a refused one. The job data is checked against its DTO schema here too: a
 * worker must never be the first to find out that a job cannot run.
 */
export const checkEnqueueRequest = (request: EnqueueRequest): void => {
  const issues: Issue[] = []
  if (typeof request.jobId !== "string" || request.jobId.trim() === "")
    issues.push({ field: "jobId", message: "must be a non-empty string (the run id)" })
  const knownType = (JOB_TYPES as readonly string[]).includes(request.type)
  if (!knownType) issues.push({ field: "type", message: `must be one of ${JOB_TYPES.join(", ")}` })
  if (!(PRIORITIES as readonly string[]).includes(request.priority))
    issues.push({ field: "priority", message: `must be one of ${PRIORITIES.join(", ")}` })
  if (!Number.isInteger(request.attempts) || request.attempts < 1 || request.attempts > 25)
    issues.push({ field: "attempts", message: "must be a whole number from 1 to 25" })
  if (
    request.concurrencyKey !== undefined &&
    (typeof request.concurrencyKey !== "string" ||
      request.concurrencyKey.length === 0 ||
      request.concurrencyKey.length > 200)
  )
    issues.push({ field: "concurrencyKey", message: "must be a string of 1 to 200 characters when set" })
  if (knownType) issues.push(...dataIssues(request))
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid job: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join("; ")}`,
      issues,
    )
  }
}

const dataIssues = (request: EnqueueRequest): Issue[] => {
  const parsed = JOB_DATA_SCHEMAS[request.type].safeParse(request.data)
  const issues: Issue[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        field: ["data", ...(issue.code === "unrecognized_keys" ? [issue.keys.join(",")] : issue.path)].join(
          ".",
        ),
        message: issue.code === "unrecognized_keys" ? "unknown field: remove it" : issue.message,
      }))
  const dataJobId = (request.data as { jobId?: unknown } | undefined)?.jobId
  if (parsed.success && dataJobId !== request.jobId)
    issues.push({ field: "data.jobId", message: `must equal the job id ${request.jobId}` })
  return issues
}

/** The error for "this jobId is taken by a different job", naming the id so the caller can fix it. */
export const jobIdConflict = (jobId: string, existingType: string): ConflictError =>
  new ConflictError(
    `job ${jobId} already exists (${existingType}) with different data: resend the same data to get the ` +
      "existing job, or use a new jobId for a different request",
  )
