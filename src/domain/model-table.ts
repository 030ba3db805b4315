/**
 * What prwright knows about well-known models: the context window, list prices (USD per million
 * tokens, with cache reads and writes at their own rates) and whether the model reasons (OpenAI's
 * reasoning models, Anthropic's extended thinking). The operator can add or correct entries
 * (PRWRIGHT_MODEL_PRICES, JSON or a file of it). An unknown model has no price: its cost is
 * reported as unknown, never as a made-up $0, and a cost cap cannot be enforced for it.
 */

export interface ModelPricing {
  inputPerMillion: number
  outputPerMillion: number
  /** cached input read back (OpenAI "cached_tokens", Anthropic cache reads); default: the input price */
  cacheReadPerMillion?: number
  /** input written to the cache (Anthropic cache_creation_input_tokens); default: the input price */
  cacheWritePerMillion?: number
}

export interface ModelInfo {
  /** tokens the model accepts per request, prompt and answer together */
  contextWindow: number
  pricing?: ModelPricing
  /** OpenAI reasoning model (Responses API keeps its reasoning between tool calls) or Anthropic extended thinking */
  reasoning: boolean
}

/** what an unknown model is assumed to accept; override with PRWRIGHT_MODEL_PRICES `contextWindow` */
export const DEFAULT_CONTEXT_WINDOW = 128_000

/** OpenAI: cached input at its discount, no charge for writing the cache */
const openai = (input: number, cached: number, output: number, contextWindow: number, reasoning = false) =>
  ({
    contextWindow,
    reasoning,
    pricing: {
      inputPerMillion: input,
      outputPerMillion: output,
      cacheReadPerMillion: cached,
      cacheWritePerMillion: input,
    },
  }) satisfies ModelInfo

/** Anthropic: cache reads at 10% of input, 5-minute cache writes at 125% */
const anthropic = (input: number, output: number, reasoning = true, contextWindow = 200_000) =>
  ({
    contextWindow,
    reasoning,
    pricing: {
      inputPerMillion: input,
      outputPerMillion: output,
      cacheReadPerMillion: Math.round(input * 0.1 * 1e4) / 1e4,
      cacheWritePerMillion: Math.round(input * 1.25 * 1e4) / 1e4,
    },
  }) satisfies ModelInfo

const MODELS: Record<string, ModelInfo> = {
  // OpenAI
  "gpt-4o": openai(2.5, 1.25, 10, 128_000),
  "gpt-4o-mini": openai(0.15, 0.075, 0.6, 128_000),
  "gpt-4.1": openai(2, 0.5, 8, 1_047_576),
  "gpt-4.1-mini": openai(0.4, 0.1, 1.6, 1_047_576),
  "gpt-4.1-nano": openai(0.1, 0.025, 0.4, 1_047_576),
  o3: openai(2, 0.5, 8, 200_000, true),
  "o3-mini": openai(1.1, 0.55, 4.4, 200_000, true),
  "o4-mini": openai(1.1, 0.275, 4.4, 200_000, true),
  "gpt-5": openai(1.25, 0.125, 10, 400_000, true),
  "gpt-5-mini": openai(0.25, 0.025, 2, 400_000, true),
  "gpt-5-nano": openai(0.05, 0.005, 0.4, 400_000, true),
  // Anthropic
  "claude-opus-4-0": anthropic(15, 75),
  "claude-opus-4-1": anthropic(15, 75),
  "claude-opus-4-5": anthropic(5, 25),
  "claude-sonnet-4-0": anthropic(3, 15),
  "claude-sonnet-4-5": anthropic(3, 15),
  "claude-3-7-sonnet": anthropic(3, 15),
  "claude-haiku-4-5": anthropic(1, 5),
  "claude-3-5-haiku": anthropic(0.8, 4, false),
}

/**
 * Normalises the ids providers and proxies use for the same model: `openai/gpt-4o` (OpenRouter),
 * dated snapshots (`gpt-4.1-2025-04-14`, `claude-sonnet-4-20250514`), `-latest` aliases.
 */
