// The load generator of bench/webhooks.ts, in its own process so it does not share the event loop it
// measures. argv[2]: a JSON file { url, inFlight, warmup: [{ body, headers }], deliveries: [...] }.
// Posts the warm-up, then every delivery as fast as the server answers with `inFlight`
// requests in flight, and prints one JSON line: elapsed ms, each answer's time in order, non-2xx count
// and the first few failures.
import { readFileSync } from "node:fs"
import { performance } from "node:perf_hooks"

const { url, inFlight, warmup, deliveries } = JSON.parse(readFileSync(process.argv[2], "utf8"))
const post = (d) =>
  fetch(url, { method: "POST", headers: d.headers, body: d.body }).then((r) => r.arrayBuffer())
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
const started = performance.now()
const worker = async () => {
  for (;;) {
    const index = next++
    const delivery = deliveries[index]
    if (!delivery) return
    const t0 = performance.now()
    startedAt[index] = t0 - started
    try {
      const response = await fetch(url, { method: "POST", headers: delivery.headers, body: delivery.body })
      const text = await response.text()
      latencies[index] = performance.now() - t0
      if (response.status < 200 || response.status > 299) {
        non2xx++
        if (failures.length < 5) failures.push(`${response.status} ${text.slice(0, 300)}`)
      }
    } catch (error) {
      // counted as not acknowledged, as GitHub would see it
      latencies[index] = performance.now() - t0
      non2xx++
      if (failures.length < 5) failures.push(`transport: ${String(error.cause ?? error)}`)
    }
  }
}
await Promise.all(Array.from({ length: inFlight }, worker))
const elapsedMs = performance.now() - started
// BENCH_SLOWEST=N: the N slowest answers on stderr (index, when sent, how long), to find stalls
const slowest = Number(process.env.BENCH_SLOWEST ?? 0)
if (slowest > 0)
  for (const i of [...latencies.keys()].sort((a, b) => latencies[b] - latencies[a]).slice(0, slowest))
    process.stderr.write(
      `slow #${i} sent at ${Math.round(startedAt[i])} ms took ${Math.round(latencies[i])} ms\n`,
    )
process.stdout.write(`${JSON.stringify({ elapsedMs, latencies, non2xx, failures })}\n`)
