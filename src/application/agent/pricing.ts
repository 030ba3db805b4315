/**
 * List prices of well-known models, USD per million tokens (input / output, no caching discounts),
 * so a run can report and bound what it spent. Unknown models cost 0 and say so (pricing undefined):
 * better an honest "unknown" than a made-up number.
 */
export interface ModelPricing {
  inputPerMillion: number
  outputPerMillion: number
}

const price = (inputPerMillion: number, outputPerMillion: number): ModelPricing => ({
  inputPerMillion,
  outputPerMillion,
})

const PRICES: Record<string, ModelPricing> = {
  // OpenAI
  "gpt-4o": price(2.5, 10),
  "gpt-4o-mini": price(0.15, 0.6),
  "gpt-4.1": price(2, 8),
  "gpt-4.1-mini": price(0.4, 1.6),
  "gpt-4.1-nano": price(0.1, 0.4),
  o3: price(2, 8),
  "o3-mini": price(1.1, 4.4),
  "o4-mini": price(1.1, 4.4),
  "gpt-5": price(1.25, 10),
  "gpt-5-mini": price(0.25, 2),
  "gpt-5-nano": price(0.05, 0.4),
  // Anthropic
  "claude-opus-4-0": price(15, 75),
  "claude-opus-4-1": price(15, 75),
  "claude-opus-4-5": price(5, 25),
  "claude-sonnet-4-0": price(3, 15),
  "claude-sonnet-4-5": price(3, 15),
  "claude-3-7-sonnet": price(3, 15),
  "claude-haiku-4-5": price(1, 5),
  "claude-3-5-haiku": price(0.8, 4),
}

/**
 * Normalises the ids providers and proxies use for the same model: `openai/gpt-4o` (OpenRouter),
 * dated snapshots (`gpt-4.1-2025-04-14`, `claude-sonnet-4-20250514`), `-latest` aliases.
 */
const canonical = (modelId: string): string =>
  modelId
    .toLowerCase()
    .replace(/^.*\//, "")
    .replace(/-latest$/, "")
    .replace(/-\d{4}-\d{2}-\d{2}$/, "")
    .replace(/-\d{8}$/, "")
    .replace(/^claude-(opus|sonnet)-4$/, "claude-$1-4-0")

export const pricingFor = (modelId: string): ModelPricing | undefined => PRICES[canonical(modelId)]

/** Cost in USD, rounded to a millionth of a dollar; 0 when the price is unknown. */
export const costOf = (
  pricing: ModelPricing | undefined,
  usage: { inputTokens: number; outputTokens: number },
): number => {
  if (!pricing) return 0
  const cost =
    (usage.inputTokens * pricing.inputPerMillion + usage.outputTokens * pricing.outputPerMillion) / 1e6
  return Math.round(cost * 1e6) / 1e6
}
