/**
 * Retries of one model call inside the agent, so that an overload spell (429, 529, 503…) costs a
 * wait, not the run: the queue's retry would start over with a new checkout, setup, baseline and
 * plan. Capped exponential backoff with jitter; the provider's `retry-after-ms` / `retry-after`
 * (seconds or an HTTP date) wins when it sends one. At most `maxRetries` retries (default 9: ten
 * tries) and `maxWaitMs` of waiting in all; every wait ends at once when the run's signal aborts.
 * What is not worth retrying (a refused key, an unknown model, a request too long for the context
 * window) is thrown at once.
 */
import { APICallError, RetryError } from "ai"
import { isContextOverflow } from "./model-errors.js"

export interface RetryOptions {
  /** retries after the first try; default 9 (ten tries) */
  maxRetries?: number | undefined
  /** first backoff; doubles each retry; default 1 s */
  baseDelayMs?: number
  /** one wait at most; default 30 s (a longer retry-after is cut to this) */
  maxDelayMs?: number
  /** all waits of one call together; default 5 minutes */
  maxWaitMs?: number
  /** told about each retry before the wait (for a run event) */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void | Promise<void>
  /** for tests */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  random?: () => number
}

export const DEFAULT_MODEL_RETRIES = 9

const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504, 529])

const NETWORK =
  /fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|socket hang up|other side closed|terminated/i

const unwrap = (error: unknown): unknown =>
  RetryError.isInstance(error) ? (error.lastError ?? error) : error

/** Whether another try may succeed, and the provider's advice on when. */
export const retryAdvice = (
  error: unknown,
): { retry: boolean; afterMs?: number | undefined; atLeastMs?: number | undefined; reason: string } => {
  const cause = unwrap(error)
  if (APICallError.isInstance(cause)) {
    const status = cause.statusCode
    if (isContextOverflow(cause)) return { retry: false, reason: "context overflow" }
    const retry = status === undefined ? true : RETRYABLE_STATUS.has(status) || status >= 500
    const afterMs = retryAfterMs(cause.responseHeaders)
    const atLeastMs = status === 429 ? rateLimitResetMs(cause.responseHeaders) : undefined
    return {
      retry,
      afterMs,
      atLeastMs,
      reason: status === undefined ? "no HTTP answer" : `HTTP ${status}`,
    }
  }
  if (cause instanceof Error && NETWORK.test(cause.message)) return { retry: true, reason: cause.message }
  return { retry: false, reason: cause instanceof Error ? cause.message : String(cause) }
}

const durationMs = (value: string | undefined): number | undefined => {
  if (!value) return undefined
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== value) return undefined
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }
  return Math.round(parts.reduce((ms, [, n, u]) => ms + Number(n) * (unit[u as string] ?? 0), 0))
}

/**
 * OpenAI's rate-limit headers: when the request and token windows reset ("1s", "6m0s", "20ms").
 * OpenAI sends them on every answer, so they only mean something for a 429.
 */
export const rateLimitResetMs = (headers: Record<string, string> | undefined): number | undefined => {
  if (!headers) return undefined
  const resets = ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]
    .map((name) =>
      durationMs(
        Object.entries(headers)
          .find(([key]) => key.toLowerCase() === name)?.[1]
          ?.trim(),
      ),
    )
    .filter((value): value is number => value !== undefined)
  return resets.length > 0 ? Math.max(...resets) : undefined
}

/** `retry-after-ms` (ms), else `retry-after` (seconds, or an HTTP date), from response headers. */
export const retryAfterMs = (
  headers: Record<string, string> | undefined,
  now: () => number = Date.now,
): number | undefined => {
  if (!headers) return undefined
  const get = (name: string) =>
    Object.entries(headers)
      .find(([key]) => key.toLowerCase() === name)?.[1]
      ?.trim()
  const ms = get("retry-after-ms")
  if (ms !== undefined && ms !== "" && Number.isFinite(Number(ms))) return Math.max(0, Number(ms))
  const after = get("retry-after")
  if (after === undefined || after === "") return undefined
  if (Number.isFinite(Number(after))) return Math.max(0, Number(after) * 1000)
  const date = Date.parse(after)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now())
}

export const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason)
      return
    }
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener("abort", onAbort, { once: true })
  })

export const withModelRetries = async <T>(
  call: () => Promise<T>,
  signal: AbortSignal,
  options: RetryOptions = {},
): Promise<T> => {
  const maxRetries = options.maxRetries ?? DEFAULT_MODEL_RETRIES
  const base = options.baseDelayMs ?? 1000
  const maxDelay = options.maxDelayMs ?? 30_000
  const maxWait = options.maxWaitMs ?? 5 * 60_000
  const sleep = options.sleep ?? abortableSleep
  const random = options.random ?? Math.random
  let waited = 0
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call()
    } catch (error) {
      if (signal.aborted) throw error
      const advice = retryAdvice(error)
      if (!advice.retry || attempt > maxRetries) throw error
      const backoff = Math.min(maxDelay, base * 2 ** (attempt - 1)) * (0.5 + random() / 2)
      const delay = Math.round(Math.min(maxDelay, advice.afterMs ?? Math.max(backoff, advice.atLeastMs ?? 0)))
      if (waited + delay > maxWait) throw error
      waited += delay
      await options.onRetry?.({ attempt, delayMs: delay, reason: advice.reason })
      await sleep(delay, signal)
    }
  }
}
