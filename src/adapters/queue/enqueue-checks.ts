import type { EnqueueRequest } from "#application/ports/job-queue.js"
import { ConflictError, ValidationError } from "#domain/errors.js"
import { JOB_TYPES, PRIORITIES } from "#domain/workflow-run.js"

type Issue = { field: string; message: string }

/**
 * The checks both adapters run before touching storage, so they refuse the same requests the same way
 * and nothing is stored for a refused one. The payload itself is opaque: the application parses it
 * against its DTO before enqueueing (`enqueueRequestOf` in application/job-data.ts); here it only has
 * to be JSON, because that is how both queues store it.
 */
export const checkEnqueueRequest = (request: EnqueueRequest): void => {
  const issues: Issue[] = []
  if (typeof request.jobId !== "string" || request.jobId.trim() === "")
    issues.push({ field: "jobId", message: "must be a non-empty string (the run id)" })
  if (!(JOB_TYPES as readonly string[]).includes(request.type))
    issues.push({ field: "type", message: `must be one of ${JOB_TYPES.join(", ")}` })
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
  if (request.limits !== undefined) {
    if (!Array.isArray(request.limits) || request.limits.length > 10)
      issues.push({ field: "limits", message: "must be a list of at most 10 { key, max } entries when set" })
    else
      request.limits.forEach((limit, index) => {
        if (typeof limit?.key !== "string" || limit.key.length === 0 || limit.key.length > 200)
          issues.push({ field: `limits.${index}.key`, message: "must be a string of 1 to 200 characters" })
        if (!Number.isInteger(limit?.max) || limit.max < 1)
          issues.push({ field: `limits.${index}.max`, message: "must be a whole number ≥ 1" })
      })
  }
  if (!isJson(request.data))
    issues.push({
      field: "data",
      message: "must be a JSON value (an object, array, string, number, boolean or null)",
    })
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid job: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join("; ")}`,
      issues,
    )
  }
}

/** true when JSON.stringify keeps the value as it is (no undefined, function, bigint or Date at the top) */
const isJson = (value: unknown): boolean => {
  if (value === null || ["string", "boolean"].includes(typeof value)) return true
  if (typeof value === "number") return Number.isFinite(value)
  if (typeof value !== "object") return false
  return Array.isArray(value) || [Object.prototype, null].includes(Object.getPrototypeOf(value))
}

/** The error for "this jobId is taken by a different job", naming the id so the caller can fix it. */
export const jobIdConflict = (jobId: string, existingType: string): ConflictError =>
  new ConflictError(
    `job ${jobId} already exists (${existingType}) with different data: resend the same data to get the ` +
      "existing job, or use a new jobId for a different request",
  )
