/**
 * The agent test harness: a real git checkout in a temp directory per test, the scripted model server
 * (real HTTP, the OpenAI wire format) and a model handle on it, and the coding and planning agents
 * wired to both with a shell sandbox and an event list. `agentHarness` registers the hooks that
 * make and remove the checkout and close the servers; tests script the model and call the agents.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, afterEach, beforeEach } from "vitest"
import { createModelHandle, type ModelHandleOptions } from "#adapters/model/ai-sdk-model.js"
import { type CodingAgentOptions, runCodingAgent } from "#application/agent/coding-agent.js"
import { type PlanningAgentOptions, runPlanningAgent } from "#application/agent/planning-agent.js"
import type { GitHubIssue } from "#application/ports/github.js"
import type { ModelHandle } from "#application/ports/model.js"
import type { Checkout } from "#application/ports/workspace.js"
import type { RunEventData } from "#domain/run-event.js"
import {
  type ScriptedModelServer,
  type ScriptStep,
  startScriptedModelServer,
} from "../doubles/scripted-model-server.js"
import { createShellSandbox } from "../doubles/shell-sandbox.js"
import { createTempCheckout } from "../doubles/temp-checkout.js"

/** An open issue on `repo` (default octo/calc) by "someone"; the rest of `fields` overrides. */
export const openIssue = (
  fields: Pick<GitHubIssue, "number" | "title" | "body"> & Partial<GitHubIssue>,
  repo = "octo/calc",
): GitHubIssue => ({
  state: "open",
  htmlUrl: `https://github.com/${repo}/issues/${fields.number}`,
  author: "someone",
  labels: [],
  isPullRequest: false,
  ...fields,
})

/**
 * One planning run on `model` over `checkout` for a stand-in issue (o/r#1 unless `extra` names
 * another), no in-agent retries, events dropped: for tests of what reaches the provider.
 */
export const planOnce = (model: ModelHandle, checkout: Checkout, extra: Partial<PlanningAgentOptions> = {}) =>
  runPlanningAgent({
    model,
    checkout,
    repoFullName: "o/r",
    issue: openIssue({ number: 1, title: "t", body: "b", author: "a" }, "o/r"),
    signal: new AbortController().signal,
    maxRetries: 0,
    onEvent: () => {},
    ...extra,
  })

/** Tool calls as the scripted model sends them. */
export const edit = (args: Record<string, unknown>) => ({
  name: "str_replace_based_edit_tool",
  arguments: args,
})
export const view = (file: string, range?: [number, number]) =>
  edit({ command: "view", path: file, ...(range ? { view_range: range } : {}) })
export const bash = (command: string, extra: Record<string, unknown> = {}) => ({
  name: "bash",
  arguments: { command, ...extra },
})

/** The body of the `index`th request the model server received (Chat Completions). */
export type ChatBody = {
  messages: Array<{ role: string; content: unknown; tool_call_id?: string }>
  tools: Array<{ function: { name: string } }>
  tool_choice?: unknown
}
export const bodyOf = (server: ScriptedModelServer, index: number): ChatBody => {
  const recorded = server.requests[index]
  if (!recorded) throw new Error(`the model server got no request #${index}`)
  return recorded.body as ChatBody
}
/** The tool results the model was shown in request `index`, oldest first. */
export const toolOutputs = (server: ScriptedModelServer, index: number): string[] =>
  bodyOf(server, index)
    .messages.filter((m) => m.role === "tool")
    .map((m) => String(m.content))

export type ServerOptions = Partial<Parameters<typeof startScriptedModelServer>[0]>
/** Overrides of the model handle (default: openai, gpt-4.1, the server's URL and the harness key). */
export type HandleOptions = Partial<ModelHandleOptions>

export interface AgentHarnessOptions {
  /** Prefix of the temp directory. */
  prefix: string
  /** Files of the checkout (made at `<dir>/repo`, one commit). */
  files: Record<string, string>
  /** The key the model server expects and the model handle sends. */
  apiKey: string
  issue: GitHubIssue
  repoFullName?: string
  /** The coding agent's step budget when a test names none. */
  maxSteps?: number
  /** Runs after the checkout is made, e.g. to plant files outside it. */
  prepare?: (dir: string, checkout: Checkout) => Promise<void>
}

/** Registers the hooks (a fresh checkout per test, servers closed after it) and returns the harness. */
export const agentHarness = (options: AgentHarnessOptions) => {
  const repoFullName = options.repoFullName ?? "octo/calc"
  let dir = ""
  let checkout: Checkout | undefined
  const servers: ScriptedModelServer[] = []
  const dirs: string[] = []
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), options.prefix))
    dirs.push(dir)
    checkout = await createTempCheckout(path.join(dir, "repo"), options.files)
    await options.prepare?.(dir, checkout)
  })
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()))
  })
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })
  const current = (): Checkout => {
    if (!checkout) throw new Error("the agent harness's checkout is made in beforeEach")
    return checkout
  }

  /**
   * Starts a model server with `script` and returns the coding agent (`code`) and the planning agent
   * (`plan`) on a model handle for it (gpt-4.1 over Chat Completions unless `handle` says otherwise).
   */
  const start = async (
    script: ScriptStep[],
    serverOptions: ServerOptions = {},
    handle: HandleOptions = {},
  ) => {
    const server = await startScriptedModelServer({ script, apiKey: options.apiKey, ...serverOptions })
    servers.push(server)
    const model = createModelHandle({
      provider: "openai",
      model: "gpt-4.1",
      baseURL: server.baseUrl,
      apiKey: options.apiKey,
      ...handle,
    })
    const events: RunEventData[] = []
    const onEvent = (event: RunEventData) => {
      events.push(event)
    }
    const sandbox = createShellSandbox()
    const controller = new AbortController()
    const code = (extra: Partial<CodingAgentOptions> = {}) =>
      runCodingAgent({
        model,
        checkout: current(),
        sandbox,
        repoFullName,
        issue: options.issue,
        budget: { maxSteps: options.maxSteps ?? 40 },
        signal: controller.signal,
        maxRetries: 0,
        onEvent,
        ...extra,
      })
    const plan = (extra: Partial<PlanningAgentOptions> = {}) =>
      runPlanningAgent({
        model,
        checkout: current(),
        repoFullName,
        issue: options.issue,
        signal: controller.signal,
        maxRetries: 0,
        onEvent,
        ...extra,
      })
    return { server, model, events, code, plan, sandbox, controller }
  }

  return {
    get dir() {
      return dir
    },
    get checkout() {
      return current()
    },
    start,
  }
}
