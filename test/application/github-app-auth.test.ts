/**
 * The container with GitHub App credentials instead of a token: a planning run, inline, reads the issue,
 * clones the repository and posts its plan with installation tokens the app minted; no JWT and no token
 * reaches a log line or a file under the data dir.
 */
import { generateKeyPairSync } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createJsonLogger } from "#adapters/log/json-logger.js"
import { runPlanningAgent } from "#application/agent/planning-agent.js"
import { loadConfig } from "#main/config.js"
import { type Container, createContainer } from "#main/container.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import {
  SCRIPTED_MODEL_PRICES,
  type ScriptedModelServer,
  startScriptedModelServer,
} from "../doubles/scripted-model-server.js"
import { findSecrets, scanFiles } from "../support/secret-scan.js"

const KEY = "sk-app-auth-test-key-0123456789"
const PLAN = "1. Read the README\n2. Fix the thing"
const APP_ID = "31337"
const { privateKey, publicKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
})

describe("GitHub App auth through the container", () => {
  let github: GitHubDouble
  let model: ScriptedModelServer | undefined
  let container: Container | undefined
  let dataDir: string

  beforeEach(async () => {
    // no personal token is valid here: only installation tokens open the repository
    github = await startGitHubDouble({
      tokens: {},
      apps: {
        [APP_ID]: { publicKey, slug: "prwright", installations: { "77": { repos: ["acme/app"] } } },
      },
    })
    await github.createRepo("acme/app", { files: { "README.md": "# app\n" }, private: true })
    dataDir = await mkdtemp(path.join(tmpdir(), "prwright-app-auth-"))
  })
  afterEach(async () => {
    await container?.close()
    container = undefined
    await model?.close()
    await github.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  it("plans an issue inline with installation tokens, and leaks neither the JWT nor a token", async () => {
    const issue = github.createIssue("acme/app", { title: "Fix the thing", body: "please" })
    model = await startScriptedModelServer({
      apiKey: KEY,
      script: [
        {
          toolCalls: [
            { name: "str_replace_based_edit_tool", arguments: { command: "view", path: "README.md" } },
          ],
        },
        { toolCalls: [{ name: "submit_plan", arguments: { plan: PLAN } }] },
      ],
    })
    const config = loadConfig({
      PRWRIGHT_DATA_DIR: dataDir,
      GITHUB_API_URL: github.apiUrl,
      GITHUB_APP_ID: APP_ID,
      // as an env file holds it: one line with literal \n
      GITHUB_APP_PRIVATE_KEY: privateKey.trim().replaceAll("\n", "\\n"),
      // set too, and invalid on this GitHub: the app must win
      GITHUB_TOKEN: "ghp_notValidHere_0123456789",
      LLM_PROVIDER: "openai-compatible",
      LLM_MODEL: "scripted",
      PRWRIGHT_MODEL_PRICES: SCRIPTED_MODEL_PRICES,
      LLM_BASE_URL: model.baseUrl,
      LLM_API_KEY: KEY,
      LOG_LEVEL: "debug",
    })
    const lines: string[] = []
    const logger = createJsonLogger({ level: "debug", secrets: config.secrets, write: (l) => lines.push(l) })
    container = await createContainer(config, {
      logger,
      queue: false,
      planner: (options) => runPlanningAgent({ ...options, maxRetries: 0 }),
    })
    const { run, data } = await container.requester.prepare(
      "comment-on-issue",
      { repoFullName: "acme/app", issueNumber: issue, postToGitHub: true },
      { source: "cli" },
    )
    await container.runner({
      jobId: run.id,
      type: "comment-on-issue",
      data,
      attempt: 1,
      maxAttempts: 1,
      signal: new AbortController().signal,
      progress: async () => {},
    })
    const final = await container.store.getRun(run.id)
    expect(final?.status, final?.error).toBe("completed")
    const comments = github.comments("acme/app", issue)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.body).toContain(PLAN)
    expect(comments[0]?.user).toBe("prwright[bot]")

    // the app minted one token and both REST and git used it
    expect(github.mintedTokens).toHaveLength(1)
    expect(github.requests.some((r) => r.kind === "git" && r.status === 200)).toBe(true)
    expect(github.requests.filter((r) => r.status === 401)).toEqual([])

    const secrets = [...github.appJwts, ...github.mintedTokens.map((m) => m.token)]
    expect(secrets.length).toBeGreaterThanOrEqual(3)
    expect(lines.length).toBeGreaterThan(0)
    expect(findSecrets(lines.join("\n"), secrets)).toEqual([])
    expect(lines.join("\n")).not.toContain(privateKey.split("\n")[1])
    await container.close()
    container = undefined
    expect(scanFiles(dataDir, secrets)).toEqual([])
  })
})
