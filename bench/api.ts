/**
 * `npm run bench:api`: the HTTP API's cost over the framework, and live events fan-out.
 *
 *   node --conditions=prwright-source --import tsx bench/api.ts [--json] [--seconds N] [--connections N] [--subscribers N] [--events N]
 *
 * 1. GET /api/jobs/:jobId on the real app (bearer auth, embedded SQLite store, metrics middleware)
 *    against a bare Hono route answering the same JSON body, both served by @hono/node-server in
 *    this process and loaded by autocannon (a child process, so the load generator does not share
 *    the event loop it measures) in the same run, alternating (bare, app, bare, app) so drift
 *    on a shared machine hits both. Target: ratio ≥ 0.5. Measured twice: every request for one run
 *    (pollers of one run share a read, see batched-reads.ts) and requests spread over 500 runs
 *    (each pays its own read), reported as jobStatusDistinctRps / distinctRatio.
 * 2. N concurrent SSE subscribers (default 200) to one live run while events are appended through
 *    the run journal (store + bus), then the run ends. Target: every subscriber receives every
 *    event, once, in order.
 *
 * Progress goes to stderr; with --json the last line of stdout is one JSON object.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import http from "node:http"
import type { AddressInfo } from "node:net"
import os from "node:os"
import path from "node:path"
import { parseArgs } from "node:util"
import { serve } from "@hono/node-server"
import { Hono } from "hono"
import { createApiAuth } from "#application/api-auth.js"
import { silentLogger } from "#application/ports/logging.js"
import { createRunJournal } from "#application/run-journal.js"
import { loadConfig } from "#main/config.js"
import { createContainer } from "#main/container.js"
import { httpAppOf } from "../test/support/http-app.js"

interface AutocannonResult {
  requests: { average: number; total: number }
  non2xx: number
  errors: number
}

const CHILD = path.join(import.meta.dirname, "support", "autocannon-child.cjs")

/** autocannon in its own process: the load generator must not share the event loop it measures */
const autocannon = (options: {
  url: string
  connections: number
  duration: number
  headers?: Record<string, string>
  /** request these paths in turn instead of the url's */
  paths?: string[]
}): Promise<AutocannonResult> =>
  new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CHILD, JSON.stringify(options)],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout) => {
        if (error) reject(error)
        else resolve(JSON.parse(stdout) as AutocannonResult)
      },
    )
  })

const TOKEN = "prw_bench_api_token_0123456789abcdef"
const log = (line: string) => process.stderr.write(`${line}\n`)

const { values: args } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "50" },
    subscribers: { type: "string", default: "200" },
    events: { type: "string", default: "100" },
  },
})
const positive = (value: string, name: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${value}"`)
  return n
}
const seconds = positive(args.seconds, "seconds")
const connections = positive(args.connections, "connections")
const subscriberCount = positive(args.subscribers, "subscribers")
const eventCount = positive(args.events, "events")

const listen = async (fetch: (request: Request) => Response | Promise<Response>) => {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s))
  })
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) }
}

/** One SSE subscriber: the seqs it received, in order, and whether the stream ended normally. */
const subscribe = (url: string) => {
  const seqs: number[] = []
  let firstEvent: () => void = () => {}
  const first = new Promise<void>((resolve) => {
    firstEvent = resolve
  })
  const done = new Promise<{ seqs: number[]; ended: boolean }>((resolve, reject) => {
    const request = http.get(
      url,
      { headers: { authorization: `Bearer ${TOKEN}`, accept: "text/event-stream" }, agent: false },
      (response) => {
        if (response.statusCode !== 200) {
          reject(new Error(`subscriber got ${response.statusCode}`))
          return
        }
        let buffer = ""
        let ended = false
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => {
          buffer += chunk
          let index = buffer.indexOf("\n\n")
          while (index >= 0) {
            const block = buffer.slice(0, index)
            buffer = buffer.slice(index + 2)
            const id = /^id: ?(\d+)$/m.exec(block)
            if (id) {
              seqs.push(Number(id[1]))
              firstEvent()
            }
            if (/^event: ?end$/m.test(block)) ended = true
            index = buffer.indexOf("\n\n")
          }
        })
        response.on("end", () => resolve({ seqs, ended }))
        response.on("error", reject)
      },
    )
    request.on("error", reject)
  })
  return { first, done }
}

