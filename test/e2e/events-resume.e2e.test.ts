/**
 * Live events across processes: a worker process runs a slowed-down plan and writes its events; a
 * separate API process (`serve --no-workers`) streams them over SSE, woken through Redis. The client
 * disconnects mid-run and resumes with Last-Event-ID, and must end up with every stored event exactly
 * once, in order, having received some of them while the run was still running.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import { type ScriptedModelServer, startScriptedModelServer } from "../doubles/scripted-model-server.js"
import { type PrwrightProcess, prwrightEnv, serverUrl, startPrwright } from "../support/prwright-process.js"
import { service, uniqueName } from "../support/services.js"

const redis = await service("redis")
const GITHUB_TOKEN = "ghp_resumeSecretToken0123456789abcd"
const LLM_KEY = "sk-resume-llm-key-0123456789abcdef"
const API_TOKEN = "prw_resume_api_token_0123456789"
const STEP_DELAY_MS = 350

interface SseEvent {
  id?: string
  event: string
  data: string
  receivedAt: number
}

/** Reads an SSE response until `stop` says so or the stream ends; the connection is then dropped. */
const readSse = async (
  url: string,
  options: { lastEventId?: string | undefined; stop: (event: SseEvent, all: SseEvent[]) => boolean },
): Promise<SseEvent[]> => {
  const controller = new AbortController()
  const response = await fetch(url, {
    headers: {
      authorization: `Bearer ${API_TOKEN}`,
      accept: "text/event-stream",
      ...(options.lastEventId ? { "last-event-id": options.lastEventId } : {}),
    },
    signal: controller.signal,
  })
  expect(response.status).toBe(200)
  expect(response.headers.get("content-type")).toContain("text/event-stream")
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  const events: SseEvent[] = []
  let buffer = ""
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return events
      buffer += value
      let end = buffer.indexOf("\n\n")
      while (end !== -1) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        end = buffer.indexOf("\n\n")
        const event: SseEvent = { event: "message", data: "", receivedAt: Date.now() }
        for (const line of frame.split("\n")) {
          if (line.startsWith(":")) continue
          const [field, ...rest] = line.split(":")
          const text = rest.join(":").replace(/^ /, "")
          if (field === "id") event.id = text
          else if (field === "event") event.event = text
          else if (field === "data") event.data += event.data ? `\n${text}` : text
        }
        if (!event.data && !event.id) continue
        events.push(event)
        if (options.stop(event, events)) return events
      }
    }
  } finally {
    controller.abort()
    await reader.cancel().catch(() => {})
  }
}

