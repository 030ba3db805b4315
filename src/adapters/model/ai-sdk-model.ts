/**
 * Builds the AI SDK `LanguageModel` the configuration asks for. The model port *is* the AI SDK's
 * LanguageModel (see ModelHandle in ports.ts): this file only picks the provider package, the model id
 * and the price, it does not wrap the model.
 */
import { createAnthropic } from "@ai-sdk/anthropic"
import { createOpenAI } from "@ai-sdk/openai"
import { createOpenAICompatible } from "@ai-sdk/openai-compatible"
import type { ModelHandle } from "#application/ports/model.js"
import { ConfigError } from "#domain/errors.js"
import { DEFAULT_CONTEXT_WINDOW, type ModelTableOverrides, modelInfo } from "#domain/model-table.js"

export const MODEL_PROVIDERS = ["openai", "anthropic", "openai-compatible"] as const
export type ModelProvider = (typeof MODEL_PROVIDERS)[number]

/** Used when LLM_MODEL is unset. OpenAI-compatible servers (Ollama, vLLM, OpenRouter…) have no common default. */
export const DEFAULT_MODELS: Record<Exclude<ModelProvider, "openai-compatible">, string> = {
  openai: "gpt-5",
  anthropic: "claude-sonnet-4-5",
}

export const REASONING_EFFORTS = ["minimal", "low", "medium", "high"] as const
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number]

export interface ModelHandleOptions {
  provider: ModelProvider
  model?: string | undefined
  baseURL?: string | undefined
  apiKey?: string | undefined
  fetch?: typeof fetch | undefined
  headers?: Record<string, string>
  /** PRWRIGHT_MODEL_PRICES: prices, context windows and reasoning support beside the built-in table */
  modelTable?: ModelTableOverrides | undefined
  /** PRWRIGHT_ALLOW_UNPRICED=1: a cost cap may run over a model without a price */
  allowUnpriced?: boolean | undefined
  /** LLM_REASONING_EFFORT: OpenAI reasoning models only */
  reasoningEffort?: ReasoningEffort | undefined
  /** LLM_THINKING_BUDGET: Anthropic extended thinking with this many thinking tokens (≥ 1024) */
  thinkingBudgetTokens?: number | undefined
  /**
   * LLM_OPENAI_API: which OpenAI API to call. Default: the Responses API for reasoning models on
   * OpenAI itself (it keeps the reasoning between tool calls), Chat Completions otherwise (proxies
   * and LLM_BASE_URL targets almost all speak it).
   */
  openaiApi?: "responses" | "chat" | undefined
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

const isOpenAiItself = (baseURL: string | undefined): boolean =>
  baseURL === undefined || /^https:\/\/api\.openai\.com(\/|$)/.test(baseURL)

/** the table's facts and the operator's options for one model, as the handle carries them */
const describe = (modelId: string, options: ModelHandleOptions) => {
  const info = modelInfo(modelId, options.modelTable)
  return {
    modelId,
    pricing: info?.pricing,
    contextWindow: info?.contextWindow ?? DEFAULT_CONTEXT_WINDOW,
    reasoning: info?.reasoning ?? false,
    ...(options.allowUnpriced ? { allowUnpriced: true } : {}),
  }
}

export const createModelHandle = (options: ModelHandleOptions): ModelHandle => {
  const baseURL = checkBaseUrl(options.baseURL)
  // the AI SDK's settings types take no present undefined: unset options are left out
  const common = {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(baseURL === undefined ? {} : { baseURL }),
  }
  if (options.thinkingBudgetTokens !== undefined && options.provider !== "anthropic") {
    throw new ConfigError(
      "LLM_THINKING_BUDGET is for LLM_PROVIDER=anthropic: unset it, or use LLM_REASONING_EFFORT for OpenAI",
    )
  }

  switch (options.provider) {
    case "openai": {
      const modelId = options.model || DEFAULT_MODELS.openai
      const provider = createOpenAI({
        ...common,
        apiKey: requireKey("openai", options.apiKey, "OPENAI_API_KEY"),
      })
      const facts = describe(modelId, options)
      // Chat Completions for proxies, gateways and most LLM_BASE_URL targets (few speak Responses);
      // the Responses API for OpenAI's reasoning models, which keeps their reasoning between tool calls.
      const api = options.openaiApi ?? (facts.reasoning && isOpenAiItself(baseURL) ? "responses" : "chat")
      const effort = options.reasoningEffort
      const providerOptions =
        api === "responses"
          ? // store: false keeps the conversation off OpenAI's servers; the SDK then carries the reasoning encrypted
            { openai: { store: false, ...(effort ? { reasoningEffort: effort } : {}) } }
          : effort
            ? { openai: { reasoningEffort: effort } }
            : undefined
      return {
        model: api === "responses" ? provider.responses(modelId) : provider.chat(modelId),
        provider: "openai",
        ...facts,
        providerOptions,
      }
    }
    case "anthropic": {
      const modelId = options.model || DEFAULT_MODELS.anthropic
      const provider = createAnthropic({
        ...common,
        apiKey: requireKey("anthropic", options.apiKey, "ANTHROPIC_API_KEY"),
      })
      const budget = options.thinkingBudgetTokens
      if (budget !== undefined && (!Number.isInteger(budget) || budget < 1024)) {
        throw new ConfigError(`LLM_THINKING_BUDGET must be a whole number of tokens ≥ 1024 (got ${budget})`)
      }
      return {
        model: provider(modelId),
        provider: "anthropic",
        ...describe(modelId, options),
        ...(budget !== undefined
          ? {
              reasoning: true,
              thinking: true,
              providerOptions: { anthropic: { thinking: { type: "enabled", budgetTokens: budget } } },
            }
          : {}),
      }
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
        ...(options.apiKey ? { apiKey: options.apiKey } : {}),

        // ask for usage in streamed answers too, so cost accounting works when streaming
        includeUsage: true,
      })
      const modelId = options.model
      return {
        model: provider.chatModel(modelId),
        provider: "openai-compatible",
        ...describe(modelId, options),
        ...(options.reasoningEffort
          ? { providerOptions: { "openai-compatible": { reasoningEffort: options.reasoningEffort } } }
          : {}),
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
