/**
 * One implementing run driven end to end for workflow tests: the GitHub flow (./github-flow.ts: the
 * GitHub double, the scripted model server, the real container) holding a small repository and its
 * issue, and helpers to start a run, wait for it and read what was pushed.
 */
import { runCodingAgent } from "#application/agent/coding-agent.js"
import type { Sandbox } from "#application/ports/sandbox.js"
import type { Coder } from "#application/workflows/resolve-issue.js"
import type { WorkflowRun } from "#domain/workflow-run.js"
import type { Container } from "#main/container.js"
import type { GitHubDouble } from "../doubles/github-double.js"
import type { ScriptedModelServer, ScriptStep } from "../doubles/scripted-model-server.js"
import { startGitHubFlow } from "./github-flow.js"
import { finished, waitForRun } from "./runs.js"

export const HARNESS_TOKEN = "ghp_harnessToken_0123456789abc"
export const HARNESS_KEY = "sk-harness-key-0123456789abcdef"

export const editor = (args: Record<string, unknown>): ScriptStep => ({
  toolCalls: [{ name: "str_replace_based_edit_tool", arguments: args }],
})
export const bash = (command: string, timeoutSeconds?: number): ScriptStep => ({
  toolCalls: [
    {
      name: "bash",
      arguments: { command, ...(timeoutSeconds ? { timeout_seconds: timeoutSeconds } : {}) },
    },
  ],
})
/** submit, then confirm after the review turn that shows the diff */
export const submitTwice = (title: string, summary = "Fixed."): ScriptStep[] => [
  { toolCalls: [{ name: "submit", arguments: { title, summary } }] },
  { toolCalls: [{ name: "submit", arguments: { title, summary } }] },
]

export interface Harness {
  github: GitHubDouble
  model: ScriptedModelServer
  container: Container
  issue: number
  repo: string
  dataDir: string
  /** the `Coder` options of every agent round, as the workflow passed them */
  coderCalls: Parameters<Coder>[0][]
  run(
    type?: "resolve-issue" | "auto-resolve-issue",
    options?: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<WorkflowRun>
  events(jobId: string): Promise<Array<Record<string, unknown>>>
  close(): Promise<void>
}

export const startHarness = async (input: {
  files: Record<string, string>
  issue: { title: string; body: string }
  script: ScriptStep[]
  env?: Record<string, string>
  sandbox?: Sandbox
  repo?: string
}): Promise<Harness> => {
  const repo = input.repo ?? "acme/project"
  const coderCalls: Parameters<Coder>[0][] = []
  const flow = await startGitHubFlow({
    prefix: "prwright-harness-",
    repos: { [repo]: input.files },
    script: input.script,
    workers: ["auto-resolve", "resolve"],
    login: "bot",
    token: HARNESS_TOKEN,
    apiKey: HARNESS_KEY,
    env: { PRWRIGHT_QUEUE_BACKOFF_MS: "20", ...input.env },
    overrides: (config) => ({
      ...(input.sandbox ? { sandbox: input.sandbox } : {}),
      coder: (options) => {
        coderCalls.push(options)
        return runCodingAgent({ ...options, maxRetries: 0, secrets: config.secrets })
      },
    }),
  })
  const { github, model, container, dataDir } = flow
  const issue = github.createIssue(repo, input.issue)
  return {
    github,
    model,
    container,
    issue,
    repo,
    dataDir,
    coderCalls,
    async run(type = "resolve-issue", options = {}, timeoutMs = 120_000) {
      const { jobId } = await container.requester.enqueue(
        type,
        { repoFullName: repo, issueNumber: issue, options },
        { source: "api" },
      )
      return waitForRun(container.store, jobId, finished, timeoutMs)
    },
    async events(jobId) {
      const events = await container.store.listEvents(jobId, { limit: 1000 })
      return events as unknown as Array<Record<string, unknown>>
    },
    close: flow.close,
  }
}
