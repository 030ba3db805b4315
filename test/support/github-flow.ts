/**
 * The GitHub flow in process, the set-up the workflow tests share: the GitHub double holding the
 * repositories (git over HTTP, REST, webhooks' payloads from the test), the scripted model server, and
 * the real container on them (SQLite store, embedded queue, the detected sandbox, the agents with no
 * in-agent retries) with the named workers started. Helpers open prwright's pull request for an issue
 * and hand webhook events to the intake.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterEach, beforeEach } from "vitest"
import { runAnsweringAgent } from "#application/agent/answering-agent.js"
import { runCodingAgent } from "#application/agent/coding-agent.js"
import { runPlanningAgent } from "#application/agent/planning-agent.js"
import type { WorkerType } from "#domain/workflow-run.js"
import { type Config, loadConfig } from "#main/config.js"
import { type Container, type ContainerOverrides, createContainer } from "#main/container.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import {
  SCRIPTED_MODEL_PRICES,
  type ScriptedModelServer,
  type ScriptStep,
  startScriptedModelServer,
} from "../doubles/scripted-model-server.js"
import { createCapturingLogger } from "./logger.js"
import { finished, waitForRun } from "./runs.js"
import { SAMPLE_ISSUE } from "./sample-repo.js"

export interface GitHubFlow {
  github: GitHubDouble
  model: ScriptedModelServer
  container: Container
  config: Config
  dataDir: string
  /** hands one webhook event to the intake, with a fresh delivery id */
  webhook(name: string, payload: unknown): ReturnType<Container["webhooks"]["handle"]>
  /**
   * Files an issue on `repo` and runs auto-resolve with a pull request through the queue: the run
   * that opens prwright's pull request (its artifacts name the branch, the commit and the PR).
   */
  openPullRequest(
    repo: string,
    issue?: { title: string; body: string },
  ): Promise<{ issue: number; run: Awaited<ReturnType<typeof waitForRun>> }>
  close(): Promise<void>
}

export interface FlowContainer {
  model: ScriptedModelServer
  container: Container
  config: Config
  /** closes the container and the model server (the double and the data dir are the caller's) */
  close(): Promise<void>
}

export interface FlowContainerOptions {
  /** what the scripted model answers, in order */
  script: ScriptStep[]
  workers: WorkerType[]
  token?: string
  apiKey?: string
  /** more configuration (PRWRIGHT_*, LLM_* …); `undefined` leaves a default out */
  env?: Record<string, string | undefined>
  /** container overrides beside the default agents, given the config (e.g. a recording coder) */
  overrides?: (config: Config) => ContainerOverrides
}

const FLOW_TOKEN = "ghp_flowTestToken_0123456789abc"
const FLOW_KEY = "sk-flow-test-key-0123456789abc"

/**
 * The scripted model server and the real container (agents without in-agent retries) on a GitHub
 * double and a data dir the caller made, with `workers` started.
 */
export const startFlowContainer = async (
  input: FlowContainerOptions & { github: GitHubDouble; dataDir: string },
): Promise<FlowContainer> => {
  const apiKey = input.apiKey ?? FLOW_KEY
  const model = await startScriptedModelServer({ script: input.script, apiKey })
  const env: Record<string, string | undefined> = {
    PRWRIGHT_DATA_DIR: input.dataDir,
    GITHUB_API_URL: input.github.apiUrl,
    GITHUB_TOKEN: input.token ?? FLOW_TOKEN,
    GITHUB_WEBHOOK_SECRET: "whsec-flow",
    LLM_PROVIDER: "openai-compatible",
    LLM_MODEL: "scripted",
    PRWRIGHT_MODEL_PRICES: SCRIPTED_MODEL_PRICES,
    LLM_BASE_URL: model.baseUrl,
    LLM_API_KEY: apiKey,
    PRWRIGHT_API_TOKEN: "prw_flow_test_token_0123456789",
    ...input.env,
  }
  const config = loadConfig(
    Object.fromEntries(
      Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
  )
  const container = await createContainer(config, {
    logger: createCapturingLogger(),
    planner: (options) => runPlanningAgent({ ...options, maxRetries: 0 }),
    coder: (options) => runCodingAgent({ ...options, maxRetries: 0, secrets: config.secrets }),
    answerer: (options) => runAnsweringAgent({ ...options, maxRetries: 0 }),
    ...input.overrides?.(config),
  })
  container.startWorkers(input.workers)
  return {
    model,
    container,
    config,
    async close() {
      await container.close()
      await model.close()
    },
  }
}

/**
 * The GitHub flow per test: before each test `double()` makes the GitHub double (with what it holds)
 * and a fresh data dir; `start` puts the flow's container on them; after each test all is closed.
 */
export const flowPerTest = (input: { prefix: string; double: () => Promise<GitHubDouble> }) => {
  let github: GitHubDouble | undefined
  let dataDir = ""
  let flow: FlowContainer | undefined
  beforeEach(async () => {
    github = await input.double()
    dataDir = await mkdtemp(path.join(tmpdir(), input.prefix))
  })
  afterEach(async () => {
    await flow?.close()
    flow = undefined
    await github?.close()
    github = undefined
    await rm(dataDir, { recursive: true, force: true })
  })
  const current = (): GitHubDouble => {
    if (!github) throw new Error("the flow's GitHub double is made in beforeEach")
    return github
  }
  return {
    get github() {
      return current()
    },
    get dataDir() {
      return dataDir
    },
    async start(options: FlowContainerOptions): Promise<FlowContainer> {
      flow = await startFlowContainer({ ...options, github: current(), dataDir })
      return flow
    },
  }
}

/** A GitHub double holding `repos`, a fresh data dir, and the flow's container on them. */
export const startGitHubFlow = async (
  input: FlowContainerOptions & {
    /** the data dir's name prefix under the system temp dir */
    prefix: string
    /** repositories on the double, by full name, with their files */
    repos: Record<string, Record<string, string>>
    /** [repo, login] pairs given write access */
    writers?: Array<[string, string]>
    /** the token's user on the double (prwright's own login) */
    login?: string
  },
): Promise<GitHubFlow> => {
  const token = input.token ?? FLOW_TOKEN
  const github = await startGitHubDouble({
    tokens: { [token]: { login: input.login ?? "prwright-bot", repos: "*" } },
  })
  for (const [repo, files] of Object.entries(input.repos)) await github.createRepo(repo, { files })
  for (const [repo, login] of input.writers ?? []) github.grant(repo, login, "write")
  const dataDir = await mkdtemp(path.join(tmpdir(), input.prefix))
  const { model, container, config, close } = await startFlowContainer({ ...input, token, github, dataDir })
  let delivery = 0
  return {
    github,
    model,
    container,
    config,
    dataDir,
    webhook: (name, payload) =>
      container.webhooks.handle({ name, deliveryId: `${input.prefix}${++delivery}`, payload }),
    async openPullRequest(repo, issueText = SAMPLE_ISSUE) {
      const issue = github.createIssue(repo, issueText)
      const { jobId } = await container.requester.enqueue(
        "auto-resolve-issue",
        { repoFullName: repo, issueNumber: issue, options: { createPR: true } },
        { source: "api" },
      )
      return { issue, run: await waitForRun(container.store, jobId, finished, 60_000) }
    },
    async close() {
      await close()
      await github.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
