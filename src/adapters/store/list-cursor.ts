/**
 * Paging helpers for listRuns: an opaque base64url cursor holding the last row's (created_at, id),
 * which together order runs exactly, and the limit check shared by the list operations.
 */
import { ValidationError } from "#domain/errors.js"
import type { WorkflowRun } from "#domain/workflow-run.js"

export const encodeCursor = (run: WorkflowRun): string =>
  Buffer.from(JSON.stringify([run.createdAt.getTime(), run.id])).toString("base64url")

export const decodeCursor = (cursor: string): { createdAt: number; id: string } => {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
    if (Array.isArray(value) && Number.isSafeInteger(value[0]) && typeof value[1] === "string") {
      return { createdAt: value[0], id: value[1] }
    }
  } catch {
    // fall through to the error below
  }
  throw new ValidationError("cursor is not valid: pass the nextCursor of a previous page unchanged", [
    { field: "cursor", message: "not a cursor returned by this API" },
  ])
}

export const checkLimit = (limit: number | undefined, field: string, max: number): number | undefined => {
  if (limit === undefined) return undefined
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new ValidationError(`${field} must be an integer from 1 to ${max}, got ${limit}`, [
      { field, message: `must be 1..${max}` },
    ])
  }
  return limit
}
