// The load generator of bench/webhooks.ts, in its own process so it does not share the event loop it
// measures. argv[2]: a JSON file { url, inFlight, warmup: [{ body, headers }], deliveries: [...] }.
// Posts the warm-up, then every delivery as fast as the server answers with `inFlight`
// requests in flight, and prints one JSON line: elapsed ms, each answer's time in order, non-2xx count,
// the first few failures and its own CPU during the burst. It posts with node:http over `inFlight`
// kept-alive connections, not fetch: on two cores the load generator's CPU is taken from the server's
// (fetch cost it about three times as much per request).
import { readFileSync } from "node:fs"
import { Agent, request } from "node:http"
import { performance } from "node:perf_hooks"

const { url, inFlight, warmup, deliveries } = JSON.parse(readFileSync(process.argv[2], "utf8"))
const target = new URL(url)
const agent = new Agent({ keepAlive: true, maxSockets: inFlight })
/** one POST; resolves with the status and body text (never rejects: a transport error is status 0) */
const send = (d) =>
  new Promise((resolve) => {
    const body = Buffer.from(d.body)
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        agent,
        headers: { ...d.headers, "content-length": body.length },
      },
      (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (chunk) => (text += chunk))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
        res.on("error", (error) => resolve({ status: 0, text: String(error) }))
      },
    )
    req.on("error", (error) => resolve({ status: 0, text: `transport: ${String(error)}` }))
    req.end(body)
  })
const post = (d) => send(d)
// the warm-up with the same number in flight, so every connection is open before the clock starts
let nextWarm = 0
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (nextWarm < warmup.length) await post(warmup[nextWarm++])
  }),
)

// tell the parent the warm-up is over and wait for its go, so it measures the burst alone
process.stdout.write("warm\n")
await new Promise((resolve) => process.stdin.once("data", resolve))
process.stdin.destroy()

const latencies = new Array(deliveries.length)
const startedAt = new Array(deliveries.length)
let non2xx = 0
const failures = []
let next = 0
const cpuBefore = process.cpuUsage()
const started = performance.now()
const worker = async () => {
  for (;;) {
    const index = next++
    const delivery = deliveries[index]
    if (!delivery) return
    const t0 = performance.now()
    startedAt[index] = t0 - started
    const { status, text } = await send(delivery)
    latencies[index] = performance.now() - t0
    // a transport error (status 0) counts as not acknowledged, as GitHub would see it
    if (status < 200 || status > 299) {
      non2xx++
      if (failures.length < 5) failures.push(`${status} ${text.slice(0, 300)}`)
    }
  }
}
await Promise.all(Array.from({ length: inFlight }, worker))
const elapsedMs = performance.now() - started
const cpu = process.cpuUsage(cpuBefore)
const clientCpuMs = (cpu.user + cpu.system) / 1000
// BENCH_SLOWEST=N: the N slowest answers on stderr (index, when sent, how long), to find stalls
const slowest = Number(process.env.BENCH_SLOWEST ?? 0)
if (slowest > 0)
  for (const i of [...latencies.keys()].sort((a, b) => latencies[b] - latencies[a]).slice(0, slowest))
    process.stderr.write(
      `slow #${i} sent at ${Math.round(startedAt[i])} ms took ${Math.round(latencies[i])} ms\n`,
    )
process.stdout.write(`${JSON.stringify({ elapsedMs, latencies, non2xx, failures, clientCpuMs })}\n`)
agent.destroy()
