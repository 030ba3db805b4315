import { APICallError } from "ai"
import { describe, expect, it } from "vitest"
import { isContextOverflow } from "#application/agent/model-errors.js"
import {
  rateLimitResetMs,
  retryAdvice,
  retryAfterMs,
  withModelRetries,
} from "#application/agent/model-retry.js"

const apiError = (statusCode: number, headers: Record<string, string> = {}, message = "busy") =>
  new APICallError({
    message,
    url: "http://127.0.0.1:9/v1/chat/completions",
    requestBodyValues: {},
    statusCode,
    responseHeaders: headers,
    responseBody: JSON.stringify({ error: { message } }),
  })

describe("model-call retries", () => {
  it("reads retry-after-ms, retry-after seconds and HTTP dates", () => {
    expect(retryAfterMs({ "retry-after-ms": "250" })).toBe(250)
    expect(retryAfterMs({ "Retry-After": "2" })).toBe(2000)
    const now = Date.parse("2026-12-06T08:00:00Z")
    expect(retryAfterMs({ "retry-after": "Sun, 06 Dec 2026 08:00:03 GMT" }, () => now)).toBe(3000)
    expect(retryAfterMs({ "retry-after": "soon" })).toBeUndefined()
    const limits = { "x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s" }
    expect(rateLimitResetMs(limits)).toBe(360_000)
    expect(rateLimitResetMs({ "x-ratelimit-reset-tokens": "20ms" })).toBe(20)
    expect(rateLimitResetMs({ "x-ratelimit-reset-tokens": "later" })).toBeUndefined()
    // only a 429 waits for the rate-limit window; OpenAI sends these headers on every answer
    expect(retryAdvice(apiError(429, limits)).atLeastMs).toBe(360_000)
    expect(retryAdvice(apiError(503, limits)).atLeastMs).toBeUndefined()
    expect(retryAfterMs(undefined)).toBeUndefined()
  })

  it("retries overloads and network failures, not refusals or context overflows", () => {
    for (const status of [408, 409, 429, 500, 503, 529])
      expect(retryAdvice(apiError(status)).retry).toBe(true)
    for (const status of [400, 401, 403, 404]) expect(retryAdvice(apiError(status)).retry).toBe(false)
    expect(retryAdvice(new TypeError("fetch failed")).retry).toBe(true)
    const overflow = apiError(
      400,
      {},
      "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
    )
    expect(isContextOverflow(overflow)).toBe(true)
    expect(retryAdvice(overflow)).toMatchObject({ retry: false, reason: "context overflow" })
    expect(isContextOverflow(apiError(400, {}, "prompt is too long: 210000 tokens > 200000 maximum"))).toBe(
      true,
    )
    expect(isContextOverflow(apiError(400, {}, "tools[0].function.name is invalid"))).toBe(false)
  })

  it("waits with capped exponential backoff, honours retry-after, and stops at maxRetries", async () => {
    const waits: number[] = []
    let calls = 0
    const error = await withModelRetries(
      async () => {
        calls += 1
        throw apiError(529, calls === 2 ? { "retry-after": "7" } : {})
      },
      new AbortController().signal,
      {
        maxRetries: 4,
        baseDelayMs: 100,
        maxDelayMs: 5_000,
        random: () => 1,
        sleep: async (ms) => void waits.push(ms),
      },
    ).catch((e: unknown) => e)
    expect(APICallError.isInstance(error)).toBe(true)
    expect(calls).toBe(5)
    // 100, retry-after 7 s cut to the 5 s cap, 400, 800
    expect(waits).toEqual([100, 5_000, 400, 800])
  })

  it("gives up when the waits would pass the time cap, and an abort ends a wait at once", async () => {
    let calls = 0
    await expect(
      withModelRetries(
        async () => {
          calls += 1
          throw apiError(429, { "retry-after": "60" })
        },
        new AbortController().signal,
        { maxWaitMs: 45_000, sleep: async () => {} },
      ),
    ).rejects.toThrow("busy")
    expect(calls).toBe(2)

    const controller = new AbortController()
    const started = Date.now()
    setTimeout(() => controller.abort(new Error("cancelled")), 50)
    await expect(
      withModelRetries(async () => {
        throw apiError(503, { "retry-after": "30" })
      }, controller.signal),
    ).rejects.toThrow("cancelled")
    expect(Date.now() - started).toBeLessThan(2_000)
  })
})
