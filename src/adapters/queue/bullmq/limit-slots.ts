import type { Redis } from "ioredis"
import type { ConcurrencyLimit, QueuePlace } from "#application/ports/job-queue.js"
import type { JobType, Priority } from "#domain/workflow-run.js"
import { evalScript } from "./lua-scripts.js"

/**
 * The fair line on BullMQ (whose open-source edition has neither groups nor global per-key limits).
 * Every job with a concurrency key or limits gets a line entry when it is enqueued: an `order`
 * (priority rank, then an arrival counter) in one sorted set per key it names, plus a hash with its
 * keys. A worker that fetches the job asks `admit`, one Lua step that grants it only when
 * - its concurrency key is free (the `_key:` lock shared with key-locks.ts),
 * - every limit has a free slot (a sorted set of holders scored by lease expiry, so a killed
 *   worker's slot frees itself after one lock duration), and
 * - no job ahead of it in the line of one of its limits could start now: not running, its own key
 *   and slots free, and enqueued or fetched by a worker lately (`seen`). BullMQ re-queues a deferred
 *   job behind later ones and fetches a batch at once, so this check, not BullMQ's order, decides who
 *   takes a freed slot; a job no worker is fetching (its type's workers busy or absent) stops
 *   blocking after `liveMs`.
 * A deferred job goes back to delayed uncounted (handBack), so waiting never burns an attempt.
 */

const PRELUDE = `
local P = ARGV[1]
local now = tonumber(ARGV[2])
local rcall = redis.call
local function jobKey(id) return P .. ":_lim:job:" .. id end
local function limitsOf(id)
  local raw = rcall("HGET", jobKey(id), "limits")
  local out = {}
  if raw then
    for line in string.gmatch(raw, "[^\\n]+") do
      local sp = string.find(line, " ", 1, true)
      out[#out + 1] = { string.sub(line, sp + 1), tonumber(string.sub(line, 1, sp - 1)) }
    end
  end
  return out
end
local function running(id)
  return tonumber(rcall("HGET", jobKey(id), "runUntil") or "0") > now
end
local function keyHolder(k)
  if k == false or k == "" then return nil end
  local held = rcall("GET", P .. ":_key:" .. k)
  if held == false then return nil end
  return string.sub(held, 1, (string.find(held, " ", 1, true) or 0) - 1)
end
local function keyFree(k, id)
  local holder = keyHolder(k)
  return holder == nil or holder == id
end
local function heldCount(k, id)
  local hk = P .. ":_lim:held:" .. k
  rcall("ZREMRANGEBYSCORE", hk, "-inf", now)
  local n = rcall("ZCARD", hk)
  if rcall("ZSCORE", hk, id) then n = n - 1 end
  return n
end
local function slotsFree(limits, id)
  for _, l in ipairs(limits) do
    if heldCount(l[1], id) >= l[2] then return false end
  end
  return true
end
`

// ARGV: prefix, now, id, priority rank, type, issue key ("" for none), limits ("max key" lines), ttl seconds,
// and the job id's registry key and value ("" for none). With a registry key the id is claimed first
// (SET NX, as id-claims.ts does): 0 and nothing registered when it was taken, so an enqueue in line
// costs one round trip for both.
const REGISTER = `${PRELUDE}
local id = ARGV[3]
if ARGV[9] ~= "" and not rcall("SET", ARGV[9], ARGV[10], "EX", tonumber(ARGV[8]), "NX") then return 0 end
local order = tonumber(ARGV[4]) * 1e13 + rcall("INCR", P .. ":_lim:seq")
rcall("HSET", jobKey(id), "order", order, "type", ARGV[5], "issue", ARGV[6], "limits", ARGV[7], "seen", now, "runUntil", 0)
rcall("EXPIRE", jobKey(id), tonumber(ARGV[8]))
rcall("ZADD", P .. ":_lim:line:t:" .. ARGV[5], order, id)
if ARGV[6] ~= "" then rcall("ZADD", P .. ":_lim:line:k:" .. ARGV[6], order, id) end
for _, l in ipairs(limitsOf(id)) do rcall("ZADD", P .. ":_lim:line:l:" .. l[1], order, id) end
return 1`

