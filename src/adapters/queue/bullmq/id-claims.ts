import type { Redis } from "ioredis"
import { evalScript } from "./lua-scripts.js"

interface Claim {
  key: string
  value: string
  resolve(claimed: boolean): void
  reject(error: unknown): void
}

// one SET NX per key, each answered on its own, in order
const CLAIM_MANY = `
local claimed = {}
for i, key in ipairs(KEYS) do
  claimed[i] = redis.call("SET", key, ARGV[i + 1], "EX", ARGV[1], "NX") and 1 or 0
end
return claimed`
// bounds how long one claim script holds Redis
const MAX_BATCH = 200

/**
 * `SET key value EX ttl NX` for job id claims, with the claims made in the same tick sent to Redis as
 * one command: under concurrent enqueues, a round trip per claim costs the client more CPU than the
 * claims themselves (an ioredis pipeline is dearer still: it copies every BullMQ script command).
 */
export const createIdClaims = (client: Redis, ttlSeconds: number) => {
  let pending: Claim[] = []

  const flush = () => {
    const batch = pending
    pending = []
    if (batch.length === 0) return
    const claimed =
      batch.length === 1
        ? client.set(batch[0]!.key, batch[0]!.value, "EX", ttlSeconds, "NX").then((reply) => [reply !== null])
        : (
            evalScript(
              client,
              CLAIM_MANY,
              batch.length,
              ...batch.map((claim) => claim.key),
              ttlSeconds,
              ...batch.map((claim) => claim.value),
            ) as Promise<number[]>
          ).then((replies) => replies.map((reply) => reply === 1))
    claimed.then(
      (answers) => {
        batch.forEach((claim, index) => {
          claim.resolve(answers[index] === true)
        })
      },
      (error: unknown) => {
        for (const claim of batch) claim.reject(error)
      },
    )
  }

  return {
    /** true: this caller now owns `key`; false: it was taken already */
    claim(key: string, value: string): Promise<boolean> {
      return new Promise((resolve, reject) => {
        // flushed once the current microtasks ran, so every enqueue started meanwhile joins the batch
        const waiting = pending.push({ key, value, resolve, reject })
        if (waiting === 1) process.nextTick(flush)
        else if (waiting === MAX_BATCH) flush() // the tick's flush then sends the rest, if any
      })
    },
  }
}
