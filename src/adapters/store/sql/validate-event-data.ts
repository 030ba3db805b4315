/**
 * The gate every event passes before it is stored. For now it checks the shape minimally (an object
 * with a known `type`); the full Zod validation of each event's payload is meant to replace the body
 * of `validateEventData` without changing its callers.
 */
import { ValidationError } from "#domain/errors.js"
import type { RunEventData, RunEventType } from "#domain/run-event.js"

// A Record over the union, so adding an event type to the domain without listing it here fails to compile.
const KNOWN_TYPES: Record<RunEventType, true> = {
  status: true,
  progress: true,
  "model-call": true,
  "assistant-text": true,
  "tool-call": true,
  "tool-result": true,
  plan: true,
  log: true,
  error: true,
  usage: true,
}

export const validateEventData = (event: unknown, index: number): RunEventData => {
  const type = typeof event === "object" && event !== null ? (event as { type?: unknown }).type : undefined
  if (typeof type !== "string" || !Object.hasOwn(KNOWN_TYPES, type)) {
    throw new ValidationError(
      `event ${index} has an unknown type ${JSON.stringify(type)}: use one of ${Object.keys(KNOWN_TYPES).join(", ")}`,
      [{ field: `events.${index}.type`, message: "unknown event type" }],
    )
  }
  return event as RunEventData
}