// ARGV: prefix, now, id, token, lock ms, live ms. 1 = granted, 0 = wait
const ADMIT = `${PRELUDE}
local id = ARGV[3]
local token = ARGV[4]
local lockMs = tonumber(ARGV[5])
local liveMs = tonumber(ARGV[6])
local key = jobKey(id)
if rcall("EXISTS", key) == 0 then return 2 end
rcall("HSET", key, "seen", now)
local issue = rcall("HGET", key, "issue")
local limits = limitsOf(id)
if not keyFree(issue, id) then return 0 end
if not slotsFree(limits, id) then return 0 end
local order = rcall("HGET", key, "order")
for _, l in ipairs(limits) do
  local ahead = rcall("ZRANGEBYSCORE", P .. ":_lim:line:l:" .. l[1], "-inf", "(" .. order, "LIMIT", 0, 100)
  for _, other in ipairs(ahead) do
    if other ~= id and rcall("EXISTS", jobKey(other)) == 1 then
      local seen = tonumber(rcall("HGET", jobKey(other), "seen") or "0")
      if seen >= now - liveMs and not running(other)
        and keyFree(rcall("HGET", jobKey(other), "issue"), other) and slotsFree(limitsOf(other), other) then
        return 0
      end
    end
  end
end
if issue ~= false and issue ~= "" then
  rcall("SET", P .. ":_key:" .. issue, id .. " " .. token, "PX", lockMs)
end
for _, l in ipairs(limits) do rcall("ZADD", P .. ":_lim:held:" .. l[1], now + lockMs, id) end
rcall("HSET", key, "token", token, "runUntil", now + lockMs)
return 1`

// ARGV: prefix, now, id, token, lock ms
const RENEW = `${PRELUDE}
local id = ARGV[3]
local key = jobKey(id)
if rcall("HGET", key, "token") ~= ARGV[4] then return 0 end
local expiry = now + tonumber(ARGV[5])
for _, l in ipairs(limitsOf(id)) do rcall("ZADD", P .. ":_lim:held:" .. l[1], "XX", expiry, id) end
local issue = rcall("HGET", key, "issue")
if issue ~= false and issue ~= "" and rcall("GET", P .. ":_key:" .. issue) == id .. " " .. ARGV[4] then
  rcall("PEXPIRE", P .. ":_key:" .. issue, tonumber(ARGV[5]))
end
rcall("HSET", key, "runUntil", expiry)
return 1`

// ARGV: prefix, now, id, token ("" = any: a cancelled or finished job), "1" when the job has ended
const RELEASE = `${PRELUDE}
local id = ARGV[3]
local key = jobKey(id)
if rcall("EXISTS", key) == 0 then return 0 end
local token = rcall("HGET", key, "token")
local issue = rcall("HGET", key, "issue")
local limits = limitsOf(id)
if ARGV[4] == "" or token == ARGV[4] then
  for _, l in ipairs(limits) do rcall("ZREM", P .. ":_lim:held:" .. l[1], id) end
  if token and issue ~= false and issue ~= "" and rcall("GET", P .. ":_key:" .. issue) == id .. " " .. token then
    rcall("DEL", P .. ":_key:" .. issue)
  end
  rcall("HSET", key, "runUntil", 0)
end
if ARGV[5] == "1" then
  rcall("ZREM", P .. ":_lim:line:t:" .. rcall("HGET", key, "type"), id)
  if issue ~= false and issue ~= "" then rcall("ZREM", P .. ":_lim:line:k:" .. issue, id) end
  for _, l in ipairs(limits) do rcall("ZREM", P .. ":_lim:line:l:" .. l[1], id) end
  rcall("DEL", key)
end
return 1`

