/**
 * Reliability drill (`npm run test:drills`; part of `npm test`): one API process and three worker
 * processes (`worker --type all`, each with its own workspace directory, as in docker-compose.yml) on
 * their own Redis (AOF) and a fresh PostgreSQL database, 100+ scripted runs of both kinds through the
 * API (plan runs: `commentOnIssue`; resolve runs: `autoResolveIssue`, plan → edit in the sandbox →
 * tests → push → PR) while we SIGKILL a worker (and start another), cancel 10 running runs (plan and
 * resolve), terminate every PostgreSQL connection, restart Redis, and keep Redis down for 10 s while
 * requests arrive. Every accepted run must end exactly once (completed, or cancelled where we cancelled
 * it), every cancel within 2 s, every request during the outage answered 503 quickly, one plan comment
 * per completed plan issue, one PR per completed resolve issue (none for a cancelled one), and no secret
 * in Redis, the database, the logs, the workspaces, what GitHub got or what the model saw. The figures
 * are printed (and recorded in docs/reliability.md).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import net from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { issueOf, offeredTools, perConversation } from "#adapters/demo/conversation-script.js"
import type { ScriptStep } from "#adapters/demo/scripted-model-server.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import { type ScriptedModelServer, startScriptedModelServer } from "../doubles/scripted-model-server.js"
import { type PrwrightProcess, prwrightEnv, serverUrl, startPrwright } from "../support/prwright-process.js"
import {
  FIXED_LINE_NEW,
  FIXED_LINE_OLD,
  fixSteps,
  planSteps,
  SAMPLE_FILES,
  SAMPLE_ISSUE,
} from "../support/sample-repo.js"
import { findSecrets, scanFiles, scanRedis } from "../support/secret-scan.js"
import { freePort, service, uniqueName } from "../support/services.js"

const postgres = await service("postgres")
const redisAvailable = (await service("redis")).available
const GITHUB_TOKEN = "ghp_drillToken_0123456789abcdef"
const LLM_KEY = "sk-drill-key-0123456789abcdef"
const API_TOKEN = "prw_drill_api_token_0123456789"
const PLAN_REPO = "acme/drill"
const RESOLVE_REPO = "acme/mathlib"
const PLAN_RUNS = 80
const RESOLVE_RUNS = 24
const CANCELS = { plan: 6, resolve: 4 }
type Kind = "plan" | "resolve"
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const terminal = (status: string) => ["completed", "failed", "cancelled"].includes(status)
const slowed = (step: ScriptStep, delayMs: number): ScriptStep => ({ ...step, delayMs })

/**
 * Each conversation's own script, found from the repository, issue and tools in the request, so runs
 * in three processes at once (and a run retried on another worker) each get theirs. Plan runs: one
 * submit_plan held 2.5 s. Resolve runs: plan (view, submit_plan), then fix (npm test held 1 s, view,
 * str_replace, npm test, submit, submit after the review) with clone, setup and tests in the sandbox
 * around them: each run is in flight for some seconds, so faults and cancels meet runs in every phase.
 */
