/**
 * The boundary check for run events: the run journal (run-journal.ts) validates events with these
 * schemas before it appends them, so a malformed or oversized event is refused with the field and the
 * reason, and the run's log stays readable by every later version. Large text belongs truncated
 * (head + tail) with its full size kept in `bytes`; the caps here make an untruncated blob fail loudly
 * instead of bloating the database.
 */
import { z } from "zod"
import { ValidationError } from "#domain/errors.js"
import type { RunEventData, RunEventType } from "#domain/run-event.js"
import { RUN_STATUSES } from "#domain/workflow-run.js"

/** tool output, test output, diffs: producers truncate to this and set `truncated` */
export const MAX_TRUNCATED_BYTES = 64 * 1024
/** free text a model or a person wrote in one piece (assistant text, plans, messages) */
export const MAX_TEXT_BYTES = 256 * 1024
/** names, ids, commands */
export const MAX_NAME_BYTES = 4 * 1024
/** one whole event, JSON-encoded */
export const MAX_EVENT_BYTES = 1024 * 1024

const bytes = (max: number, hint: string) =>
  z.string().superRefine((value, ctx) => {
    const size = Buffer.byteLength(value)
    if (size > max) ctx.addIssue({ code: "custom", message: `is ${size} bytes, more than ${max}: ${hint}` })
  })

const truncatable = bytes(
  MAX_TRUNCATED_BYTES,
  "keep its head and tail, set truncated: true and the full size in bytes",
)
const text = bytes(MAX_TEXT_BYTES, "shorten it")
const name = bytes(MAX_NAME_BYTES, "shorten it")
const count = z.number().int().nonnegative()
const amount = z.number().nonnegative().finite()

const UsageSchema = z.strictObject({
  inputTokens: count,
  outputTokens: count,
  costUsd: amount,
  unpricedModel: name.optional(),
})

const EVENT_SCHEMAS = {
  status: z.strictObject({
    type: z.literal("status"),
    status: z.enum(RUN_STATUSES),
    attempt: count,
    message: text.optional(),
  }),
  progress: z.strictObject({
    type: z.literal("progress"),
    progress: z.number().min(0).max(100),
    message: text.optional(),
  }),
  "model-call": z.strictObject({
    type: z.literal("model-call"),
    model: name,
    inputTokens: count,
    outputTokens: count,
    costUsd: amount,
    costKnown: z.boolean().optional(),
    latencyMs: amount,
    finishReason: name.optional(),
  }),
  "assistant-text": z.strictObject({ type: z.literal("assistant-text"), text }),
  "tool-call": z.strictObject({
    type: z.literal("tool-call"),
    toolCallId: name,
    tool: name,
    input: z.unknown().superRefine((value, ctx) => {
      const size = Buffer.byteLength(JSON.stringify(value) ?? "")
      if (size > MAX_TEXT_BYTES) {
        ctx.addIssue({ code: "custom", message: `is ${size} bytes as JSON, more than ${MAX_TEXT_BYTES}` })
      }
    }),
  }),
  "tool-result": z.strictObject({
    type: z.literal("tool-result"),
    toolCallId: name,
    tool: name,
    output: truncatable,
    bytes: count,
    truncated: z.boolean(),
    isError: z.boolean().optional(),
  }),
  plan: z.strictObject({ type: z.literal("plan"), plan: text }),
  log: z.strictObject({
    type: z.literal("log"),
    level: z.enum(["info", "warn", "error"]),
    message: text,
  }),
  error: z.strictObject({ type: z.literal("error"), message: text, retryable: z.boolean() }),
  usage: z.strictObject({ type: z.literal("usage"), usage: UsageSchema }),
  diff: z.strictObject({
    type: z.literal("diff"),
    diff: truncatable,
    files: z.array(name).max(10_000),
    truncated: z.boolean(),
    bytes: count.optional(),
  }),
  "test-result": z.strictObject({
    type: z.literal("test-result"),
    phase: z.enum(["baseline", "verify"]),
    command: name,
    exitCode: z.number().int().nullable(),
    passed: count.optional(),
    failed: count.optional(),
    durationMs: amount,
    output: truncatable,
    bytes: count,
    truncated: z.boolean().optional(),
  }),
  budget: z.strictObject({
    type: z.literal("budget"),
    resource: name.optional(),
    limit: amount,
    used: amount,
    message: text.optional(),
  }),
} satisfies Record<RunEventType, z.ZodType>

export const RunEventDataSchema = z.discriminatedUnion("type", [
  EVENT_SCHEMAS.status,
  EVENT_SCHEMAS.progress,
  EVENT_SCHEMAS["model-call"],
  EVENT_SCHEMAS["assistant-text"],
  EVENT_SCHEMAS["tool-call"],
  EVENT_SCHEMAS["tool-result"],
  EVENT_SCHEMAS.plan,
  EVENT_SCHEMAS.log,
  EVENT_SCHEMAS.error,
  EVENT_SCHEMAS.usage,
  EVENT_SCHEMAS.diff,
  EVENT_SCHEMAS["test-result"],
  EVENT_SCHEMAS.budget,
])

export const RUN_EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as RunEventType[]

/**
 * Validates one event of a batch (`index` names it in the error). Throws a ValidationError whose
 * issues say `events.<index>.<field>` and why; returns the event as it will be stored.
 */
export const parseRunEventData = (event: unknown, index = 0): RunEventData => {
  const type = typeof event === "object" && event !== null ? (event as { type?: unknown }).type : undefined
  if (typeof type !== "string" || !Object.hasOwn(EVENT_SCHEMAS, type)) {
    throw new ValidationError(
      `event ${index} has an unknown type ${JSON.stringify(type)}: use one of ${RUN_EVENT_TYPES.join(", ")}`,
      [{ field: `events.${index}.type`, message: "unknown event type" }],
    )
  }
  const parsed = EVENT_SCHEMAS[type as RunEventType].safeParse(event)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      field: [`events.${index}`, ...issue.path.map(String)].join("."),
      message: issue.message,
    }))
    const detail = issues.map((issue) => `${issue.field} ${issue.message}`).join("; ")
    throw new ValidationError(`event ${index} (${type}) is invalid: ${detail}`, issues)
  }
  const size = Buffer.byteLength(JSON.stringify(parsed.data))
  if (size > MAX_EVENT_BYTES) {
    throw new ValidationError(
      `event ${index} (${type}) is ${size} bytes, more than ${MAX_EVENT_BYTES}: truncate its large fields`,
      [{ field: `events.${index}`, message: `larger than ${MAX_EVENT_BYTES} bytes` }],
    )
  }
  return parsed.data as RunEventData
}

/** Validates a whole batch first, so a bad event anywhere means nothing of the batch is stored. */
export const parseRunEvents = (events: readonly unknown[]): RunEventData[] =>
  events.map((event, index) => parseRunEventData(event, index))
