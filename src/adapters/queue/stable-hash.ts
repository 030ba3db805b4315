import { createHash } from "node:crypto"
import { stableJson } from "#application/ports/job-queue.js"

/** sha256 of the payload's stable JSON form; short enough to store beside every job. */
export const dataHash = (value: unknown): string =>
  createHash("sha256").update(stableJson(value)).digest("hex")
