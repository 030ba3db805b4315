/**
 * Builds the AI SDK `LanguageModel` the configuration asks for. The model port *is* the AI SDK's
 * LanguageModel (see ModelHandle in ports.ts): this file only picks the provider package, the model id
 * and the price, it does not wrap the model.
 */
import { createAnthropic } from "@ai-sdk/anthropic"
import { createOpenAI } from "@ai-sdk/openai"
import { createOpenAICompatible } from "@ai-sdk/openai-compatible"
import { pricingFor } from "#application/agent/pricing.js"
import type { ModelHandle } from "#application/ports/model.js"
import { ConfigError } from "#domain/errors.js"

export const MODEL_PROVIDERS = ["openai", "anthropic", "openai-compatible"] as const
export type ModelProvider = (typeof MODEL_PROVIDERS)[number]

/** Used when LLM_MODEL is unset. OpenAI-compatible servers (Ollama, vLLM, OpenRouter…) have no common default. */
export const DEFAULT_MODELS: Record<Exclude<ModelProvider, "openai-compatible">, string> = {
  openai: "gpt-5",
  anthropic: "claude-sonnet-4-5",
}

export interface ModelHandleOptions {
  provider: ModelProvider
  model?: string
  baseURL?: string
  apiKey?: string
  fetch?: typeof fetch
  headers?: Record<string, string>
}

const checkBaseUrl = (baseURL: string | undefined): string | undefined => {
  if (baseURL === undefined) return undefined
  let url: URL
  try {
    url = new URL(baseURL)
  } catch {
    throw new ConfigError(
      `LLM_BASE_URL is not a valid URL (${JSON.stringify(baseURL)}): use the API root, e.g. http://localhost:11434/v1`,
    )
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(
      `LLM_BASE_URL must be an http(s) URL, e.g. https://api.openai.com/v1 (got ${url.protocol})`,
    )
  }
  // A trailing slash would produce `…/v1//chat/completions`, which some servers refuse.
  return baseURL.replace(/\/+$/, "")
}

const requireKey = (provider: string, apiKey: string | undefined, variable: string): string => {
  if (apiKey) return apiKey
  throw new ConfigError(
    `no API key for LLM_PROVIDER=${provider}: set LLM_API_KEY (or ${variable}) in the environment or .env`,
  )
}

export const createModelHandle = (options: ModelHandleOptions): ModelHandle => {
  const baseURL = checkBaseUrl(options.baseURL)
  const common = { fetch: options.fetch, headers: options.headers }

  switch (options.provider) {
    case "openai": {
      const modelId = options.model || DEFAULT_MODELS.openai
      const provider = createOpenAI({
        ...common,
        baseURL,
        apiKey: requireKey("openai", options.apiKey, "OPENAI_API_KEY"),
      })
      // `.chat()` (Chat Completions) rather than the default Responses API: proxies, gateways and
      // LLM_BASE_URL targets almost all speak Chat Completions, few speak Responses.
      return { model: provider.chat(modelId), provider: "openai", modelId, pricing: pricingFor(modelId) }
    }
    case "anthropic": {
      const modelId = options.model || DEFAULT_MODELS.anthropic
      const provider = createAnthropic({
        ...common,
        baseURL,
        apiKey: requireKey("anthropic", options.apiKey, "ANTHROPIC_API_KEY"),
      })
      return { model: provider(modelId), provider: "anthropic", modelId, pricing: pricingFor(modelId) }
    }
    case "openai-compatible": {
      if (!baseURL) {
        throw new ConfigError(
          "LLM_BASE_URL is required when LLM_PROVIDER=openai-compatible: set it to the server's API root, e.g. http://localhost:11434/v1 (Ollama) or https://openrouter.ai/api/v1",
        )
      }
      if (!options.model) {
        throw new ConfigError(
          "LLM_MODEL is required when LLM_PROVIDER=openai-compatible: set it to a model id the server offers (its GET /v1/models lists them)",
        )
      }
      const provider = createOpenAICompatible({
        ...common,
        name: "openai-compatible",
        baseURL,
        // local servers (Ollama, LM Studio) often need no key at all
        apiKey: options.apiKey || undefined,
        // ask for usage in streamed answers too, so cost accounting works when streaming
        includeUsage: true,
      })
      const modelId = options.model
      return {
        model: provider.chatModel(modelId),
        provider: "openai-compatible",
        modelId,
        pricing: pricingFor(modelId),
      }
    }
    default: {
      const provider: never = options.provider
      throw new ConfigError(
        `unknown LLM_PROVIDER ${JSON.stringify(provider)}: use one of ${MODEL_PROVIDERS.join(", ")}`,
      )
    }
  }
}
