import type { ModelProvider } from "./ai-sdk-model.js"

/**
 * A reachability check of the configured LLM API that costs no tokens: the provider's model list.
 * It says whether the key is accepted and whether LLM_MODEL is offered (when the list says so).
 */
export const probeModel = async (options: {
  provider: ModelProvider
  baseURL?: string | undefined
  apiKey?: string | undefined
  model: string
  fetch?: typeof fetch
  timeoutMs?: number
}): Promise<{ ok: boolean; detail: string }> => {
  const doFetch = options.fetch ?? fetch
  const base = (
    options.baseURL ??
    (options.provider === "anthropic" ? "https://api.anthropic.com/v1" : "https://api.openai.com/v1")
  ).replace(/\/+$/, "")
  const headers: Record<string, string> =
    options.provider === "anthropic"
      ? { "x-api-key": options.apiKey ?? "", "anthropic-version": "2023-06-01" }
      : options.apiKey
        ? { authorization: `Bearer ${options.apiKey}` }
        : {}
  let response: Response
  try {
    response = await doFetch(`${base}/models`, {
      headers,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    })
  } catch (error) {
    return {
      ok: false,
      detail: `cannot reach ${base} (${(error as Error).message}): check LLM_BASE_URL and the network`,
    }
  }
  if (response.status === 401 || response.status === 403) {
    return { ok: false, detail: `${base} refused the API key (${response.status}): check LLM_API_KEY` }
  }
  if (!response.ok) return { ok: false, detail: `${base}/models answered ${response.status}` }
  const body = (await response.json().catch(() => ({}))) as { data?: Array<{ id?: string }> }
  const ids = (body.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === "string")
  if (ids.length > 0 && !ids.includes(options.model)) {
    // Proxies and gateways (LiteLLM, OpenRouter, Azure deployments) serve aliases their list omits:
    // one 1-token request tells an alias that works from a model that is not there.
    const answer = await tryModel(doFetch, base, headers, options)
    if (answer.ok)
      return {
        ok: true,
        detail: `${options.provider} at ${base}, model ${options.model} (answers, though ${base}/models does not list it: an alias)`,
      }
    return {
      ok: false,
      detail: `${base} does not offer model ${options.model}: set LLM_MODEL to one of ${ids.slice(0, 8).join(", ")}${ids.length > 8 ? ", …" : ""} (a 1-token request answered ${answer.why})`,
    }
  }
  return { ok: true, detail: `${options.provider} at ${base}, model ${options.model}` }
}

/** A 1-token request to the model: does it answer at all? */
const tryModel = async (
  doFetch: typeof fetch,
  base: string,
  headers: Record<string, string>,
  options: { provider: string; model: string; timeoutMs?: number },
): Promise<{ ok: true } | { ok: false; why: string }> => {
  const anthropic = options.provider === "anthropic"
  try {
    const response = await doFetch(`${base}/${anthropic ? "messages" : "chat/completions"}`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({
        model: options.model,
        max_tokens: 1,
        messages: [{ role: "user", content: "Reply with OK." }],
      }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    })
    if (response.ok) return { ok: true }
    const body = (await response.json().catch(() => ({}))) as { error?: { message?: unknown } }
    const message = typeof body.error?.message === "string" ? `: ${body.error.message.slice(0, 160)}` : ""
    return { ok: false, why: `${response.status}${message}` }
  } catch (error) {
    return { ok: false, why: (error as Error).message }
  }
}
