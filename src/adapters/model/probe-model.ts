import type { ModelProvider } from "./ai-sdk-model.js"

/**
 * A reachability check of the configured LLM API that costs no tokens: the provider's model list.
 * It says whether the key is accepted and whether LLM_MODEL is offered (when the list says so).
 */
export const probeModel = async (options: {
  provider: ModelProvider
  baseURL?: string
  apiKey?: string
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
    return {
      ok: false,
      detail: `${base} does not offer model ${options.model}: set LLM_MODEL to one of ${ids.slice(0, 8).join(", ")}${ids.length > 8 ? ", …" : ""}`,
    }
  }
  return { ok: true, detail: `${options.provider} at ${base}, model ${options.model}` }
}