export const canonicalModelId = (modelId: string): string =>
  modelId
    .toLowerCase()
    .replace(/^.*\//, "")
    .replace(/-latest$/, "")
    .replace(/-\d{4}-\d{2}-\d{2}$/, "")
    .replace(/-\d{8}$/, "")
    .replace(/^claude-(opus|sonnet)-4$/, "claude-$1-4-0")

/** Operator entries (PRWRIGHT_MODEL_PRICES), by model id as configured. */
export type ModelTableOverrides = Record<string, Partial<ModelInfo>>

/** The table entry for a model, with the operator's overrides applied; undefined when nothing is known. */
export const modelInfo = (modelId: string, overrides: ModelTableOverrides = {}): ModelInfo | undefined => {
  const canonical = canonicalModelId(modelId)
  const base = MODELS[canonical]
  const extra = overrides[modelId] ?? overrides[canonical]
  if (!base && !extra) return undefined
  return {
    contextWindow: extra?.contextWindow ?? base?.contextWindow ?? DEFAULT_CONTEXT_WINDOW,
    reasoning: extra?.reasoning ?? base?.reasoning ?? false,
    ...((extra?.pricing ?? base?.pricing)
      ? { pricing: { ...base?.pricing, ...extra?.pricing } as ModelPricing }
      : {}),
  }
}

export const pricingFor = (modelId: string, overrides?: ModelTableOverrides): ModelPricing | undefined =>
  modelInfo(modelId, overrides)?.pricing

export interface TokenUsage {
  /** all input tokens, cached ones included (the AI SDK's `inputTokens`) */
  inputTokens: number
  outputTokens: number
  /** of inputTokens: read from the provider's cache */
  cacheReadTokens?: number
  /** of inputTokens: written to the provider's cache */
  cacheWriteTokens?: number
}

/**
 * Cost in USD, rounded to a millionth of a dollar: uncached input, cache reads and cache writes each
 * at their own rate. 0 when the price is unknown: callers report that as "unknown" (see `pricing`).
 */
export const costOf = (pricing: ModelPricing | undefined, usage: TokenUsage): number => {
  if (!pricing) return 0
  const read = Math.max(0, usage.cacheReadTokens ?? 0)
  const write = Math.max(0, usage.cacheWriteTokens ?? 0)
  const plain = Math.max(0, usage.inputTokens - read - write)
  const cost =
    (plain * pricing.inputPerMillion +
      read * (pricing.cacheReadPerMillion ?? pricing.inputPerMillion) +
      write * (pricing.cacheWritePerMillion ?? pricing.inputPerMillion) +
      usage.outputTokens * pricing.outputPerMillion) /
    1e6
  return Math.round(cost * 1e6) / 1e6
}

const PRICE_FIELDS = {
  input: "inputPerMillion",
  output: "outputPerMillion",
  cacheRead: "cacheReadPerMillion",
  cacheWrite: "cacheWritePerMillion",
} as const

/**
 * Parses PRWRIGHT_MODEL_PRICES: `{"model-id": {"input": 0.5, "output": 1.5, "cacheRead": 0.05,
 * "cacheWrite": 0.6, "contextWindow": 32768, "reasoning": false}}` (prices in USD per million tokens).
 * Throws an Error naming the entry and field at fault.
 */
export const parseModelTableOverrides = (
  text: string,
  source = "PRWRIGHT_MODEL_PRICES",
): ModelTableOverrides => {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new Error(
      `${source} is not valid JSON (${(error as Error).message}): e.g. {"my-model": {"input": 0.5, "output": 1.5}}`,
    )
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new Error(
      `${source} must be a JSON object of model id → {input, output, cacheRead?, cacheWrite?, contextWindow?, reasoning?}`,
    )
  const out: ModelTableOverrides = {}
  for (const [id, entry] of Object.entries(raw as Record<string, unknown>)) {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry))
      throw new Error(`${source}["${id}"] must be an object such as {"input": 0.5, "output": 1.5}`)
    const fields = entry as Record<string, unknown>
    const info: Partial<ModelInfo> = {}
    const pricing: Partial<ModelPricing> = {}
    for (const [key, value] of Object.entries(fields)) {
      if (key in PRICE_FIELDS) {
        if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
          throw new Error(
            `${source}["${id}"].${key} must be a price in USD per million tokens (a number ≥ 0)`,
          )
        pricing[PRICE_FIELDS[key as keyof typeof PRICE_FIELDS]] = value
      } else if (key === "contextWindow") {
        if (typeof value !== "number" || !Number.isInteger(value) || value < 1024)
          throw new Error(`${source}["${id}"].contextWindow must be a whole number of tokens ≥ 1024`)
        info.contextWindow = value
      } else if (key === "reasoning") {
        if (typeof value !== "boolean") throw new Error(`${source}["${id}"].reasoning must be true or false`)
        info.reasoning = value
      } else {
        throw new Error(
          `${source}["${id}"] has an unknown field "${key}": use input, output, cacheRead, cacheWrite, contextWindow, reasoning`,
        )
      }
    }
    if (Object.keys(pricing).length > 0) {
      if (pricing.inputPerMillion === undefined || pricing.outputPerMillion === undefined)
        throw new Error(`${source}["${id}"] needs both "input" and "output" prices when it sets a price`)
      info.pricing = pricing as ModelPricing
    }
    out[id] = info
  }
  return out
}

/** "unknown (model X has no price; set PRWRIGHT_MODEL_PRICES)": a cost that cannot be known, and the fix */
export const unknownCost = (modelId: string): string =>
  `unknown (model ${modelId} has no price; set PRWRIGHT_MODEL_PRICES)`

/** The one way a cost is written for people: "$0.1234", or unknown naming the model and the fix. */
export const costText = (usage: { costUsd: number; unpricedModel?: string | undefined }): string =>
  usage.unpricedModel === undefined
    ? `$${usage.costUsd.toFixed(4)}`
    : `cost: ${unknownCost(usage.unpricedModel)}`

/**
 * Why a run under a cost cap cannot start on a model without a price: the cap could not bind. Names
 * both fixes; token caps still apply either way.
 */
export const unpricedRefusal = (modelId: string, maxCostUsd: number): string =>
  `model ${modelId} has no price in prwright's model table, so the cost limit ($${maxCostUsd}) cannot be enforced: add its price to PRWRIGHT_MODEL_PRICES (e.g. {"${modelId}": {"input": 0.5, "output": 1.5}}, USD per million tokens), or set PRWRIGHT_ALLOW_UNPRICED=1 to run without a cost limit (token limits still apply)`
