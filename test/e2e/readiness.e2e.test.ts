/**
 * Honest readiness, with real processes (issue 13, findings 1, 2, 3 and 8): a request that cannot be
 * served is refused at once with the reason (queue down, no worker for its type) and leaves no run
 * behind; /readyz says which dependency fails; a busy port stops `serve` at once; `--port 0` works;
 * PRWRIGHT_SANDBOX=docker is refused at start.
 */
import { mkdtemp, rm } from "node:fs/promises"
import net from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type PrwrightProcess, serverUrl, startPrwright } from "../support/prwright-process.js"
import { freePort, service, uniqueName } from "../support/services.js"

const redis = await service("redis")
const API_TOKEN = "prw_readiness_token_0123456789"

describe("readiness and refusals", () => {
  let dataDir: string
  const processes: PrwrightProcess[] = []
  const start = (args: string[], env: Record<string, string>) => {
    const proc = startPrwright(args, {
      PRWRIGHT_DATA_DIR: dataDir,
      PRWRIGHT_API_TOKEN: API_TOKEN,
      HOST: "127.0.0.1",
      PORT: "0",
      ...env,
    })
    processes.push(proc)
    return proc
  }
  const post = (baseUrl: string, body: unknown) =>
    fetch(`${baseUrl}/api/workflow/commentOnIssue`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    })
  const runs = async (baseUrl: string) =>
    (
      (await (
        await fetch(`${baseUrl}/api/jobs`, { headers: { authorization: `Bearer ${API_TOKEN}` } })
      ).json()) as { jobs: Array<{ jobId: string; status: string }> }
    ).jobs
  const readyz = async (baseUrl: string) => {
    const response = await fetch(`${baseUrl}/readyz`)
    return {
      status: response.status,
      body: (await response.json()) as { checks: Record<string, { ok: boolean; detail?: string }> },
    }
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "prwright-ready-"))
  })
  afterAll(async () => {
    await Promise.all(processes.map((proc) => proc.stop("SIGKILL")))
    await rm(dataDir, { recursive: true, force: true })
  })

  it("with Redis down, a request gets 503 with the reason quickly and no run is left pending", async () => {
    const server = start(["serve"], {
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      DATABASE_URL: `sqlite:${path.join(dataDir, "redis-down.db")}`,
    })
    const baseUrl = await serverUrl(server)
    const started = Date.now()
    const response = await post(baseUrl, { repoFullName: "acme/widgets", issueNumber: 1 })
    const tookMs = Date.now() - started
    expect(response.status).toBe(503)
    const body = (await response.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe("unavailable")
    expect(body.error.message).toMatch(/REDIS_URL/)
    expect(body.error.message).toMatch(/nothing was queued/)
    expect(tookMs).toBeLessThan(10_000)
    expect(await runs(baseUrl)).toEqual([])
    const ready = await readyz(baseUrl)
    expect(ready.status).toBe(503)
    expect(ready.body.checks.store?.ok).toBe(true)
    expect(ready.body.checks.queue).toEqual({
      ok: false,
      detail: "the job queue does not answer: check REDIS_URL and that Redis is up",
    })
    // no unhandled ioredis error took the process down
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200)
  }, 120_000)

  it.skipIf(!redis.available)(
    "without a worker for a job type: 503 naming the worker to start, /readyz says so; then 202 once one runs",
    async () => {
      const env = {
        REDIS_URL: redis.url,
        PRWRIGHT_QUEUE_PREFIX: uniqueName("ready"),
        DATABASE_URL: `sqlite:${path.join(dataDir, "no-worker.db")}`,
      }
      const api = start(["serve", "--no-workers"], env)
      const baseUrl = await serverUrl(api)
      const refused = await post(baseUrl, { repoFullName: "acme/widgets", issueNumber: 2 })
      expect(refused.status).toBe(503)
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
        /no worker is running for comment-on-issue jobs.*prwright worker --type comment/,
      )
      expect(await runs(baseUrl)).toEqual([])
      const before = await readyz(baseUrl)
      expect(before.status).toBe(503)
      expect(before.body.checks.queue?.ok).toBe(true)
      expect(before.body.checks["workers:resolve-issue"]?.detail).toMatch(/prwright worker --type resolve/)

      const worker = start(["worker", "--type", "comment"], env)
      await worker.waitFor(/worker started/, 60_000)
      const after = await readyz(baseUrl)
      expect(after.body.checks["workers:comment-on-issue"]).toEqual({ ok: true, detail: "1 live worker" })
      expect(after.body.checks["workers:resolve-issue"]?.ok).toBe(false)
      const accepted = await post(baseUrl, { repoFullName: "acme/widgets", issueNumber: 2 })
      expect(accepted.status).toBe(202)

      // a worker that stops cleanly is gone from readiness at once
      await worker.stop()
      expect((await readyz(baseUrl)).body.checks["workers:comment-on-issue"]?.ok).toBe(false)
    },
    120_000,
  )

  it("a busy port stops serve at once with the fix; --port 0 picks a free one", async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve))
    const { port } = blocker.address() as net.AddressInfo
    try {
      const busy = start(["serve", "--port", String(port)], {
        DATABASE_URL: `sqlite:${path.join(dataDir, "busy.db")}`,
      })
      const code = await busy.exited
      expect(code).not.toBe(0)
      expect(busy.output()).toMatch(new RegExp(`port ${port} on 127.0.0.1 is already in use`))
      expect(busy.output()).not.toMatch(/prwright is listening/)
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()))
    }
    const free = start(["serve", "--port", "0"], { DATABASE_URL: `sqlite:${path.join(dataDir, "free.db")}` })
    const url = await serverUrl(free)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(url).not.toMatch(/:0$/)
    const ready = await readyz(url)
    expect(ready.status, JSON.stringify(ready.body)).toBe(200)
    expect(Object.keys(ready.body.checks).sort()).toEqual([
      "queue",
      "store",
      "workers:answer-question",
      "workers:auto-resolve-issue",
      "workers:comment-on-issue",
      "workers:resolve-issue",
    ])
  }, 120_000)

  it("PRWRIGHT_SANDBOX=docker is refused at start, by serve and by worker", async () => {
    for (const args of [["serve"], ["worker", "--type", "comment"]]) {
      const proc = start(args, {
        PRWRIGHT_SANDBOX: "docker",
        DATABASE_URL: `sqlite:${path.join(dataDir, "docker.db")}`,
      })
      expect(await proc.exited).not.toBe(0)
      expect(proc.output()).toMatch(/PRWRIGHT_SANDBOX=docker is not available in this version: use bwrap/)
    }
  }, 120_000)
})