describe.skipIf(!redis.available)("run events resume across processes (Redis)", () => {
  let github: GitHubDouble
  let model: ScriptedModelServer
  let dataDir: string
  const processes: PrwrightProcess[] = []
  let baseUrl: string
  let issueNumber: number
  const prefix = uniqueName("resume")

  const api = async (route: string, init: RequestInit = {}) =>
    fetch(`${baseUrl}${route}`, {
      ...init,
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json", ...init.headers },
    })

  beforeAll(async () => {
    github = await startGitHubDouble({ tokens: { [GITHUB_TOKEN]: { login: "prwright-bot", repos: "*" } } })
    await github.createRepo("acme/widgets", {
      files: {
        "package.json": '{"name":"widgets","type":"module"}\n',
        "src/math.js": "export function add(a, b) {\n  return a + b\n}\n",
      },
    })
    issueNumber = github.createIssue("acme/widgets", { title: "Add clamp()", body: "clamp(x, lo, hi)" })
    const view = (p: string) => ({
      delayMs: STEP_DELAY_MS,
      toolCalls: [{ name: "str_replace_based_edit_tool", arguments: { command: "view", path: p } }],
    })
    model = await startScriptedModelServer({
      apiKey: LLM_KEY,
      script: [
        view("."),
        view("src/math.js"),
        { delayMs: STEP_DELAY_MS, toolCalls: [{ name: "search", arguments: { pattern: "export" } }] },
        view("package.json"),
        view("src"),
        view("src/math.js"),
        {
          delayMs: STEP_DELAY_MS,
          toolCalls: [{ name: "submit_plan", arguments: { plan: "1. Add clamp() to src/math.js" } }],
        },
      ],
    })
    dataDir = await mkdtemp(path.join(tmpdir(), "prwright-resume-"))
    const env = prwrightEnv(
      { dataDir, github, githubToken: GITHUB_TOKEN, model, llmKey: LLM_KEY, apiToken: API_TOKEN },
      { LLM_MODEL: "scripted-model", REDIS_URL: redis.url, PRWRIGHT_QUEUE_PREFIX: prefix },
    )
    const server = startPrwright(["serve", "--no-workers"], env)
    const worker = startPrwright(["worker", "--type", "comment"], env)
    processes.push(server, worker)
    baseUrl = await serverUrl(server)
    await worker.waitFor(/worker started/, 60_000)
  }, 90_000)

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()))
    await model?.close()
    await github?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it("a client that disconnects mid-run and resumes with Last-Event-ID sees every event once, in order", async () => {
    const accepted = await api("/api/workflow/commentOnIssue", {
      method: "POST",
      body: JSON.stringify({ repoFullName: "acme/widgets", issueNumber, postToGitHub: false }),
    })
    expect(accepted.status).toBe(202)
    const { jobId, eventsUrl } = (await accepted.json()) as { jobId: string; eventsUrl: string }

    // First connection: stay until the agent has made a couple of tool calls, then drop.
    const first = await readSse(`${baseUrl}${eventsUrl}`, {
      stop: (_, all) => all.filter((e) => e.event === "tool-call").length >= 2,
    })
    // The live path delivered while the run was still going: it is not over yet.
    const midway = (await (await api(`/api/jobs/${jobId}`)).json()) as { status: string }
    expect(midway.status).toBe("running")
    expect(first.some((e) => e.event === "end")).toBe(false)

    // Events keep coming while nobody listens.
    await new Promise((resolve) => setTimeout(resolve, STEP_DELAY_MS * 2))
    const lastId = first.at(-1)?.id
    expect(lastId).toMatch(/^\d+$/)
    const resumed = readSse(`${baseUrl}${eventsUrl}`, {
      lastEventId: lastId,
      stop: (event) => event.event === "end",
    })
    // The API process listens for this run on Redis, where the worker publishes.
    const client = new Redis(redis.url)
    try {
      const channel = `${prefix}:run-events:${jobId}`
      let listening = 0
      for (let i = 0; i < 50 && listening === 0; i++) {
        listening = Number(((await client.pubsub("NUMSUB", channel)) as [string, number])[1])
        if (listening === 0) await new Promise((resolve) => setTimeout(resolve, 20))
      }
      expect(listening).toBe(1)
    } finally {
      await client.quit()
    }
    const second = await resumed
    expect(second.at(-1)?.event).toBe("end")
    expect(JSON.parse(second.at(-1)?.data ?? "{}")).toEqual({ status: "completed" })

    const streamed = [...first, ...second].filter((e) => e.event !== "end")
    const seqs = streamed.map((e) => Number(e.id))
    const stored = (await (
      await api(`/api/jobs/${jobId}/events`, { headers: { accept: "application/json" } })
    ).json()) as Array<{ seq: number; type: string }>

    expect(stored.length).toBeGreaterThan(first.length)
    expect(seqs).toEqual(stored.map((e) => e.seq))
    expect(seqs).toEqual(stored.map((_, i) => i + 1))
    // Each SSE frame is the stored event itself: same type, same payload.
    expect(streamed.map((e) => e.event)).toEqual(stored.map((e) => e.type))
    expect(streamed.map((e) => JSON.parse(e.data))).toEqual(stored)
    expect(stored.at(-1)).toMatchObject({ type: "status", status: "completed" })

    // The resumed stream was live too: its events arrived spread over the rest of the run.
    const live = second.filter((e) => e.event !== "end")
    expect(live.length).toBeGreaterThan(2)
    expect(live.at(-1)!.receivedAt - live[0]!.receivedAt).toBeGreaterThan(STEP_DELAY_MS)
    expect(model.errors).toEqual([])
  }, 30_000)
})
