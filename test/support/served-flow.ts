/**
 * The end-to-end set-up the e2e tests share: the GitHub double holding one repository, the scripted
 * model server, and `prwright serve` as a child process on them (SQLite and the embedded queue in a
 * fresh data dir unless `env` says otherwise), with helpers for the HTTP API: start autoResolveIssue,
 * follow a job to its end, read its events.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import {
  type ScriptedModelServer,
  type ScriptStep,
  startScriptedModelServer,
} from "../doubles/scripted-model-server.js"
import { type PrwrightProcess, prwrightEnv, serverUrl, startPrwright } from "./prwright-process.js"

export interface ServedFlow {
  github: GitHubDouble
  model: ScriptedModelServer
  server: PrwrightProcess
  dataDir: string
  baseUrl: string
  /** the server's environment plus PRWRIGHT_URL: what a CLI process needs to talk to it */
  env: Record<string, string>
  /** fetch on the server with the API token (and a JSON content type when there is a body) */
  api(route: string, init?: RequestInit): Promise<Response>
  /** POST /api/workflow/autoResolveIssue for `issue` on the flow's repository, posting to GitHub */
  autoResolve(issue: number): Promise<Response>
  /** polls GET /api/jobs/:id until the job is completed, failed or cancelled (or the time is up) */
  waitForJob(
    jobId: string,
    options?: { timeoutMs?: number; everyMs?: number; onPoll?: () => Promise<void> },
  ): Promise<Record<string, unknown>>
  /** the job's events as the API answers them in JSON (the text, for secret scans) */
  eventsText(jobId: string): Promise<string>
  close(): Promise<void>
}

export const startServedFlow = async (input: {
  /** the data dir's name prefix under the system temp dir (ignored when `dataDir` is given) */
  prefix: string
  /** a data dir made by the test (e.g. with a planted secret); removed on close */
  dataDir?: string
  repo: string
  files: Record<string, string>
  script: ScriptStep[]
  githubToken: string
  llmKey: string
  apiToken: string
  /** writers of the repository */
  writers?: string[]
  /** more of the server's environment */
  env?: Record<string, string>
}): Promise<ServedFlow> => {
  const github = await startGitHubDouble({
    tokens: { [input.githubToken]: { login: "prwright-bot", repos: [input.repo] } },
  })
  await github.createRepo(input.repo, { files: input.files })
  for (const login of input.writers ?? []) github.grant(input.repo, login, "write")
  const model = await startScriptedModelServer({ script: input.script, apiKey: input.llmKey })
  const dataDir = input.dataDir ?? (await mkdtemp(path.join(tmpdir(), input.prefix)))
  const env = prwrightEnv({ ...input, dataDir, github, model }, input.env)
  const server = startPrwright(["serve"], env)
  const close = async () => {
    await server.stop()
    await model.close()
    await github.close()
    await rm(dataDir, { recursive: true, force: true })
  }
  let baseUrl: string
  try {
    baseUrl = await serverUrl(server)
  } catch (error) {
    await close()
    throw error
  }
  env.PRWRIGHT_URL = baseUrl
  const auth = { authorization: `Bearer ${input.apiToken}` }
  const api = (route: string, init: RequestInit = {}) =>
    fetch(`${baseUrl}${route}`, {
      ...init,
      headers: {
        ...auth,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...(init.headers as Record<string, string> | undefined),
      },
    })
  return {
    github,
    model,
    server,
    dataDir,
    baseUrl,
    env,
    api,
    autoResolve: (issue) =>
      api("/api/workflow/autoResolveIssue", {
        method: "POST",
        body: JSON.stringify({
          repoFullName: input.repo,
          issueNumber: issue,
          options: { postToGitHub: true },
        }),
      }),
    async waitForJob(jobId, options = {}) {
      let status: Record<string, unknown> = {}
      const deadline = Date.now() + (options.timeoutMs ?? 90_000)
      while (Date.now() < deadline) {
        await options.onPoll?.()
        status = (await (await api(`/api/jobs/${jobId}`)).json()) as Record<string, unknown>
        if (["completed", "failed", "cancelled"].includes(String(status.status))) break
        await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 200))
      }
      return status
    },
    eventsText: async (jobId) =>
      (await api(`/api/jobs/${jobId}/events`, { headers: { accept: "application/json" } })).text(),
    close,
  }
}
