/**
 * Rows ↔ domain objects. The drivers disagree on types (pg returns BIGINT as a string and JSONB
 * parsed; SQLite returns JSON as text), so every read is normalised here.
 */
import type { Selectable, Updateable } from "kysely"
import type { RunPatch } from "#application/ports/run-store.js"
import type { RunEvent, RunEventData } from "#domain/run-event.js"
import type { Artifacts, JobType, Priority, RunStatus, Trigger, WorkflowRun } from "#domain/workflow-run.js"
import type { RunEventsTable, RunsTable } from "./database.js"

export const toMillis = (date: Date): number => date.getTime()

export const toNumber = (value: number | string): number =>
  typeof value === "number" ? value : Number(value)

const toDate = (value: number | string): Date => new Date(toNumber(value))

const toOptionalDate = (value: number | string | null): Date | undefined =>
  value === null ? undefined : toDate(value)

export const parseJson = <T>(value: unknown): T =>
  (typeof value === "string" ? JSON.parse(value) : value) as T

export const toJson = (value: unknown): string => JSON.stringify(value ?? null)

export const rowToRun = (row: Selectable<RunsTable>): WorkflowRun => {
  const run: WorkflowRun = {
    id: row.id,
    type: row.type as JobType,
    status: row.status as RunStatus,
    repoFullName: row.repo_full_name,
    issueNumber: toNumber(row.issue_number),
    priority: row.priority as Priority,
    input: parseJson<Record<string, unknown>>(row.input),
    trigger: parseJson<Trigger>(row.trigger),
    attempts: toNumber(row.attempts),
    maxAttempts: toNumber(row.max_attempts),
    progress: toNumber(row.progress),
    artifacts: parseJson<Artifacts>(row.artifacts) ?? {},
    usage: {
      inputTokens: toNumber(row.input_tokens),
      outputTokens: toNumber(row.output_tokens),
      costUsd: toNumber(row.cost_usd),
      ...(row.unpriced_model ? { unpricedModel: row.unpriced_model } : {}),
    },
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  }
  // Absent optional fields stay absent (not `undefined` keys), as the domain type describes them.
  if (row.progress_message !== null) run.progressMessage = row.progress_message
  if (row.summary !== null) run.summary = row.summary
  if (row.error !== null) run.error = row.error
  const startedAt = toOptionalDate(row.started_at)
  if (startedAt) run.startedAt = startedAt
  const finishedAt = toOptionalDate(row.finished_at)
  if (finishedAt) run.finishedAt = finishedAt
  return run
}

/** `type` has its own column; the rest of the payload goes into `data`. */
export const eventDataToJson = (event: RunEventData): string => {
  const { type: _type, ...rest } = event
  return toJson(rest)
}

export const rowToEvent = (row: Selectable<RunEventsTable>): RunEvent =>
  ({
    ...parseJson<Record<string, unknown>>(row.data),
    type: row.type,
    runId: row.run_id,
    seq: toNumber(row.seq),
    at: toDate(row.at),
  }) as RunEvent

/** Columns a patch replaces; `undefined` leaves a column alone, `null` clears it. */
export const patchToColumns = (patch: RunPatch): Updateable<RunsTable> => {
  const set: Updateable<RunsTable> = {}
  if (patch.status !== undefined) set.status = patch.status
  if (patch.attempts !== undefined) set.attempts = patch.attempts
  if (patch.progress !== undefined) set.progress = patch.progress
  if (patch.progressMessage !== undefined) set.progress_message = patch.progressMessage
  if (patch.usage !== undefined) {
    set.input_tokens = patch.usage.inputTokens
    set.output_tokens = patch.usage.outputTokens
    set.cost_usd = patch.usage.costUsd
    set.unpriced_model = patch.usage.unpricedModel ?? null
  }
  if (patch.summary !== undefined) set.summary = patch.summary
  if (patch.error !== undefined) set.error = patch.error
  if (patch.startedAt !== undefined) set.started_at = toMillis(patch.startedAt)
  if (patch.finishedAt !== undefined) set.finished_at = patch.finishedAt ? toMillis(patch.finishedAt) : null
  return set
}
