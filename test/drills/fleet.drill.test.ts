/**
 * Reliability drill (`npm run test:drills`; part of `npm test`): one API process and three worker
 * processes on their own Redis (AOF) and a fresh PostgreSQL database, 100+ scripted plan runs through
 * the API while we SIGKILL a worker (and start another), cancel 10 running runs, terminate every
 * PostgreSQL connection, restart Redis, and keep Redis down for 10 s while requests arrive.
 * Every accepted run must end exactly once (completed, or cancelled where we cancelled it), every
 * cancel within 2 s, every request during the outage answered 503 quickly, one plan comment per
 * completed issue, and no secret in Redis, the database or the logs. The figures are printed (and
 * recorded in docs/reliability.md).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import net from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import {
  SCRIPTED_MODEL_PRICES,
  type ScriptedModelServer,
  startScriptedModelServer,
} from "../doubles/scripted-model-server.js"
import { type PrwrightProcess, serverUrl, startPrwright } from "../support/prwright-process.js"
import { findSecrets, scanRedis } from "../support/secret-scan.js"
import { service, uniqueName } from "../support/services.js"

const postgres = await service("postgres")
const redisAvailable = (await service("redis")).available
const GITHUB_TOKEN = "ghp_drillToken_0123456789abcdef"
const LLM_KEY = "sk-drill-key-0123456789abcdef"
const API_TOKEN = "prw_drill_api_token_0123456789"
const RUNS = 104
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const freePort = async () => {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe.skipIf(!postgres.available || !redisAvailable)("reliability drill: a fleet under faults", () => {
  const appName = uniqueName("drill")
  const database = uniqueName("drill")
  const prefix = uniqueName("drill")
  let redisPort: number
  let redisDir: string
  let redis: ChildProcess | undefined
  let admin: pg.Client
  let github: GitHubDouble
  let model: ScriptedModelServer
  let dataDir: string
  let env: Record<string, string>
  let baseUrl: string
  const processes: PrwrightProcess[] = []
  const figures: Record<string, unknown> = {}

  const startRedis = async () => {
    redis = spawn(
      "redis-server",
      [
        "--port",
        String(redisPort),
        "--bind",
        "127.0.0.1",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
      ].concat(["--dir", redisDir, "--save", "", "--maxmemory-policy", "noeviction"]),
      { stdio: "ignore" },
    )
    for (let i = 0; i < 100; i++) {
      if (
        await new Promise<boolean>((resolve) => {
          const socket = net.connect(redisPort, "127.0.0.1")
          socket.once("connect", () => {
            socket.destroy()
            resolve(true)
          })
          socket.once("error", () => resolve(false))
        })
      )
        return
      await sleep(50)
    }
    throw new Error("drill redis did not start")
  }
  const stopRedis = async (signal: NodeJS.Signals) => {
    const child = redis
    redis = undefined
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once("exit", resolve))
    child.kill(signal)
    await exited
  }
  const api = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${API_TOKEN}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  const accepted: Array<{ jobId: string; issue: number }> = []
  let nextIssue = 1
  const request = async () => {
    const issue = nextIssue
    const answer = await api("POST", "/api/workflow/commentOnIssue", {
      repoFullName: "acme/drill",
      issueNumber: issue,
    })
    if (answer.status === 202) {
      nextIssue++
      accepted.push({ jobId: String(answer.body.jobId), issue })
    }
    return answer
  }
  const statusOf = async (jobId: string) => String((await api("GET", `/api/jobs/${jobId}`)).body.status)
  const startWorker = async () => {
    const worker = startPrwright(["worker", "--type", "comment"], env)
    processes.push(worker)
    await worker.waitFor(/worker started/, 60_000)
    return worker
  }

  beforeAll(async () => {
    redisPort = await freePort()
    redisDir = await mkdtemp(path.join(tmpdir(), "prwright-drill-redis-"))
    await startRedis()
    admin = new pg.Client({ connectionString: postgres.url })
    await admin.connect()
    await admin.query(`create database ${database}`)
    github = await startGitHubDouble({
      tokens: { [GITHUB_TOKEN]: { login: "prwright-bot", repos: ["acme/drill"] } },
    })
    await github.createRepo("acme/drill", {
      files: { "README.md": "# drill\n", "src/a.js": "export const a = 1\n" },
    })
    for (let i = 0; i < RUNS + 40; i++)
      github.createIssue("acme/drill", { title: `task ${i}`, body: "plan it" })
    // one model call per run, held ~1.5 s so runs are in flight when faults hit; plenty for retries
    model = await startScriptedModelServer({
      script: Array.from({ length: 600 }, () => ({
        delayMs: 2_500,
        toolCalls: [{ name: "submit_plan", arguments: { plan: "1. Do the thing.\n2. Test it." } }],
      })),
      apiKey: LLM_KEY,
    })
    dataDir = await mkdtemp(path.join(tmpdir(), "prwright-drill-"))
    const databaseUrl = new URL(postgres.url)
    databaseUrl.pathname = `/${database}`
    databaseUrl.searchParams.set("application_name", appName)
    env = {
      PORT: "0",
      HOST: "127.0.0.1",
      PRWRIGHT_DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      PRWRIGHT_QUEUE_PREFIX: prefix,
      GITHUB_API_URL: github.apiUrl,
      GITHUB_TOKEN,
      LLM_PROVIDER: "openai-compatible",
      LLM_MODEL: "scripted",
      PRWRIGHT_MODEL_PRICES: SCRIPTED_MODEL_PRICES,
      LLM_BASE_URL: model.baseUrl,
      LLM_API_KEY: LLM_KEY,
      PRWRIGHT_API_TOKEN: API_TOKEN,
      PRWRIGHT_QUEUE_BACKOFF_MS: "200",
      LOG_LEVEL: "info",
    }
    const migrate = startPrwright(["migrate"], env)
    expect(await migrate.exited, migrate.output()).toBe(0)
    const apiProcess = startPrwright(["serve", "--no-workers"], env)
    processes.push(apiProcess)
    baseUrl = await serverUrl(apiProcess)
    for (let i = 0; i < 3; i++) await startWorker()
  }, 180_000)

  afterAll(async () => {
    console.log(`\nreliability drill figures: ${JSON.stringify(figures, null, 2)}\n`)
    await Promise.all(processes.map((proc) => proc.stop("SIGKILL")))
    await stopRedis("SIGKILL")
    await model?.close()
    await github?.close()
    if (admin) {
      await admin.query(`drop database if exists ${database} with (force)`).catch(() => {})
      await admin.end()
    }
    await rm(dataDir, { recursive: true, force: true }).catch(() => {})
    await rm(redisDir, { recursive: true, force: true }).catch(() => {})
  }, 60_000)

  it("every run ends exactly once, cancels are prompt, the outage answers 503", async () => {
    const drillStarted = Date.now()
    // A: 40 runs; SIGKILL a worker mid-run, start a new one
    for (let i = 0; i < 40; i++) expect((await request()).status).toBe(202)
    await sleep(2_500)
    const killed = processes[1] as PrwrightProcess
    await killed.stop("SIGKILL")
    await startWorker()

    // B: cancel 10 running runs, each within 2 s
    const cancelTimes: number[] = []
    const cancelled = new Set<string>()
    const deadline = Date.now() + 60_000
    while (cancelled.size < 10 && Date.now() < deadline) {
      // keep a few runs in flight, and look for running ones among the newest
      const newest = accepted.slice(-12)
      const live = (await Promise.all(newest.map(({ jobId }) => statusOf(jobId)))).filter(
        (status) => status === "pending" || status === "running",
      ).length
      if (live < 9) {
        await request()
        await request()
      }
      for (const { jobId } of newest) {
        if (cancelled.size >= 10) break
        if (cancelled.has(jobId) || (await statusOf(jobId)) !== "running") continue
        const started = Date.now()
        const answer = await api("DELETE", `/api/jobs/${jobId}`)
        if (answer.status !== 202) continue // it ended meanwhile
        cancelled.add(jobId)
        for (;;) {
          const status = await statusOf(jobId)
          if (status === "cancelled") break
          if (status === "completed" || status === "failed") {
            cancelled.delete(jobId) // finished before the cancel landed: allowed
            break
          }
          if (Date.now() - started > 5_000) break
          await sleep(25)
        }
        if (cancelled.has(jobId)) cancelTimes.push(Date.now() - started)
      }
      await sleep(100)
    }
    if (cancelTimes.length < 10) {
      const seen: Record<string, number> = {}
      for (const { jobId } of accepted.slice(0, 50)) {
        const status = (await api("GET", `/api/jobs/${jobId}`)).body
        const key = `${status.status}: ${String(status.error ?? "").slice(0, 160)}`
        seen[key] = (seen[key] ?? 0) + 1
      }
      figures.statusesWhenCancelsFailed = seen
      figures.logTail = processes
        .flatMap((proc) => proc.lines)
        .filter((l) => /"level":"(warn|error)"/.test(l))
        .slice(-8)
    }
    figures.cancels = cancelTimes.length
    figures.cancelMaxMs = Math.max(...cancelTimes)
    expect(cancelTimes.length).toBe(10)
    expect(Math.max(...cancelTimes)).toBeLessThanOrEqual(2_000)

    // C: PostgreSQL terminates every connection of the fleet; requests keep being accepted
    const terminated = await admin.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1",
      [appName],
    )
    figures.pgConnectionsTerminated = terminated.rowCount
    for (let i = 0; i < 20; i++) expect((await request()).status).toBe(202)

    // D: Redis restarts (clean shutdown, AOF kept)
    await stopRedis("SIGTERM")
    await startRedis()
    const afterRestart = Date.now()
    while ((await request()).status !== 202 && Date.now() - afterRestart < 30_000) await sleep(250)
    figures.acceptingAgainAfterRedisRestartMs = Date.now() - afterRestart

    // E: Redis down 10 s while requests arrive: each answered 503, quickly
    await stopRedis("SIGKILL")
    const outage: Array<{ status: number; ms: number }> = []
    const downSince = Date.now()
    while (Date.now() - downSince < 10_000) {
      const started = Date.now()
      const answer = await request()
      outage.push({ status: answer.status, ms: Date.now() - started })
      await sleep(500)
    }
    await startRedis()
    figures.outageRequests = outage.length
    figures.outageStatuses = [...new Set(outage.map((o) => o.status))]
    figures.outageMaxAnswerMs = Math.max(...outage.map((o) => o.ms))
    expect(outage.every((o) => o.status === 503)).toBe(true)
    expect(Math.max(...outage.map((o) => o.ms))).toBeLessThan(5_000)
    const back = Date.now()
    while (accepted.length < RUNS && Date.now() - back < 60_000) {
      const answer = await request()
      if (answer.status !== 202) await sleep(250)
    }
    figures.accepted = accepted.length
    expect(accepted.length).toBeGreaterThanOrEqual(RUNS)

    // every accepted run ends; completed unless we cancelled it; exactly one terminal status event
    const finalDeadline = Date.now() + 240_000
    const outcome = new Map<string, string>()
    while (outcome.size < accepted.length && Date.now() < finalDeadline) {
      for (const { jobId } of accepted) {
        if (outcome.has(jobId)) continue
        const status = await statusOf(jobId)
        if (["completed", "failed", "cancelled"].includes(status)) outcome.set(jobId, status)
      }
      if (outcome.size < accepted.length) await sleep(1_000)
    }
    figures.drillSeconds = Math.round((Date.now() - drillStarted) / 1000)
    const counts: Record<string, number> = {}
    for (const status of outcome.values()) counts[status] = (counts[status] ?? 0) + 1
    figures.outcomes = counts
    expect(outcome.size).toBe(accepted.length)
    for (const { jobId, issue } of accepted) {
      expect(outcome.get(jobId), jobId).toBe(cancelled.has(jobId) ? "cancelled" : "completed")
      const events = (await (
        await fetch(`${baseUrl}/api/jobs/${jobId}/events`, {
          headers: { authorization: `Bearer ${API_TOKEN}`, accept: "application/json" },
        })
      ).json()) as Array<{ type: string; status?: string }>
      const ends = events.filter(
        (e) => e.type === "status" && ["completed", "failed", "cancelled"].includes(String(e.status)),
      )
      expect(ends, jobId).toHaveLength(1)
      if (!cancelled.has(jobId))
        expect(github.comments("acme/drill", issue), `issue ${issue}`).toHaveLength(1)
    }

    // no secret in Redis, the database or any log line
    const secrets = [GITHUB_TOKEN, LLM_KEY, API_TOKEN]
    const redisScan = await scanRedis(`redis://127.0.0.1:${redisPort}`, prefix, secrets)
    expect(redisScan.hits).toEqual([])
    const db = new pg.Client({ connectionString: env.DATABASE_URL })
    await db.connect()
    const tables = await db.query(
      "select table_name from information_schema.tables where table_schema = 'public'",
    )
    for (const { table_name } of tables.rows as Array<{ table_name: string }>) {
      const rows = await db.query(`select * from "${table_name}"`)
      expect(findSecrets(JSON.stringify(rows.rows), secrets), table_name).toEqual([])
    }
    await db.end()
    const logs = processes.flatMap((proc) => proc.lines)
    expect(logs.filter((line) => findSecrets(line, secrets).length > 0)).toEqual([])
  }, 600_000)
})
