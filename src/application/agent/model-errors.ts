/**
 * Turns what the AI SDK throws into the typed errors the job queue understands: a refused key or an
 * unknown model is permanent, a rate limit or an outage passes. Messages name the setting to fix and
 * never carry the key (the provider's own 401 text may echo part of it, so it is not quoted).
 */
import { APICallError, RetryError } from "ai"
import { CancelledError, NonRetryableError, PrwrightError, RetryableError } from "#domain/errors.js"

const KEY_VARIABLES: Record<string, string> = {
  openai: "LLM_API_KEY/OPENAI_API_KEY",
  anthropic: "LLM_API_KEY/ANTHROPIC_API_KEY",
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host
  } catch {
    return "the provider"
  }
}

const short = (text: string): string => (text.length > 300 ? `${text.slice(0, 300)}…` : text)

const OVERFLOW =
  /context[_ ]length[_ ]exceeded|maximum context length|context window|prompt is too long|too many (input )?tokens|input is too long|exceeds? the (model's )?(maximum|context)|request too large for model|reduce the length of the messages/i

/**
 * The provider refused the request because the conversation no longer fits the model's context
 * window (OpenAI `context_length_exceeded`, Anthropic "prompt is too long", vLLM/Ollama wording).
 * The agent condenses and goes on instead of failing.
 */
export const isContextOverflow = (error: unknown): boolean => {
  const cause = RetryError.isInstance(error) ? (error.lastError ?? error) : error
  if (!APICallError.isInstance(cause)) return false
  const status = cause.statusCode
  if (status !== undefined && status !== 400 && status !== 413 && status !== 422) return false
  return OVERFLOW.test(`${cause.message} ${cause.responseBody ?? ""}`)
}

export const toModelError = (
  error: unknown,
  context: { signal: AbortSignal; provider: string; modelId: string },
): Error => {
  if (context.signal.aborted) return new CancelledError()
  if (error instanceof PrwrightError) return error
  // The SDK's own retries (on 429/5xx) wrap the last failure; classify that one.
  const cause = RetryError.isInstance(error) ? (error.lastError ?? error) : error
  if (APICallError.isInstance(cause)) {
    const status = cause.statusCode
    const host = hostOf(cause.url)
    if (status === 401 || status === 403) {
      const variables = KEY_VARIABLES[context.provider] ?? "LLM_API_KEY"
      return new NonRetryableError(
        `the LLM provider refused the API key (HTTP ${status} from ${host}): check ${variables} (LLM_API_KEY wins when set) and that the key is valid for LLM_BASE_URL and has access to model ${context.modelId}`,
        { cause, code: status === 401 ? "unauthorized" : "forbidden" },
      )
    }
    if (status === 404) {
      return new NonRetryableError(
        `the LLM provider does not know model ${context.modelId} or the API path (HTTP 404 from ${host}): check LLM_MODEL and LLM_BASE_URL (OpenAI-compatible servers need the …/v1 root)`,
        { cause, code: "not_found" },
      )
    }
    if (status === 429) {
      return new RetryableError(
        `the LLM provider is rate limiting requests (HTTP 429 from ${host}): the run will be retried; lower worker concurrency or raise the provider's limits if this persists`,
        { cause, code: "rate_limited" },
      )
    }
    if (status === undefined || status >= 500 || status === 408 || status === 409 || cause.isRetryable) {
      return new RetryableError(
        `the LLM provider failed (${status === undefined ? "no HTTP answer" : `HTTP ${status}`} from ${host}): ${short(cause.message)}; the run will be retried`,
        { cause },
      )
    }
    if (isContextOverflow(cause)) {
      return new NonRetryableError(
        `the conversation no longer fits model ${context.modelId}'s context window, even after condensing (HTTP ${status} from ${host}): ${short(cause.message)}; set its contextWindow in PRWRIGHT_MODEL_PRICES, or use a model with a larger window (LLM_MODEL)`,
        { cause, code: "invalid_input" },
      )
    }
    const aboutTools = /tool|function/i.test(`${cause.message} ${cause.responseBody ?? ""}`)
    return new NonRetryableError(
      `the LLM provider rejected the request (HTTP ${status} from ${host}): ${short(cause.message)}${aboutTools ? "; check LLM_MODEL supports tool calling" : ""}`,
      { cause, code: "invalid_input" },
    )
  }
  if (
    cause instanceof Error &&
    /fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket/i.test(cause.message)
  ) {
    return new RetryableError(
      `could not reach the LLM provider (${short(cause.message)}): check LLM_BASE_URL and the network; the run will be retried`,
      { cause },
    )
  }
  return new RetryableError(
    `the model call failed: ${short(cause instanceof Error ? cause.message : String(cause))}`,
    { cause },
  )
}
