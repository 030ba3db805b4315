/**
 * One script per conversation for the scripted model server's `answer` hook, so many runs at once
 * (in several worker processes) each play their own script. The script is picked from the request
 * itself (e.g. by the repository and issue the first user message names, and the tools offered:
 * `submit_plan` while planning, `submit` while coding), and the step played is the turn the
 * conversation has reached (how many assistant messages it already holds). The server keeps no state
 * per run: a run retried from the start on another worker plays its script from the start again.
 * Chat Completions requests only (the Responses API's `input` is not read).
 */
import type { ChatRequest, ScriptStep } from "./scripted-model-server.js"

const textOf = (content: unknown): string => {
  if (typeof content === "string") return content
  if (Array.isArray(content))
    return content
      .map((part) =>
        typeof part === "object" && part !== null && "text" in part
          ? String((part as { text: unknown }).text)
          : "",
      )
      .join("")
  return ""
}

/** the text of the conversation's first user message ("" when there is none) */
export const firstUserText = (body: ChatRequest): string =>
  textOf((body.messages ?? []).find((message) => message.role === "user")?.content)

/**
 * The repository and issue a prwright agent conversation is about, read from its first user message
 * (`Repository: owner/name (…)` and `Issue: #N`, as the planning and coding prompts write them).
 */
export const issueOf = (body: ChatRequest): { repo: string; issue: number } | undefined => {
  const text = firstUserText(body)
  const repo = /^Repository: (\S+)/m.exec(text)?.[1]
  const issue = /^Issue: #(\d+)/m.exec(text)?.[1]
  return repo && issue ? { repo, issue: Number(issue) } : undefined
}

/** the names of the tools the request offers */
export const offeredTools = (body: ChatRequest): string[] =>
  (body.tools ?? []).map((tool) => tool.function?.name).filter((name): name is string => Boolean(name))

/** how many turns the model has already taken in this conversation */
export const turnOf = (body: ChatRequest): number =>
  (body.messages ?? []).filter((message) => message.role === "assistant").length

/**
 * An `answer` hook that plays `pick(body)`'s script at the conversation's turn. When `pick` returns
 * nothing, or the conversation has gone past its script's end, the request falls through to the
 * server's own script (an empty one records "script exhausted" in `errors`, so a drift fails loudly).
 */
export const perConversation =
  (pick: (body: ChatRequest) => ScriptStep[] | undefined) =>
  (body: ChatRequest): ScriptStep | undefined =>
    pick(body)?.[turnOf(body)]