const main = async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "prwright-bench-api-"))
  const container = await createContainer(loadConfig({ PRWRIGHT_DATA_DIR: dir, PRWRIGHT_API_TOKEN: TOKEN }), {
    logger: silentLogger,
    model: null,
  })
  try {
    const auth = await createApiAuth({
      store: container.store,
      configuredToken: TOKEN,
      announce: () => {},
      newId: () => "bench",
    })
    // the app the tests build (the container's logger is the silent one), without a waiting run's
    // place in line, as this benchmark has always measured it
    const app = httpAppOf(container, auth, { version: "bench", runPlaces: undefined })
    const { run } = await container.requester.prepare(
      "comment-on-issue",
      { repoFullName: "acme/bench", issueNumber: 1 },
      { source: "api" },
    )
    const appServer = await listen(app.fetch)
    const statusUrl = `${appServer.url}/api/jobs/${run.id}`
    const sample = await (await fetch(statusUrl, { headers: { authorization: `Bearer ${TOKEN}` } })).text()
    const bare = new Hono()
    bare.get("/api/jobs/:jobId", (c) => c.body(sample, 200, { "content-type": "application/json" }))
    const bareServer = await listen(bare.fetch)

    // 1. GET /api/jobs/:jobId against the bare route, alternating. "one run": every request asks for
    // the same run (as pollers of one run do), so concurrent reads coalesce; "distinct runs": each
    // request asks for the next of 500 runs, so every request pays its own store read.
    const ids: string[] = []
    for (let i = 0; i < 500; i++) {
      const made = await container.requester.prepare(
        "comment-on-issue",
        { repoFullName: "acme/bench", issueNumber: 1000 + i },
        { source: "api" },
      )
      ids.push(made.run.id)
    }
    const bearer = { authorization: `Bearer ${TOKEN}` }
    const rounds: Array<{ bare: number; app: number; distinct: number }> = []
    const measure = async (url: string, headers?: Record<string, string>, paths?: string[]) => {
      const result = await autocannon({
        url,
        connections,
        duration: seconds,
        ...(headers ? { headers } : {}),
        ...(paths ? { paths } : {}),
      })
      if (result.non2xx > 0 || result.errors > 0)
        throw new Error(`${url}: ${result.non2xx} non-2xx answers and ${result.errors} errors`)
      return result.requests.average
    }
    for (let round = 0; round < 2; round++) {
      const bareRps = await measure(`${bareServer.url}/api/jobs/${run.id}`)
      const appRps = await measure(statusUrl, bearer)
      const distinctRps = await measure(
        statusUrl,
        bearer,
        ids.map((id) => `/api/jobs/${id}`),
      )
      rounds.push({ bare: bareRps, app: appRps, distinct: distinctRps })
      log(
        `round ${round + 1}: bare ${Math.round(bareRps)} req/s, GET /api/jobs/:jobId one run ${Math.round(appRps)} req/s, distinct runs ${Math.round(distinctRps)} req/s`,
      )
    }
    const mean = (pick: (r: (typeof rounds)[number]) => number) =>
      Math.round(rounds.reduce((sum, r) => sum + pick(r), 0) / rounds.length)
    const bareRps = mean((r) => r.bare)
    const jobStatusRps = mean((r) => r.app)
    const jobStatusDistinctRps = mean((r) => r.distinct)
    const ratio = Math.round((jobStatusRps / bareRps) * 100) / 100
    const distinctRatio = Math.round((jobStatusDistinctRps / bareRps) * 100) / 100

    // 2. SSE fan-out to one live run
    const live = await container.requester.prepare(
      "comment-on-issue",
      { repoFullName: "acme/bench", issueNumber: 2 },
      { source: "api" },
    )
    const journal = createRunJournal({ store: container.store, bus: container.bus, logger: silentLogger })
    const subscribers = Array.from({ length: subscriberCount }, () =>
      subscribe(`${appServer.url}/api/jobs/${live.run.id}/events`),
    )
    await Promise.all(subscribers.map((s) => s.first))
    log(`${subscriberCount} subscribers connected`)
    const started = performance.now()
    await container.store.updateRun(live.run.id, { status: "running", attempts: 1, startedAt: new Date() })
    await journal.record(live.run.id, [{ type: "status", status: "running", attempt: 1 }])
    for (let i = 0; i < eventCount; i++) {
      await journal.record(live.run.id, [{ type: "log", level: "info", message: `step ${i + 1}` }])
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await container.store.updateRun(live.run.id, { status: "completed", finishedAt: new Date() })
    await journal.record(live.run.id, [{ type: "status", status: "completed", attempt: 1 }])
    const results = await Promise.all(subscribers.map((s) => s.done))
    const deliveredMs = Math.round(performance.now() - started)
    const stored = (await container.store.listEvents(live.run.id, { limit: 100_000 })).map((e) => e.seq)
    const expected = JSON.stringify(stored)
    const complete = results.filter((r) => r.ended && JSON.stringify(r.seqs) === expected).length
    const sseAllReceived = complete === subscriberCount
    log(
      `SSE: ${complete}/${subscriberCount} subscribers received all ${stored.length} events in order, ${deliveredMs} ms from first append to every stream ended`,
    )

    const report = {
      jobStatusRps,
      bareRps,
      ratio,
      jobStatusDistinctRps,
      distinctRatio,
      connections,
      seconds,
      sseSubscribers: subscriberCount,
      sseEvents: stored.length,
      sseCompleteSubscribers: complete,
      sseAllReceived,
      sseDeliveredMs: deliveredMs,
      targets: { ratio: ratio >= 0.5, sseAllReceived },
    }
    if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`)
    else {
      process.stdout.write(
        `GET /api/jobs/:jobId  ${jobStatusRps} req/s  vs bare Hono ${bareRps} req/s  ratio ${ratio} (target ≥ 0.5 ${ratio >= 0.5 ? "met" : "MISSED"})\n` +
          `  over 500 runs      ${jobStatusDistinctRps} req/s  ratio ${distinctRatio}\n` +
          `SSE fan-out          ${complete}/${subscriberCount} subscribers got all ${stored.length} events (target all ${sseAllReceived ? "met" : "MISSED"}), ${deliveredMs} ms\n`,
      )
    }
    await appServer.close()
    await bareServer.close()
  } finally {
    await container.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
