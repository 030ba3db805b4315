import { createHash } from "node:crypto"

/**
 * JSON with object keys sorted at every level, so two equal payloads serialise identically whatever
 * order their keys were built in. Used to tell "same job enqueued again" from "same id, other data".
 */
export const stableJson = (value: unknown): string => JSON.stringify(sortKeys(value))

const sortKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const child = (value as Record<string, unknown>)[key]
      // JSON.stringify drops undefined members; drop them here too so {a: undefined} equals {}
      if (child !== undefined) sorted[key] = sortKeys(child)
    }
    return sorted
  }
  return value
}

/** sha256 of the stable JSON form; short enough to store beside every job. */
export const dataHash = (value: unknown): string =>
  createHash("sha256").update(stableJson(value)).digest("hex")
