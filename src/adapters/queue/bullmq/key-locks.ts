import type { Job } from "bullmq"
import type { Redis } from "ioredis"
import { evalScript } from "./lua-scripts.js"

/**
 * "At most one active job per concurrency key" on BullMQ (whose open-source edition has no groups):
 * a job takes a Redis lock for its key when it starts. The lock value is `jobId token`, so a retry of
 * the same job after a stall may take over its own dead lock, while a stale worker can neither renew
 * nor release a lock that a newer attempt holds. The lock expires like BullMQ's own job lock, so a
 * killed worker never blocks a key for longer than one lock duration.
 */

// take the key when it is free or held by an earlier attempt of the same job
const ACQUIRE = `
local held = redis.call("GET", KEYS[1])
if held == false or string.sub(held, 1, string.len(ARGV[2]) + 1) == ARGV[2] .. " " then
  redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[3])
  return 1
end
return 0`

const RENEW = `
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
return 0`

const RELEASE = `
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`

// a start that did not run the handler is handed back uncounted: BullMQ counts every start in `ats`
const UNSTART = `
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("HINCRBY", KEYS[2], "ats", -1) end
return -1`

export interface KeyLock {
  /** keeps the lock alive while the job runs; call release() when it ends */
  release(): Promise<void>
}

export const createKeyLocks = (options: { client: Redis; prefix: string; lockMs: number }) => {
  const { client, prefix, lockMs } = options
  const lockKey = (key: string) => `${prefix}:_key:${key}`

  return {
    /** undefined: another job holds the key; the caller defers this one */
    async acquire(key: string, jobId: string, token: string): Promise<KeyLock | undefined> {
      const value = `${jobId} ${token}`
      const got = await evalScript(client, ACQUIRE, 1, lockKey(key), value, jobId, lockMs)
      if (got !== 1) return undefined
      const timer = setInterval(
        () => void evalScript(client, RENEW, 1, lockKey(key), value, lockMs).catch(() => {}),
        Math.max(50, Math.floor(lockMs / 3)),
      )
      return {
        async release() {
          clearInterval(timer)
          await evalScript(client, RELEASE, 1, lockKey(key), value)
        },
      }
    },
  }
}

export type KeyLocks = ReturnType<typeof createKeyLocks>

/**
 * Puts an active job back to delayed without counting the start as an attempt. Only the holder of the
 * job's BullMQ lock may do this (the same token check BullMQ makes itself).
 */
export const handBack = async (
  client: Redis,
  options: { prefix: string; job: Job; token: string; runAt: number },
): Promise<void> => {
  const jobKey = `${options.prefix}:${options.job.queueName}:${options.job.id}`
  await evalScript(client, UNSTART, 2, `${jobKey}:lock`, jobKey, options.token)
  await options.job.moveToDelayed(options.runAt, options.token)
}
