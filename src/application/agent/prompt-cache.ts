import type { ModelMessage, SystemModelMessage } from "ai"
import type { ModelHandle } from "../ports/model.js"

/**
 * Prompt caching where the provider needs to be asked: Anthropic caches a prefix up to each
 * `cache_control` breakpoint, so the system prompt and the task (issue, plan, baseline) are marked;
 * every later step re-sends them at a fraction of the price. OpenAI caches long prefixes on its own;
 * OpenAI-compatible servers differ, so nothing is sent to them.
 */
export const cacheBreakpoint = (model: ModelHandle): ModelMessage["providerOptions"] =>
  model.provider.startsWith("anthropic") ? { anthropic: { cacheControl: { type: "ephemeral" } } } : undefined

/** The system prompt and the opening task, with cache breakpoints where they pay off. */
export const cachedPrompt = (
  model: ModelHandle,
  system: string,
  task: string,
): { system: SystemModelMessage; messages: ModelMessage[] } => {
  const providerOptions = cacheBreakpoint(model)
  return {
    system: { role: "system", content: system, ...(providerOptions ? { providerOptions } : {}) },
    messages: [{ role: "user", content: task, ...(providerOptions ? { providerOptions } : {}) }],
  }
}
