/** The model port is the AI SDK's own `LanguageModel`: we do not wrap the LLM twice. */
import type { LanguageModel } from "ai"

export interface ModelHandle {
  model: LanguageModel
  provider: string
  modelId: string
  /**
   * USD per million tokens (cache reads and writes at their own rates when known); undefined when the
   * model is not in the model table or PRWRIGHT_MODEL_PRICES: its cost is unknown, not $0
   */
  pricing?:
    | {
        inputPerMillion: number
        outputPerMillion: number
        cacheReadPerMillion?: number
        cacheWritePerMillion?: number
      }
    | undefined
  /** tokens per request the model accepts (the model table's, or the default for unknown models) */
  contextWindow?: number
  /** a reasoning model, or extended thinking is on */
  reasoning?: boolean
  /** Anthropic extended thinking is on: the provider refuses a forced tool choice */
  thinking?: boolean
  /** provider options sent with every call (reasoning effort, extended thinking) */
  providerOptions?: Record<string, Record<string, unknown>> | undefined
  /** the operator allows a cost cap over an unpriced model (PRWRIGHT_ALLOW_UNPRICED=1): token caps still apply */
  allowUnpriced?: boolean
}
