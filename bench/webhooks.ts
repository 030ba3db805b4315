/**
 * Webhook intake benchmark: 1,000 signed GitHub deliveries (real payloads from @octokit/webhooks-examples:
 * prwright labels, /prwright comments, comments and labels that are no trigger, pushes, second triggers
 * on a busy issue, exact redeliveries and replays of a captured body under a new delivery id) posted over
 * HTTP to `POST /api/webhooks/github` as fast as the intake answers, 32 in flight from a child process
 * (bench/support/webhook-client-child.mjs, so the load generator does not share the measured event
 * loop), once with the embedded
 * queue and once with BullMQ on Redis. The GitHub double answers permissions and reactions, as GitHub would,
 * from a child process of its own (bench/support/github-double-child.ts): in production GitHub is another
 * machine, so its CPU is not the intake's.
 *
 *   node --conditions=prwright-source --import tsx bench/webhooks.ts [--json] [--deliveries N] [--only embedded|redis]
 *   BENCH_CPU_PROFILE=dir  writes a CPU profile of each mode's measured burst (no start-up, no warm-up)
 *
 * Reported per mode: acknowledged per second, p50/p99 answer time, runs started vs expected, lost (a
 * delivery not answered 2xx, or an expected run missing) and duplicates (a run beyond one per trigger).
 * Targets: ≥ 500 acks/s, p99 < 100 ms, lost 0, duplicates 0. The last line with --json is one JSON object.
 */
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { Session } from "node:inspector/promises"
import type { AddressInfo } from "node:net"
import { loadavg, tmpdir } from "node:os"
import path from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { serve } from "@hono/node-server"
import { Redis } from "ioredis"
import { createApiAuth } from "#application/api-auth.js"
import { silentLogger } from "#application/ports/logging.js"
import { createHttpApp } from "#entrypoints/http/app.js"
import { loadConfig } from "#main/config.js"
import { createContainer } from "#main/container.js"
import { commentPayload, labeledPayload, signedDelivery } from "../test/doubles/github/webhook-payloads.js"

const args = process.argv.slice(2)
const asJson = args.includes("--json")
const countArg = args.indexOf("--deliveries")
const DELIVERIES = countArg >= 0 ? Number(args[countArg + 1]) : 1_000
const onlyArg = args.indexOf("--only")
const ONLY = onlyArg >= 0 ? (args[onlyArg + 1] ?? "") : undefined
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 32)
const WARM_DELIVERIES = Math.max(100, Math.round(DELIVERIES / 10))
const SECRET = "whsec-bench-0123456789"
const TOKEN = "ghp_benchToken_0123456789abcdef"
const REPO = "bench/widgets"
const WARM_REPO = "bench/warm-up"
const REDIS_URL = process.env.REDIS_URL ?? process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379"

const log = (line: string) => {
  if (!asJson) console.log(line)
}

interface Delivery {
  body: string
  headers: Record<string, string>
  /** the issue whose first trigger this is (one run expected), if any */
  starts?: number
}

/** issues a mix of `count` deliveries touches, and comments per issue it may name (see buildDeliveries) */
const issuesFor = (count: number) => Math.ceil((count / 20) * 9) + 1
const COMMENTS_PER_ISSUE = 6

