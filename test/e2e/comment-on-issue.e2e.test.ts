/**
 * The walking skeleton end to end, once per queue mode: HTTP → queue → worker process → clone over
 * HTTP from the GitHub double → scripted model → plan comment on the double. Then the secrets scan:
 * neither the GitHub token nor the LLM key may appear in the database, Redis, files or any log line.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import { type ScriptedModelServer, startScriptedModelServer } from "../doubles/scripted-model-server.js"
import { holdNeo4j, wipeNeo4j } from "../support/neo4j-server.js"
import { type PrwrightProcess, prwrightEnv, serverUrl, startPrwright } from "../support/prwright-process.js"
import { findSecrets, scanFiles, scanNeo4j, scanRedis, scanSqlite } from "../support/secret-scan.js"
import { service, uniqueName } from "../support/services.js"

const redis = await service("redis")
const neo4jServer = await service("neo4j")
const GITHUB_TOKEN = "ghp_e2eSecretToken0123456789abcdef"
const LLM_KEY = "sk-e2e-llm-key-0123456789abcdef"
const API_TOKEN = "prw_e2e_api_token_0123456789"
const PLAN =
  "1. Add `clamp()` to src/math.js\n2. Export it from src/index.js\n3. Cover it in test/math.test.js"

const planScript = () => [
  { toolCalls: [{ name: "str_replace_based_edit_tool", arguments: { command: "view", path: "." } }] },
  { toolCalls: [{ name: "search", arguments: { pattern: "export function" } }] },
  {
    toolCalls: [{ name: "str_replace_based_edit_tool", arguments: { command: "view", path: "src/math.js" } }],
  },
  { text: "I have what I need.", toolCalls: [{ name: "submit_plan", arguments: { plan: PLAN } }] },
]

const modes = [
  { name: "embedded", redis: false, neo4j: false },
  { name: "bullmq", redis: true, neo4j: false },
  // runs, events and records in a real Neo4j Community server, the queue embedded
  { name: "embedded + Neo4j store", redis: false, neo4j: true },
] as const

describe.each(modes)("commentOnIssue end to end ($name queue)", (mode) => {
  const skip = (mode.redis && !redis.available) || (mode.neo4j && !neo4jServer.available)
  let releaseNeo4j: (() => Promise<void>) | undefined
  let github: GitHubDouble
  let model: ScriptedModelServer
  let dataDir: string
  let processes: PrwrightProcess[] = []
  let baseUrl: string
  const prefix = uniqueName("e2e")
  let issueNumber: number
  let hiddenIssue: number

  const api = (method: string, route: string, body?: unknown, token: string | null = API_TOKEN) =>
    fetch(`${baseUrl}${route}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    })

  const waitForEnd = async (jobId: string, timeoutMs = 60_000) => {
    const seen = new Set<string>()
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const status = (await (await api("GET", `/api/jobs/${jobId}`)).json()) as Record<string, unknown>
      seen.add(String(status.status))
      if (["completed", "failed", "cancelled"].includes(String(status.status))) return { status, seen }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`job ${jobId} did not finish in ${timeoutMs} ms`)
  }

  beforeAll(async () => {
    if (skip) return
    if (mode.neo4j) {
      releaseNeo4j = await holdNeo4j()
      await wipeNeo4j(neo4jServer.url)
    }
    github = await startGitHubDouble({
      tokens: {
        [GITHUB_TOKEN]: { login: "prwright-bot", repos: ["acme/widgets"] },
        ghp_otherOwnerToken000000000000: { login: "someone", repos: "*" },
      },
    })
    await github.createRepo("acme/widgets", {
      files: {
        "package.json": '{"name":"widgets","type":"module"}\n',
        "src/math.js": "export function add(a, b) {\n  return a + b\n}\n",
        "src/index.js": 'export { add } from "./math.js"\n',
      },
    })
    issueNumber = github.createIssue("acme/widgets", {
      title: "Add clamp()",
      body: "We need clamp(x, lo, hi).",
    })
    await github.createRepo("secret-org/hidden", { files: { "README.md": "hidden\n" }, private: true })
    hiddenIssue = github.createIssue("secret-org/hidden", { title: "x", body: "y" })

    // Two plans: the first test's and the idempotency test's run.
    model = await startScriptedModelServer({ script: [...planScript(), ...planScript()], apiKey: LLM_KEY })
    dataDir = await mkdtemp(path.join(tmpdir(), "prwright-e2e-"))
    const env = prwrightEnv(
      { dataDir, github, githubToken: GITHUB_TOKEN, model, llmKey: LLM_KEY, apiToken: API_TOKEN },
      {
        LLM_MODEL: "scripted-model",
        PRWRIGHT_QUEUE_BACKOFF_MS: "50",
        LOG_LEVEL: "debug",
        ...(mode.redis ? { REDIS_URL: redis.url, PRWRIGHT_QUEUE_PREFIX: prefix } : {}),
        ...(mode.neo4j ? { NEO4J_URI: neo4jServer.url } : {}),
      },
    )
    const server = startPrwright(mode.redis ? ["serve", "--no-workers"] : ["serve"], env)
    processes.push(server)
    baseUrl = await serverUrl(server)
    if (mode.redis) {
      const worker = startPrwright(["worker", "--type", "comment"], env)
      processes.push(worker)
      await worker.waitFor(/worker started/, 60_000)
    }
  }, 300_000)

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()))
    processes = []
    await releaseNeo4j?.()
    await model?.close()
    await github?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it.skipIf(skip)("plans an issue: 202, status moves to completed, one comment holds the plan", async () => {
    const response = await api("POST", "/api/workflow/commentOnIssue", {
      repoFullName: "acme/widgets",
      issueNumber,
      postToGitHub: true,
    })
    expect(response.status).toBe(202)
    const accepted = (await response.json()) as Record<string, string>
    expect(accepted.jobId).toMatch(/^[0-9a-f-]{36}$/)
    expect(accepted.statusUrl).toBe(`/api/jobs/${accepted.jobId}`)
    expect(accepted.eventsUrl).toBe(`/api/jobs/${accepted.jobId}/events`)
    expect(accepted.status).toBe("pending")

    const { status, seen } = await waitForEnd(accepted.jobId as string)
    expect(status.status, JSON.stringify(status)).toBe("completed")
    expect(status.type).toBe("comment-on-issue")
    expect(status.attempts).toBe(1)
    expect(status.progress).toBe(100)
    const result = status.result as { success: boolean; artifacts: Record<string, unknown>; summary: string }
    expect(result.success).toBe(true)
    expect(result.summary).toContain("Add `clamp()`")
    const usage = status.usage as { inputTokens: number; outputTokens: number }
    expect(usage.inputTokens).toBeGreaterThan(0)
    expect(usage.outputTokens).toBeGreaterThan(0)
    expect([...seen].every((s) => ["pending", "running", "completed"].includes(s))).toBe(true)

    const comments = github.comments("acme/widgets", issueNumber)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.body).toContain(PLAN)
    expect(comments[0]?.body).toContain("## Implementation plan")
    expect(result.artifacts.planCommentUrl).toBe(
      `${github.webUrl}/acme/widgets/issues/${issueNumber}#issuecomment-${comments[0]?.id}`,
    )

    // The scripted model played every step and every tool call fitted the offered schemas.
    expect(model.errors).toEqual([])
    expect(model.played).toBe(4)

    // The stored event log tells the story in order.
    // The run row is written before its closing events (the row is the outbox, decision 0003): a
    // reader that saw "completed" may be a moment ahead of the last events, so wait for them.
    const readEvents = async () =>
      (await (
        await fetch(`${baseUrl}/api/jobs/${accepted.jobId}/events`, {
          headers: { authorization: `Bearer ${API_TOKEN}`, accept: "application/json" },
        })
      ).json()) as Array<{ seq: number; type: string; tool?: string; status?: string }>
    let events = await readEvents()
    for (let i = 0; i < 50 && events.at(-1)?.status !== "completed"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      events = await readEvents()
    }
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
    const types = events.map((e) => e.type)
    expect(types[0]).toBe("status")
    expect(types).toContain("model-call")
    expect(events.filter((e) => e.type === "tool-call").map((e) => e.tool)).toEqual([
      "str_replace_based_edit_tool",
      "search",
      "str_replace_based_edit_tool",
      "submit_plan",
    ])
    expect(types.at(-1)).toBe("status")

    // git was reached over HTTP with the token in a header, never in a URL.
    expect(github.requests.some((r) => r.kind === "git")).toBe(true)
    expect(github.tokenSeenInUrl).toBe(false)
  })

  it.skipIf(skip)("the same jobId is idempotent; different data under it is a 409", async () => {
    const jobId = "7d3c1a52-3f1e-4e7a-9a0b-3c1d2e4f5a6b"
    const body = { repoFullName: "acme/widgets", issueNumber, postToGithub: false, jobId }
    const first = await api("POST", "/api/workflow/commentOnIssue", body)
    expect(first.status).toBe(202)
    const again = await api("POST", "/api/workflow/commentOnIssue", body)
    expect(again.status).toBe(202)
    expect(((await again.json()) as { created: boolean }).created).toBe(false)
    const conflict = await api("POST", "/api/workflow/commentOnIssue", {
      ...body,
      issueNumber: issueNumber + 1,
    })
    expect(conflict.status).toBe(409)
    const list = (await (await api("GET", "/api/jobs?repo=acme/widgets")).json()) as {
      jobs: Array<{ jobId: string }>
    }
    expect(list.jobs.filter((j) => j.jobId === jobId)).toHaveLength(1)
    await waitForEnd(jobId)
  })

  it.skipIf(skip)(
    "a repository the token cannot read fails the job with a clear error; the server stays up",
    async () => {
      const response = await api("POST", "/api/workflow/commentOnIssue", {
        repoFullName: "secret-org/hidden",
        issueNumber: hiddenIssue,
        postToGitHub: true,
      })
      expect(response.status).toBe(202)
      const { jobId } = (await response.json()) as { jobId: string }
      const { status } = await waitForEnd(jobId)
      expect(status.status).toBe("failed")
      expect(String(status.error)).toMatch(/secret-org\/hidden/)
      expect(String(status.error)).toMatch(/not found|cannot read/i)
      expect(status.attempts).toBe(1) // not retried: access errors are permanent
      expect(github.comments("secret-org/hidden", hiddenIssue)).toHaveLength(0)
      expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200)
    },
  )

  it.skipIf(skip)("bad input: 400 names the field, 401 without a token, 404 for an unknown job", async () => {
    const bad = await api("POST", "/api/workflow/commentOnIssue", { repoFullName: "acme", issueNumber: -1 })
    expect(bad.status).toBe(400)
    const body = (await bad.json()) as {
      error: { code: string; message: string; details: { issues: Array<{ field: string }> } }
    }
    expect(body.error.code).toBe("invalid_input")
    expect(body.error.details.issues.map((i) => i.field).sort()).toEqual(["issueNumber", "repoFullName"])
    const secretField = await api("POST", "/api/workflow/commentOnIssue", {
      repoFullName: "acme/widgets",
      issueNumber: 1,
      apiKey: "sk-should-never-be-accepted",
    })
    expect(secretField.status).toBe(400)
    expect(await secretField.text()).not.toContain("sk-should-never-be-accepted")
    expect((await api("POST", "/api/workflow/commentOnIssue", "{not json")).status).toBe(400)
    expect((await api("GET", "/api/jobs/00000000-0000-4000-8000-000000000000")).status).toBe(404)
    expect((await api("GET", "/api/jobs", undefined, null)).status).toBe(401)
    expect((await api("GET", "/api/jobs", undefined, "wrong-token-wrong-token")).status).toBe(401)
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200)
  })

  it.skipIf(skip)("no secret in the database, the data dir, Redis or any log line", async () => {
    const secrets = [GITHUB_TOKEN, LLM_KEY]
    if (mode.neo4j) {
      const graph = await scanNeo4j(neo4jServer.url, secrets)
      expect(graph.nodes).toBeGreaterThan(10)
      expect(graph.hits).toEqual([])
    } else {
      const sqlite = scanSqlite(path.join(dataDir, "prwright.db"), secrets)
      expect(sqlite.rows).toBeGreaterThan(10)
      expect(sqlite.hits).toEqual([])
    }
    expect(scanFiles(dataDir, secrets)).toEqual([])
    if (mode.redis) {
      const scan = await scanRedis(redis.url, prefix, secrets)
      expect(scan.keys).toBeGreaterThan(0)
      expect(scan.hits).toEqual([])
    }
    const logs = processes.flatMap((p) => p.lines)
    expect(logs.length).toBeGreaterThan(3)
    expect(logs.filter((line) => findSecrets(line, secrets).length > 0)).toEqual([])
    // What went to the model holds no secret either.
    expect(findSecrets(JSON.stringify(model.requests.map((r) => r.body)), [GITHUB_TOKEN])).toEqual([])
  })
})
