import type { ModelMessage, SystemModelMessage } from "ai"
import type { ModelHandle } from "../ports/model.js"

/**
 * Prompt caching where the provider needs to be asked: Anthropic caches a prefix up to each
 * `cache_control` breakpoint (at most four per request). The system prompt and the task are marked
 * once; the newest message is marked on every step, so the next step reads the whole conversation
 * so far from the cache instead of paying for it again. OpenAI caches long prefixes on its own;
 * OpenAI-compatible servers differ, so nothing is sent to them.
 */
export const cacheBreakpoint = (model: ModelHandle): ModelMessage["providerOptions"] =>
  model.provider.startsWith("anthropic") ? { anthropic: { cacheControl: { type: "ephemeral" } } } : undefined

const marked = <T extends ModelMessage>(message: T, providerOptions: ModelMessage["providerOptions"]): T => ({
  ...message,
  providerOptions: { ...message.providerOptions, ...providerOptions },
})

/** The system prompt, with a breakpoint where that pays off. */
export const cachedSystem = (model: ModelHandle, system: string): SystemModelMessage => {
  const providerOptions = cacheBreakpoint(model)
  return { role: "system", content: system, ...(providerOptions ? { providerOptions } : {}) }
}

/**
 * A copy of the messages of one request with breakpoints on the last opening message (the task,
 * `taskCount` messages in) and on the newest message.
 */
export const withCacheBreakpoints = (
  model: ModelHandle,
  messages: readonly ModelMessage[],
  taskCount: number,
): ModelMessage[] => {
  const providerOptions = cacheBreakpoint(model)
  if (!providerOptions || messages.length === 0) return [...messages]
  const task = Math.min(messages.length, Math.max(1, taskCount)) - 1
  return messages.map((message, index) =>
    index === task || index === messages.length - 1 ? marked(message, providerOptions) : message,
  )
}

/** The system prompt and the opening task, with cache breakpoints where they pay off. */
export const cachedPrompt = (
  model: ModelHandle,
  system: string,
  task: string,
): { system: SystemModelMessage; messages: ModelMessage[] } => ({
  system: cachedSystem(model, system),
  messages: withCacheBreakpoints(model, [{ role: "user", content: task }], 1),
})
