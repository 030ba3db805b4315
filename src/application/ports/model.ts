/** The model port is the AI SDK's own `LanguageModel`: we do not wrap the LLM twice. */
import type { LanguageModel } from "ai"

export interface ModelHandle {
  model: LanguageModel
  provider: string
  modelId: string
  /** USD per million tokens; undefined when the model is not in the price table */
  pricing?: { inputPerMillion: number; outputPerMillion: number }
}