/** The mix: ~45 % triggers on fresh issues, ~15 % second triggers, ~15 % no trigger, ~25 % duplicates. */
const buildDeliveries = (
  count: number,
  repo: string,
  /** comments that exist on the GitHub double, per issue: each comment delivery names one of them */
  comments: Record<number, number[]>,
): { deliveries: Delivery[]; expected: Set<number> } => {
  const used = new Map<number, number>()
  const commentOn = (issue: number) => {
    const k = used.get(issue) ?? 0
    used.set(issue, k + 1)
    const id = comments[issue]?.[k]
    if (id === undefined) throw new Error(`bench: no comment ${k} left on ${repo}#${issue}`)
    return id
  }
  const deliveries: Delivery[] = []
  const expected = new Set<number>()
  const sent: Delivery[] = []
  let issue = 1
  const alice = { login: "alice" }
  for (let i = 0; deliveries.length < count; i++) {
    const kind = i % 20
    let delivery: Delivery
    if (kind < 5) {
      const n = issue++
      const d = signedDelivery(
        "issues",
        labeledPayload({ repo, issue: n, label: "prwright:plan", sender: alice }),
        { secret: SECRET },
      )
      delivery = { ...d, starts: n }
    } else if (kind < 9) {
      const n = issue++
      const d = signedDelivery(
        "issue_comment",
        commentPayload({ repo, issue: n, body: "/prwright plan", sender: alice, commentId: commentOn(n) }),
        { secret: SECRET },
      )
      delivery = { ...d, starts: n }
    } else if (kind < 12) {
      // a second trigger on an issue that already has a run: answered with that run
      const n = Math.max(1, issue - 3)
      delivery = signedDelivery(
        "issue_comment",
        commentPayload({
          repo,
          issue: n,
          body: "/prwright resolve",
          sender: alice,
          commentId: commentOn(n),
        }),
        { secret: SECRET },
      )
    } else if (kind < 15) {
      const n = Math.max(1, issue - 1)
      delivery =
        kind === 12
          ? signedDelivery(
              "issue_comment",
              commentPayload({
                repo,
                issue: n,
                body: "lgtm, thanks",
                sender: alice,
                commentId: commentOn(n),
              }),
              { secret: SECRET },
            )
          : kind === 13
            ? signedDelivery("issues", labeledPayload({ repo, issue: n, label: "bug", sender: alice }), {
                secret: SECRET,
              })
            : signedDelivery(
                "push",
                { ref: "refs/heads/main", repository: { full_name: repo } },
                { secret: SECRET },
              )
    } else {
      // duplicates: GitHub's redelivery (same id) or a replay of a captured body under a new id
      const original = sent[Math.floor((sent.length * (i % 7)) / 7)] ?? sent[0]
      if (!original) continue
      const replayed = kind % 2 === 0
      delivery = {
        body: original.body,
        headers: replayed ? { ...original.headers, "x-github-delivery": randomUUID() } : original.headers,
      }
    }
    if (delivery.starts !== undefined) expected.add(delivery.starts)
    if (delivery.starts !== undefined || kind < 12) sent.push(delivery)
    deliveries.push(delivery)
  }
  return { deliveries, expected }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

interface ModeResult {
  mode: string
  deliveries: number
  acksPerSec: number
  p50Ms: number
  p99Ms: number
  runsStarted: number
  runsExpected: number
  lost: number
  duplicates: number
  non2xx: number
  serverCpuMsPerDelivery: number
  /** the load generator's CPU per delivery (a child process on the same cores) */
  clientCpuMsPerDelivery: number
  eventLoopMaxMs: number
  /** what the intake asked GitHub during the warm-up and the burst, by method and path shape */
  githubRequests: Record<string, number>
}

const CLIENT = path.join(import.meta.dirname, "support", "webhook-client-child.mjs")
const GITHUB = path.join(import.meta.dirname, "support", "github-double-child.ts")

/** the GitHub double in its own process; `requests()` counts what it served by method and path shape */
const startGitHub = async () => {
  const spec = {
    tokens: { [TOKEN]: { login: "prwright-bot", repos: "*" } },
    repos: [
      { name: REPO, writers: ["alice"], issues: issuesFor(DELIVERIES), commentsPerIssue: COMMENTS_PER_ISSUE },
      {
        name: WARM_REPO,
        writers: ["alice"],
        issues: issuesFor(WARM_DELIVERIES),
        commentsPerIssue: COMMENTS_PER_ISSUE,
      },
    ],
  }
  const child = spawn(process.execPath, [...process.execArgv, GITHUB, JSON.stringify(spec)], {
    stdio: ["pipe", "pipe", "inherit"],
  })
  child.stdout.setEncoding("utf8")
  const lines: string[] = []
  let partial = ""
  let waiting: ((line: string) => void) | undefined
  child.stdout.on("data", (chunk: string) => {
    partial += chunk
    for (let end = partial.indexOf("\n"); end >= 0; end = partial.indexOf("\n")) {
      lines.push(partial.slice(0, end))
      partial = partial.slice(end + 1)
    }
    if (waiting && lines.length > 0) waiting(lines.shift() as string)
  })
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const first = lines.shift()
      if (first !== undefined) return resolve(first)
      waiting = (line) => {
        waiting = undefined
        resolve(line)
      }
      child.once("exit", (code) => reject(new Error(`the GitHub double exited with ${code}`)))
    })
  const { apiUrl, comments } = JSON.parse(await nextLine()) as {
    apiUrl: string
    comments: Record<string, Record<number, number[]>>
  }
  return {
    apiUrl,
    comments,
    requests: async () => {
      child.stdin.write("requests\n")
      return JSON.parse(await nextLine()) as Record<string, number>
    },
    close: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve())
        child.stdin.end()
      }),
  }
}
/** the load generator in its own process: it must not share the event loop it measures */
const runClient = async (
  plan: string,
  /** called when the warm-up is over, right before the burst */
  onWarm: () => void,
): Promise<{
  elapsedMs: number
  latencies: number[]
  non2xx: number
  failures: string[]
  clientCpuMs: number
}> => {
  const child = spawn(process.execPath, [CLIENT, plan], { stdio: ["pipe", "pipe", "inherit"] })
  let out = ""
  child.stdout.setEncoding("utf8")
  child.stdout.on("data", (chunk: string) => {
    out += chunk
    if (out.startsWith("warm\n")) {
      out = out.slice("warm\n".length)
      onWarm()
      child.stdin.end("go\n")
    }
  })
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve))
  if (code !== 0) throw new Error(`the load generator exited with ${code}`)
  return JSON.parse(out)
}

