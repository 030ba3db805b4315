/**
 * GitHub's limits, honoured inside the adapter so that none of them ends a run early:
 *   - secondary limits (403/429 with `retry-after`, or "secondary rate limit" without it): wait what
 *     GitHub asks (at least a minute when it does not say, as its docs require), then try again;
 *   - primary limits (403/429 with `x-ratelimit-remaining: 0`): wait until `x-ratelimit-reset`;
 *   - transient 5xx and network faults: retried with exponential backoff and jitter;
 *   - conditional GETs: a cached ETag is sent as `If-None-Match`; GitHub's 304 does not count against
 *     the primary limit, and the cached answer is returned.
 * A wait longer than `maxWaitMs` is not waited: the call fails retryable, and the queue retries the job.
 */
import type { Octokit } from "@octokit/rest"
import type { Logger } from "#application/ports/logging.js"

export interface RateLimitOptions {
  /** retries of a 5xx or network fault (default 4) */
  maxRetries?: number
  /** first backoff delay for 5xx and network faults (default 1 s; doubled each time, ±20 % jitter) */
  baseDelayMs?: number
  /** the longest single wait the adapter accepts for a rate limit (default 15 min) */
  maxWaitMs?: number
  /** rate-limit answers waited out per call (default 5) */
  maxRateLimitWaits?: number
  /** entries of the ETag cache (default 500; 0 turns conditional requests off) */
  etagCacheSize?: number
  sleep?: (ms: number) => Promise<void>
  now?: () => number
  random?: () => number
  logger?: Logger | undefined
}

interface Failure {
  status?: number
  message?: string
  response?: { status?: number; headers?: Record<string, string | number | undefined>; data?: unknown }
}

type Headers = Record<string, string | number | undefined>

const SECONDARY_DEFAULT_MS = 60_000

/** How long GitHub asks to wait before the next call, or undefined when the failure is not a limit. */
export const rateLimitWaitMs = (failure: Failure, now: number): number | undefined => {
  const status = failure.status
  if (status !== 403 && status !== 429) return undefined
  const headers: Headers = failure.response?.headers ?? {}
  const data = failure.response?.data as { message?: unknown } | undefined
  const message = typeof data?.message === "string" ? data.message : (failure.message ?? "")
  const retryAfter = Number(headers["retry-after"])
  if (Number.isFinite(retryAfter) && retryAfter >= 0 && headers["retry-after"] !== undefined)
    return retryAfter * 1000
  const remaining = headers["x-ratelimit-remaining"]
  const reset = Number(headers["x-ratelimit-reset"])
  if (String(remaining) === "0" && Number.isFinite(reset) && reset > 0)
    return Math.max(0, reset * 1000 - now) + 1000
  if (status === 429 || /secondary rate limit|abuse/i.test(message)) return SECONDARY_DEFAULT_MS
  if (/rate limit/i.test(message)) return SECONDARY_DEFAULT_MS
  return undefined
}

const isTransient = (failure: Failure): boolean => {
  const status = failure.status ?? 0
  // @octokit/request reports a failed fetch as status 500 without a response
  if (!failure.response) return true
  return status >= 500 && status !== 501
}

interface Cached {
  etag: string
  response: unknown
}

export const installRateLimits = (octokit: Octokit, options: RateLimitOptions = {}): void => {
  const maxRetries = options.maxRetries ?? 4
  const baseDelayMs = options.baseDelayMs ?? 1000
  const maxWaitMs = options.maxWaitMs ?? 15 * 60_000
  const maxRateLimitWaits = options.maxRateLimitWaits ?? 5
  const cacheSize = options.etagCacheSize ?? 500
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  const log = options.logger?.child({ component: "github-limits" })
  const etags = new Map<string, Cached>()

  octokit.hook.wrap("request", async (request, requestOptions) => {
    const method = String(requestOptions.method ?? "GET").toUpperCase()
    // one adapter speaks for one identity per repository, and URLs carry the repository
    const cacheKey =
      method === "GET" && cacheSize > 0
        ? JSON.stringify(
            Object.entries(requestOptions).filter(
              ([key]) => !["headers", "request", "method", "baseUrl", "mediaType"].includes(key),
            ),
          )
        : undefined
    let transientRetries = 0
    let limitWaits = 0
    for (;;) {
      const cached = cacheKey === undefined ? undefined : etags.get(cacheKey)
      if (cached) requestOptions.headers = { ...requestOptions.headers, "if-none-match": cached.etag }
      try {
        const response = await request(requestOptions)
        const etag = (response.headers as Headers | undefined)?.etag
        if (cacheKey !== undefined && typeof etag === "string") {
          if (etags.size >= cacheSize) etags.delete(etags.keys().next().value as string)
          etags.set(cacheKey, { etag, response })
        }
        return response
      } catch (error) {
        // only GitHub's answers (and failed fetches) are retried; an error of ours (no installation
        // token for the repository, a bad request built here) is final
        if (!(error instanceof Error) || error.name !== "HttpError") throw error
        const failure = error as Failure
        if (failure.status === 304 && cached) return cached.response as Awaited<ReturnType<typeof request>>
        const limitWait = rateLimitWaitMs(failure, now())
        if (limitWait !== undefined) {
          if (limitWait > maxWaitMs || ++limitWaits > maxRateLimitWaits) throw error
          log?.warn("GitHub rate limit: waiting before trying again", {
            method,
            url: String(requestOptions.url),
            status: failure.status,
            waitMs: limitWait,
          })
          await sleep(limitWait)
          continue
        }
        if (isTransient(failure) && transientRetries < maxRetries) {
          const delay = Math.round(baseDelayMs * 2 ** transientRetries * (0.8 + 0.4 * random()))
          transientRetries++
          log?.warn("GitHub answered a transient error: retrying", {
            method,
            url: String(requestOptions.url),
            status: failure.response ? failure.status : "network",
            attempt: transientRetries,
            delayMs: delay,
          })
          await sleep(delay)
          continue
        }
        throw error
      }
    }
  })
}