const drillScript = perConversation((body) => {
  const about = issueOf(body)
  const tools = offeredTools(body)
  if (about?.repo === PLAN_REPO)
    return [
      slowed(
        { toolCalls: [{ name: "submit_plan", arguments: { plan: "1. Do the thing.\n2. Test it." } }] },
        2_500,
      ),
    ]
  if (about?.repo !== RESOLVE_REPO) return undefined
  if (tools.includes("submit_plan")) return planSteps()
  if (tools.includes("submit")) {
    const [firstTest, ...rest] = fixSteps()
    return [slowed(firstTest as ScriptStep, 1_000), ...rest]
  }
  return undefined
})

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
  const workerDirs: string[] = []
  let env: Record<string, string>
  let baseUrl: string
  const processes: PrwrightProcess[] = []
  const figures: Record<string, unknown> = {}
  const issues: Record<Kind, number[]> = { plan: [], resolve: [] }

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
  const accepted: Array<{ jobId: string; issue: number; kind: Kind }> = []
  const used: Record<Kind, number> = { plan: 0, resolve: 0 }
  const count = (kind: Kind) => accepted.filter((run) => run.kind === kind).length
  const request = async (kind: Kind) => {
    const issue = issues[kind][used[kind]]
    if (issue === undefined) throw new Error(`the drill ran out of ${kind} issues`)
    const answer =
      kind === "plan"
        ? await api("POST", "/api/workflow/commentOnIssue", { repoFullName: PLAN_REPO, issueNumber: issue })
        : await api("POST", "/api/workflow/autoResolveIssue", {
            repoFullName: RESOLVE_REPO,
            issueNumber: issue,
            options: { postToGitHub: true },
          })
    if (answer.status === 202) {
      used[kind]++
      accepted.push({ jobId: String(answer.body.jobId), issue, kind })
    }
    return answer
  }
  /** every third request a resolve run */
  const mixed = (i: number): Kind => (i % 3 === 2 ? "resolve" : "plan")
  const statusOf = async (jobId: string) => String((await api("GET", `/api/jobs/${jobId}`)).body.status)
  const startWorker = async () => {
    // its own workspace directory, as each worker has its own volume in docker-compose.yml
    const workerDir = await mkdtemp(path.join(tmpdir(), "prwright-drill-worker-"))
    workerDirs.push(workerDir)
    const worker = startPrwright(["worker", "--type", "all"], { ...env, PRWRIGHT_DATA_DIR: workerDir })
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
      tokens: { [GITHUB_TOKEN]: { login: "prwright-bot", repos: [PLAN_REPO, RESOLVE_REPO] } },
    })
    await github.createRepo(PLAN_REPO, {
      files: { "README.md": "# drill\n", "src/a.js": "export const a = 1\n" },
    })
    // a real repository with a failing node:test the resolve runs fix (the same bug, one issue per run)
    await github.createRepo(RESOLVE_REPO, { files: SAMPLE_FILES })
    for (let i = 0; i < PLAN_RUNS + 40; i++)
      issues.plan.push(github.createIssue(PLAN_REPO, { title: `task ${i}`, body: "plan it" }))
    for (let i = 0; i < RESOLVE_RUNS + 20; i++)
      issues.resolve.push(github.createIssue(RESOLVE_REPO, SAMPLE_ISSUE))
    // no shared script: every request is answered from its conversation's own script (or fails loudly)
    model = await startScriptedModelServer({ script: [], answer: drillScript, apiKey: LLM_KEY })
    dataDir = await mkdtemp(path.join(tmpdir(), "prwright-drill-"))
    const databaseUrl = new URL(postgres.url)
    databaseUrl.pathname = `/${database}`
    databaseUrl.searchParams.set("application_name", appName)
    env = prwrightEnv(
      { dataDir, github, githubToken: GITHUB_TOKEN, model, llmKey: LLM_KEY, apiToken: API_TOKEN },
      {
        DATABASE_URL: databaseUrl.toString(),
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        PRWRIGHT_QUEUE_PREFIX: prefix,
        PRWRIGHT_QUEUE_BACKOFF_MS: "200",
        // two resolve runs per worker (six in the fleet) keep the drill's wall time within CI's budget
        WORKER_CONCURRENCY_AUTO_RESOLVE: "2",
        LOG_LEVEL: "info",
      },
    )
    const migrate = startPrwright(["migrate"], env)
    expect(await migrate.exited, migrate.output()).toBe(0)
    const apiProcess = startPrwright(["serve", "--no-workers"], env)
    processes.push(apiProcess)
    baseUrl = await serverUrl(apiProcess)
    await Promise.all([startWorker(), startWorker(), startWorker()])
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
    for (const dir of [dataDir, redisDir, ...workerDirs])
      if (dir) await rm(dir, { recursive: true, force: true }).catch(() => {})
  }, 60_000)

  it("every run of both kinds ends exactly once, cancels are prompt, the outage answers 503", async () => {
    const drillStarted = Date.now()
    // seconds from the drill's start at which each phase ended: where the wall time goes
    const phases: Record<string, number> = {}
    const phaseDone = (name: string) => {
      phases[name] = Math.round((Date.now() - drillStarted) / 1000)
    }
    figures.phaseEndSeconds = phases
    // A: 40 runs (every third a resolve run); SIGKILL a worker mid-run, start a new one
    for (let i = 0; i < 40; i++) expect((await request(mixed(i))).status).toBe(202)
    await sleep(2_500)
    const killed = processes[1] as PrwrightProcess
    await killed.stop("SIGKILL")
    await startWorker()
    phaseDone("killedAndReplaced")

    // B: cancel 10 running runs (6 plan, 4 resolve), each within 2 s
    const cancelTimes: Record<Kind, number[]> = { plan: [], resolve: [] }
    const cancelled = new Set<string>()
    const cancelLog: Array<{
      kind: Kind
      jobId: string
      started: number
      ms: number
      answeredMs: number
      phase: string
    }> = []
    const ended = new Set<string>()
    const deadline = Date.now() + 90_000
    while (cancelled.size < CANCELS.plan + CANCELS.resolve && Date.now() < deadline) {
      const statuses = new Map<string, string>()
      for (const { jobId } of accepted) {
        if (ended.has(jobId)) continue
        const status = await statusOf(jobId)
        statuses.set(jobId, status)
        if (terminal(status)) ended.add(jobId)
      }
      // keep runs of both kinds in flight
      const live = (kind: Kind) => accepted.filter((r) => r.kind === kind && !ended.has(r.jobId)).length
      if (live("plan") < 9) {
        await request("plan")
        await request("plan")
      }
      if (live("resolve") < 4) await request("resolve")
      for (const { jobId, kind } of accepted) {
        if (cancelTimes[kind].length >= CANCELS[kind] || cancelled.has(jobId)) continue
        if (statuses.get(jobId) !== "running") continue
        const before = (await api("GET", `/api/jobs/${jobId}`)).body
        if (before.status !== "running") continue
        const started = Date.now()
        const answer = await api("DELETE", `/api/jobs/${jobId}`)
        if (answer.status !== 202) continue // it ended meanwhile
        const answeredMs = Date.now() - started
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
        if (cancelled.has(jobId)) {
          cancelTimes[kind].push(Date.now() - started)
          cancelLog.push({
            kind,
            jobId,
            started,
            ms: Date.now() - started,
            answeredMs,
            phase: String(before.progressMessage ?? ""),
          })
        }
      }
      await sleep(100)
    }
    const allCancels = [...cancelTimes.plan, ...cancelTimes.resolve]
    if (allCancels.length < CANCELS.plan + CANCELS.resolve) {
      const seen: Record<string, number> = {}
      for (const { jobId, kind } of accepted.slice(0, 60)) {
        const status = (await api("GET", `/api/jobs/${jobId}`)).body
        const key = `${kind} ${status.status}: ${String(status.error ?? "").slice(0, 160)}`
        seen[key] = (seen[key] ?? 0) + 1
      }
      figures.statusesWhenCancelsFailed = seen
      figures.logTail = processes
        .flatMap((proc) => proc.lines)
        .filter((l) => /"level":"(warn|error)"/.test(l))
        .slice(-8)
    }
    // where the time of each slow cancel went: the DELETE's answer, then the run's events after it
    figures.slowCancels = await Promise.all(
      cancelLog
        .filter((c) => c.ms > 1_000)
        .map(async ({ started, jobId, ...rest }) => {
          const events = (await (
            await fetch(`${baseUrl}/api/jobs/${jobId}/events`, {
              headers: { authorization: `Bearer ${API_TOKEN}`, accept: "application/json" },
            })
          ).json()) as Array<{ type: string; at: string; status?: string; tool?: string; message?: string }>
          const after = events
            .filter((e) => Date.parse(e.at) >= started - 200)
            .map((e) => `+${Date.parse(e.at) - started}ms ${e.type} ${e.status ?? e.tool ?? e.message ?? ""}`)
          return { ...rest, after }
        }),
    )
    figures.cancels = { plan: cancelTimes.plan.length, resolve: cancelTimes.resolve.length }
    figures.cancelMaxMs = {
      plan: Math.max(...cancelTimes.plan),
      resolve: Math.max(...cancelTimes.resolve),
    }
    expect(cancelTimes.plan.length).toBe(CANCELS.plan)
    expect(cancelTimes.resolve.length).toBe(CANCELS.resolve)
    expect(Math.max(...allCancels)).toBeLessThanOrEqual(2_000)
    phaseDone("cancelled")

    // C: PostgreSQL terminates every connection of the fleet; requests keep being accepted
    const terminated = await admin.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1",
      [appName],
    )
    figures.pgConnectionsTerminated = terminated.rowCount
    for (let i = 0; i < 20; i++) expect((await request(mixed(i))).status).toBe(202)

    // D: Redis restarts (clean shutdown, AOF kept)
    await stopRedis("SIGTERM")
    await startRedis()
    const afterRestart = Date.now()
    while ((await request("plan")).status !== 202 && Date.now() - afterRestart < 30_000) await sleep(250)
    figures.acceptingAgainAfterRedisRestartMs = Date.now() - afterRestart
    phaseDone("postgresCutAndRedisRestarted")

    // E: Redis down 10 s while requests of both kinds arrive: each answered 503, quickly
    await stopRedis("SIGKILL")
    const outage: Array<{ kind: Kind; status: number; ms: number }> = []
    const downSince = Date.now()
    while (Date.now() - downSince < 10_000) {
      const kind: Kind = outage.length % 2 === 0 ? "plan" : "resolve"
      const started = Date.now()
      const answer = await request(kind)
      outage.push({ kind, status: answer.status, ms: Date.now() - started })
      await sleep(500)
    }
    await startRedis()
    phaseDone("outage")
    figures.outageRequests = outage.map((o) => o.kind).join(",")
    figures.outageStatuses = [...new Set(outage.map((o) => o.status))]
    figures.outageMaxAnswerMs = Math.max(...outage.map((o) => o.ms))
    expect(outage.every((o) => o.status === 503)).toBe(true)
    expect(Math.max(...outage.map((o) => o.ms))).toBeLessThan(5_000)
    const back = Date.now()
    while ((count("plan") < PLAN_RUNS || count("resolve") < RESOLVE_RUNS) && Date.now() - back < 60_000) {
      const answer = await request(count("resolve") < RESOLVE_RUNS ? "resolve" : "plan")
      if (answer.status !== 202) await sleep(250)
    }
    figures.accepted = { plan: count("plan"), resolve: count("resolve") }
    phaseDone("allAccepted")
    expect(count("plan")).toBeGreaterThanOrEqual(PLAN_RUNS)
    expect(count("resolve")).toBeGreaterThanOrEqual(RESOLVE_RUNS)

    // every accepted run ends; completed unless we cancelled it; exactly one terminal status event
    const finalDeadline = Date.now() + 240_000
    const outcome = new Map<string, Record<string, unknown>>()
    while (outcome.size < accepted.length && Date.now() < finalDeadline) {
      for (const { jobId } of accepted) {
        if (outcome.has(jobId)) continue
        const status = (await api("GET", `/api/jobs/${jobId}`)).body
        if (terminal(String(status.status))) outcome.set(jobId, status)
      }
      if (outcome.size < accepted.length) await sleep(1_000)
    }
    phaseDone("allEnded")
    figures.drillSeconds = Math.round((Date.now() - drillStarted) / 1000)
    const counts: Record<string, number> = {}
    const retried: Record<Kind, number> = { plan: 0, resolve: 0 }
    const resolveSeconds: number[] = []
    for (const { jobId, kind } of accepted) {
      const status = outcome.get(jobId)
      if (!status) continue
      const key = `${kind} ${String(status.status)}`
      counts[key] = (counts[key] ?? 0) + 1
      if (Number(status.attempts) > 1) retried[kind]++
      if (kind === "resolve" && status.status === "completed" && status.startedAt && status.finishedAt)
        resolveSeconds.push(
          (Date.parse(String(status.finishedAt)) - Date.parse(String(status.startedAt))) / 1000,
        )
    }
    resolveSeconds.sort((a, b) => a - b)
    figures.outcomes = counts
    figures.runsWithMoreThanOneAttempt = retried
    figures.resolveRunSeconds = {
      p50: resolveSeconds[Math.floor(resolveSeconds.length / 2)],
      max: resolveSeconds.at(-1),
    }
    const unended = accepted.filter((run) => !outcome.has(run.jobId))
    // a run that never ended: what it says, its events and the fleet's log lines about it, for the next person
    for (const run of unended) {
      const status = (await api("GET", `/api/jobs/${run.jobId}`)).body
      const events = await (
        await fetch(`${baseUrl}/api/jobs/${run.jobId}/events`, {
          headers: { authorization: `Bearer ${API_TOKEN}`, accept: "application/json" },
        })
      ).json()
      const lines = processes.flatMap((proc) => proc.lines).filter((line) => line.includes(run.jobId))
      console.error(
        `\nUNENDED ${run.kind} run ${run.jobId}: ${JSON.stringify(status)}\nevents: ${JSON.stringify(events).slice(-4000)}\nlog:\n${lines.join("\n").slice(-6000)}\n`,
      )
    }
    expect(unended, JSON.stringify(unended)).toEqual([])
    expect(model.errors).toEqual([])

    const pulls = github.pullRequests(RESOLVE_REPO)
    let cancelledWithBranch = 0
    let cancelledWithStopComment = 0
    for (const { jobId, issue, kind } of accepted) {
      const status = outcome.get(jobId) as Record<string, unknown>
      const wanted = cancelled.has(jobId) ? "cancelled" : "completed"
      expect(status.status, `${kind} ${jobId}: ${String(status.error ?? "")}`).toBe(wanted)
      const events = (await (
        await fetch(`${baseUrl}/api/jobs/${jobId}/events`, {
          headers: { authorization: `Bearer ${API_TOKEN}`, accept: "application/json" },
        })
      ).json()) as Array<{ type: string; status?: string }>
      const ends = events.filter((e) => e.type === "status" && terminal(String(e.status)))
      expect(ends, jobId).toHaveLength(1)
      if (kind === "plan") {
        if (wanted === "completed")
          expect(github.comments(PLAN_REPO, issue), `issue ${issue}`).toHaveLength(1)
        continue
      }
      // resolve: exactly one PR per completed issue, closing that issue and holding exactly the fix
      const branch = `prwright/issue-${issue}-`
      const prs = pulls.filter((pull) => pull.head.startsWith(branch))
      const plans = github
        .comments(RESOLVE_REPO, issue)
        .filter((comment) => comment.body.includes("Implementation plan"))
      if (wanted === "cancelled") {
        expect(prs, `cancelled resolve issue ${issue}`).toEqual([])
        // the worker explains the stop once, after the run ended (none when its worker was gone)
        const stops = github
          .comments(RESOLVE_REPO, issue)
          .filter((comment) => comment.body.includes("stopped before opening a pull request"))
        expect(stops.length, `stop comments on cancelled resolve issue ${issue}`).toBeLessThanOrEqual(1)
        cancelledWithStopComment += stops.length
        if (await github.refSha(RESOLVE_REPO, `refs/heads/${branch}clamp-ignores-the-upper-bound`))
          cancelledWithBranch++
        continue
      }
      expect(prs, `resolve issue ${issue}`).toHaveLength(1)
      const pr = prs[0] as (typeof prs)[number]
      expect(pr.body).toContain(`Closes #${issue}`)
      const diff = await github.diff(RESOLVE_REPO, "main", pr.head)
      expect(
        [...diff.matchAll(/^diff --git a\/(\S+)/gm)].map((m) => m[1]),
        pr.head,
      ).toEqual(["src/math.js"])
      expect(diff).toContain(`-${FIXED_LINE_OLD}`)
      expect(diff).toContain(`+${FIXED_LINE_NEW}`)
      expect(plans, `plan comments on resolve issue ${issue}`).toHaveLength(1)
    }
    const completedResolve = accepted.filter((r) => r.kind === "resolve" && !cancelled.has(r.jobId)).length
    figures.pullRequests = pulls.length
    figures.cancelledResolveRuns = {
      withPushedBranch: cancelledWithBranch,
      withStopComment: cancelledWithStopComment,
    }
    expect(pulls).toHaveLength(completedResolve)

    // no secret in Redis, the database, any log line, the workspaces, what GitHub got, what the model saw
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
    // the sandbox the workers detected (bubblewrap where it works, as in production)
    figures.sandbox = [
      ...new Set(logs.flatMap((line) => /"sandbox: (\w+)"|"sandbox":"(\w+)"/.exec(line)?.slice(1) ?? [])),
    ].filter(Boolean)
    expect(logs.filter((line) => findSecrets(line, secrets).length > 0)).toEqual([])
    for (const dir of [dataDir, ...workerDirs]) expect(scanFiles(dir, secrets), dir).toEqual([])
    const published = JSON.stringify([pulls, ...issues.resolve.map((n) => github.comments(RESOLVE_REPO, n))])
    expect(findSecrets(published, secrets)).toEqual([])
    expect(findSecrets(JSON.stringify(model.requests), secrets)).toEqual([])
  }, 600_000)
})