const measure = async (mode: "embedded" | "redis"): Promise<ModeResult> => {
  const github = await startGitHub()
  const dataDir = mkdtempSync(path.join(tmpdir(), "prwright-bench-webhooks-"))
  const prefix = `bench_wh_${randomUUID().slice(0, 8)}`
  const container = await createContainer(
    loadConfig({
      PRWRIGHT_DATA_DIR: dataDir,
      GITHUB_API_URL: github.apiUrl,
      GITHUB_TOKEN: TOKEN,
      GITHUB_WEBHOOK_SECRET: SECRET,
      PRWRIGHT_API_TOKEN: "prw_bench_webhooks_token_0123",
      ...(mode === "redis" ? { REDIS_URL, PRWRIGHT_QUEUE_PREFIX: prefix } : {}),
    }),
    { logger: silentLogger, model: null },
  )
  const app = createHttpApp({
    requester: container.requester,
    cancelRun: container.cancelRun,
    store: container.store,
    bus: container.bus,
    auth: await createApiAuth({
      store: container.store,
      configuredToken: "prw_bench_webhooks_token_0123",
      announce: () => {},
      newId: randomUUID,
    }),
    logger: silentLogger,
    workflows: container.jobTypes,
    version: "bench",
    webhooks: { secret: SECRET, handle: container.webhooks.handle },
  })
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" })
  // longer than any answer under load, so the server never closes a connection the client is reusing
  ;(server as unknown as { keepAliveTimeout: number }).keepAliveTimeout = 65_000
  await new Promise((resolve) => server.once("listening", resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/webhooks/github`

  try {
    const { deliveries, expected } = buildDeliveries(DELIVERIES, REPO, github.comments[REPO] ?? {})
    // warm-up, not counted: the same mix on a repository of its own (so its runs are not counted),
    // with the same number in flight: connections, the permission cache, prepared statements and the
    // JIT of every path. Without it the first 32 answers took seconds on a loaded machine.
    const warmup = buildDeliveries(WARM_DELIVERIES, WARM_REPO, github.comments[WARM_REPO] ?? {}).deliveries
    const plan = path.join(dataDir, "client.json")
    writeFileSync(plan, JSON.stringify({ url, inFlight: IN_FLIGHT, warmup, deliveries }))
    let cpuBefore = process.cpuUsage()
    const loopDelay = monitorEventLoopDelay({ resolution: 10 })
    const profiler = process.env.BENCH_CPU_PROFILE ? new Session() : undefined
    profiler?.connect()
    await profiler?.post("Profiler.enable")
    const client = await runClient(plan, () => {
      void profiler?.post("Profiler.start")
      cpuBefore = process.cpuUsage()
      loopDelay.enable()
    })
    loopDelay.disable()
    const cpu = process.cpuUsage(cpuBefore)
    if (profiler) {
      const { profile } = await profiler.post("Profiler.stop")
      const file = path.join(
        process.env.BENCH_CPU_PROFILE ?? ".",
        `webhooks-${mode}-${Date.now()}.cpuprofile`,
      )
      writeFileSync(file, JSON.stringify(profile))
      log(`  CPU profile of the burst: ${file}`)
      profiler.disconnect()
    }
    const githubRequests = await github.requests()
    const { elapsedMs, latencies, non2xx, failures, clientCpuMs } = client
    for (const failure of failures) log(`  not acknowledged: ${failure}`)

    const perIssue = new Map<number, number>()
    let cursor: string | undefined
    do {
      const page = await container.store.listRuns({
        repoFullName: REPO,
        limit: 200,
        ...(cursor ? { cursor } : {}),
      })
      for (const run of page.runs) perIssue.set(run.issueNumber, (perIssue.get(run.issueNumber) ?? 0) + 1)
      cursor = page.nextCursor
    } while (cursor)
    const runsStarted = [...perIssue.values()].reduce((a, b) => a + b, 0)
    const missing = [...expected].filter((n) => !perIssue.has(n)).length
    const duplicates = [...perIssue.values()].reduce((a, b) => a + Math.max(0, b - 1), 0)
    const sorted = latencies.sort((a, b) => a - b)
    return {
      mode,
      deliveries: deliveries.length,
      acksPerSec: Math.round((deliveries.length / elapsedMs) * 1000),
      p50Ms: Math.round(percentile(sorted, 50) * 10) / 10,
      p99Ms: Math.round(percentile(sorted, 99) * 10) / 10,
      runsStarted,
      runsExpected: expected.size,
      lost: missing + non2xx,
      duplicates,
      non2xx,
      githubRequests,
      // this process: the intake only (the load generator and the GitHub double are child processes)
      // the longest the intake's event loop was blocked (a synchronous stall holds every answer)
      eventLoopMaxMs: Math.round(loopDelay.max / 1e6),
      serverCpuMsPerDelivery: Math.round(((cpu.user + cpu.system) / 1000 / deliveries.length) * 100) / 100,
      clientCpuMsPerDelivery: Math.round((clientCpuMs / deliveries.length) * 100) / 100,
    }
  } finally {
    await new Promise((resolve) => server.close(resolve))
    await container.close()
    await github.close()
    rmSync(dataDir, { recursive: true, force: true })
    if (mode === "redis") {
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length > 0) await redis.del(...keys)
      await redis.quit()
    }
  }
}

const modes = (["embedded", "redis"] as const).filter((m) => ONLY === undefined || ONLY === m)
const results: ModeResult[] = []
// the machine is shared: the 1-minute load average before and after says what the figures are worth
const loadBefore = Math.round((loadavg()[0] ?? 0) * 10) / 10
for (const mode of modes) {
  log(`${mode}: posting ${DELIVERIES} signed deliveries, ${IN_FLIGHT} in flight…`)
  const result = await measure(mode)
  results.push(result)
  log(
    `  ${result.acksPerSec} acks/s · p50 ${result.p50Ms} ms · p99 ${result.p99Ms} ms · runs ${result.runsStarted}/${result.runsExpected} · lost ${result.lost} · duplicates ${result.duplicates} · server CPU ${result.serverCpuMsPerDelivery} ms/delivery (load generator ${result.clientCpuMsPerDelivery}) · event loop blocked ≤ ${result.eventLoopMaxMs} ms`,
  )
}
const summary = {
  deliveries: DELIVERIES,
  acksPerSec: Math.min(...results.map((r) => r.acksPerSec)),
  p99Ms: Math.max(...results.map((r) => r.p99Ms)),
  lost: results.reduce((a, r) => a + r.lost, 0),
  duplicates: results.reduce((a, r) => a + r.duplicates, 0),
  targets: { acksPerSec: 500, p99Ms: 100, lost: 0, duplicates: 0 },
  load1: { before: loadBefore, after: Math.round((loadavg()[0] ?? 0) * 10) / 10 },
  modes: Object.fromEntries(results.map((r) => [r.mode, r])),
}
const met = summary.acksPerSec >= 500 && summary.p99Ms < 100 && summary.lost === 0 && summary.duplicates === 0
log(met ? "targets met" : "targets NOT met")
if (asJson) console.log(JSON.stringify({ ...summary, met }))
process.exit(0)