// ARGV: prefix, now, id, "1" = held only (false instead of counting the type's line). Returns false
// (not waiting) or { kind, key, max, place }
const PLACE = `${PRELUDE}
local id = ARGV[3]
local key = jobKey(id)
if rcall("EXISTS", key) == 0 or running(id) then return false end
local order = tonumber(rcall("HGET", key, "order"))
local function ahead(line)
  local n = 0
  for _, other in ipairs(rcall("ZRANGEBYSCORE", line, "-inf", "(" .. order, "LIMIT", 0, 1000)) do
    if other ~= id and rcall("EXISTS", jobKey(other)) == 1 and not running(other) then n = n + 1 end
  end
  return n
end
local issue = rcall("HGET", key, "issue")
if not keyFree(issue, id) then
  return { "key", issue, 1, 1 + ahead(P .. ":_lim:line:k:" .. issue) }
end
for _, l in ipairs(limitsOf(id)) do
  if heldCount(l[1], id) >= l[2] then
    return { "limit", l[1], l[2], 1 + ahead(P .. ":_lim:line:l:" .. l[1]) }
  end
end
if ARGV[4] == "1" then return false end
return { "workers", "", 0, 1 + ahead(P .. ":_lim:line:t:" .. rcall("HGET", key, "type")) }`

const RANK: Record<Priority, number> = { urgent: 0, high: 1, normal: 2, low: 3 }

export interface Admission {
  /** keeps the slots and the key alive while the job runs; `ended` when the job will not run again */
  release(ended: boolean): Promise<void>
}

export const createLimitSlots = (options: {
  client: Redis
  prefix: string
  lockMs: number
  /** how long a fetched-then-deferred job keeps its claim on the line (default 4 × retry + 1 s) */
  liveMs: number
  retentionSeconds: number
}) => {
  const { client, prefix, lockMs } = options
  const run = (script: string, ...args: Array<string | number>) =>
    evalScript(client, script, 0, prefix, Date.now(), ...args)

  return {
    /**
     * puts a new job in line (before it is added to BullMQ, so no worker sees it without an entry);
     * with `claim`, only if that registry key was free (false: taken, nothing registered)
     */
    async register(
      job: {
        jobId: string
        type: JobType
        priority: Priority
        concurrencyKey?: string | undefined
        limits?: ConcurrencyLimit[] | undefined
      },
      claim?: { key: string; value: string },
    ): Promise<boolean> {
      const limits = (job.limits ?? []).map((limit) => `${limit.max} ${limit.key}`).join("\n")
      const registered = await run(
        REGISTER,
        job.jobId,
        RANK[job.priority],
        job.type,
        job.concurrencyKey ?? "",
        limits,
        options.retentionSeconds,
        claim?.key ?? "",
        claim?.value ?? "",
      )
      return registered === 1
    },

    /**
     * "wait": hand the job back; "unregistered": a job queued before the line existed (use the plain
     * key lock); else it holds its key and slots until released
     */
    async admit(jobId: string, token: string): Promise<Admission | "wait" | "unregistered"> {
      const got = await run(ADMIT, jobId, token, lockMs, options.liveMs)
      if (got === 2) return "unregistered"
      if (got !== 1) return "wait"
      const timer = setInterval(
        () => void run(RENEW, jobId, token, lockMs).catch(() => {}),
        Math.max(50, Math.floor(lockMs / 3)),
      )
      return {
        async release(ended) {
          clearInterval(timer)
          await run(RELEASE, jobId, token, ended ? "1" : "0")
        },
      }
    },

    /** the job will never run (cancelled while waiting, or its last attempt is over) */
    async forget(jobId: string): Promise<void> {
      await run(RELEASE, jobId, "", "1")
    },

    async place(jobId: string, heldOnly = false): Promise<QueuePlace | undefined> {
      const answer = (await run(PLACE, jobId, heldOnly ? "1" : "0")) as
        | [string, string, number, number]
        | null
      if (!answer) return undefined
      const [kind, key, max, place] = answer
      const waitingFor =
        kind === "key"
          ? { kind: "key" as const, key }
          : kind === "limit"
            ? { kind: "limit" as const, key, max: Number(max) }
            : { kind: "workers" as const }
      return { place: Number(place), waitingFor }
    },
  }
}

export type LimitSlots = ReturnType<typeof createLimitSlots>
