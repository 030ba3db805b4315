/**
 * Anthropic's Messages API wire format for tests of the AI SDK's anthropic provider: a recording
 * fetch (every request's URL and JSON body, answered by `answer`) and the answer a message takes.
 */

/** A fetch that records each request and answers it with `answer(url, body)` as JSON. */
export const recordingFetch = (answer: (url: string, body: Record<string, unknown>) => unknown) => {
  const seen: Array<{ url: string; body: Record<string, unknown> }> = []
  const fetchDouble = async (input: string | URL | Request, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body ?? "{}")) as Record<string, unknown>
    seen.push({ url: String(input), body })
    return Response.json(answer(String(input), body))
  }
  return { seen, fetch: fetchDouble as typeof fetch }
}

/**
 * One assistant message from claude-sonnet-4-5 holding `content` (text, tool_use, thinking blocks);
 * it stops for a tool when it holds a tool_use block, else at the end of its turn.
 */
export const anthropicMessage = (
  content: Array<Record<string, unknown>>,
  options: { id?: string; usage?: Record<string, number> } = {},
) => ({
  id: options.id ?? "msg_1",
  type: "message",
  role: "assistant",
  model: "claude-sonnet-4-5",
  content,
  stop_reason: content.some((block) => block.type === "tool_use") ? "tool_use" : "end_turn",
  stop_sequence: null,
  usage: options.usage ?? { input_tokens: 12, output_tokens: 5 },
})
