/**
 * One implementing run driven end to end for workflow tests: the GitHub double holding a small
 * repository and its issue, the scripted model server, the real container (embedded queue, git over
 * HTTP, the detected sandbox) and helpers to start a run, wait for it and read what was pushed.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { runCodingAgent } from "#application/agent/coding-agent.js"
import { runPlanningAgent } from "#application/agent/planning-agent.js"
import type { Sandbox } from "#application/ports/sandbox.js"
import type { Coder } from "#application/workflows/resolve-issue.js"
import type { WorkflowRun } from "#domain/workflow-run.js"
import { loadConfig } from "#main/config.js"
import { type Container, createContainer } from "#main/container.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import {
  SCRIPTED_MODEL_PRICES,
  type ScriptedModelServer,
  type ScriptStep,
  startScriptedModelServer,
} from "../doubles/scripted-model-server.js"
import { createCapturingLogger } from "./logger.js"
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
  const github = await startGitHubDouble({ tokens: { [HARNESS_TOKEN]: { login: "bot", repos: "*" } } })
  await github.createRepo(repo, { files: input.files })
  const issue = github.createIssue(repo, input.issue)
  const model = await startScriptedModelServer({ script: input.script, apiKey: HARNESS_KEY })
  const dataDir = await mkdtemp(path.join(tmpdir(), "prwright-harness-"))
  const config = loadConfig({
    PRWRIGHT_DATA_DIR: dataDir,
    GITHUB_API_URL: github.apiUrl,
    GITHUB_TOKEN: HARNESS_TOKEN,
    LLM_PROVIDER: "openai-compatible",
    LLM_MODEL: "scripted",
    PRWRIGHT_MODEL_PRICES: SCRIPTED_MODEL_PRICES,
    LLM_BASE_URL: model.baseUrl,
    LLM_API_KEY: HARNESS_KEY,
    PRWRIGHT_API_TOKEN: "prw_harness_api_token_123456",
    PRWRIGHT_QUEUE_BACKOFF_MS: "20",
    ...input.env,
  })
  const coderCalls: Parameters<Coder>[0][] = []
  const container = await createContainer(config, {
    logger: createCapturingLogger(),
    ...(input.sandbox ? { sandbox: input.sandbox } : {}),
    planner: (options) => runPlanningAgent({ ...options, maxRetries: 0 }),
    coder: (options) => {
      coderCalls.push(options)
      return runCodingAgent({ ...options, maxRetries: 0, secrets: config.secrets })
    },
  })
  container.startWorkers(["auto-resolve", "resolve"])
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
    async close() {
      await container.close()
      await model.close()
      await github.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
