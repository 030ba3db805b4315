import type { EnqueueRequest } from "#application/ports.js"
import { ConflictError, ValidationError } from "#domain/errors.js"
import { JOB_TYPES, PRIORITIES } from "#domain/workflow-run.js"

/** The checks both adapters run before touching storage, so they refuse the same requests the same way. */
export const checkEnqueueRequest = (request: EnqueueRequest): void => {
  const issues: Array<{ field: string; message: string }> = []
  if (typeof request.jobId !== "string" || request.jobId.trim() === "")
    issues.push({ field: "jobId", message: "must be a non-empty string (the run id)" })
  if (!(JOB_TYPES as readonly string[]).includes(request.type))
    issues.push({ field: "type", message: `must be one of ${JOB_TYPES.join(", ")}` })
  if (!(PRIORITIES as readonly string[]).includes(request.priority))
    issues.push({ field: "priority", message: `must be one of ${PRIORITIES.join(", ")}` })
  if (!Number.isInteger(request.attempts) || request.attempts < 1 || request.attempts > 25)
    issues.push({ field: "attempts", message: "must be a whole number from 1 to 25" })
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid job: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join("; ")}`,
      issues,
    )
  }
}

/** The error for "this jobId is taken by a different job", naming the id so the caller can fix it. */
export const jobIdConflict = (jobId: string, existingType: string): ConflictError =>
  new ConflictError(
    `job ${jobId} already exists (${existingType}) with different data: resend the same data to get the ` +
      "existing job, or use a new jobId for a different request",
  )
