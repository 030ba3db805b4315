/**
 * Prometheus metrics of this process on prom-client: HTTP requests and their durations per route
 * pattern, workflow requests per type, and the default Node.js process metrics. Counters are per
 * process (workers in other processes keep theirs); the run store, not these counters, is the history.
 *
 * Who may read them: with PRWRIGHT_METRICS_TOKEN, whoever sends it as a bearer token; without it, only
 * a loopback peer that no proxy forwarded (metricsRefusal).
 */
import { timingSafeEqual } from "node:crypto"
import type { Context } from "hono"
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client"

export interface Metrics {
  registry: Registry
  contentType: string
  countRequest(labels: { method: string; route: string; status: string }, seconds: number): void
  countJob(type: string, created: boolean): void
  render(): Promise<string>
}

export const createMetrics = (options: { processMetrics?: boolean } = {}): Metrics => {
  const registry = new Registry()
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry })
  const requests = new Counter({
    name: "prwright_http_requests_total",
    help: "HTTP requests answered, by route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  })
  const durations = new Histogram({
    name: "prwright_http_request_duration_seconds",
    help: "Time to answer HTTP requests, by route pattern.",
    labelNames: ["method", "route"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  const jobs = new Counter({
    name: "prwright_jobs_requested_total",
    help: "Workflow requests accepted (created=false: a repeated jobId).",
    labelNames: ["created", "type"] as const,
    registers: [registry],
  })
  return {
    registry,
    contentType: registry.contentType,
    countRequest({ method, route, status }, seconds) {
      requests.inc({ method, route, status })
      durations.observe({ method, route }, seconds)
    },
    countJob(type, created) {
      jobs.inc({ created: String(created), type })
    },
    render: () => registry.metrics(),
  }
}

const sameSecret = (given: string, expected: string) => {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

const isLoopback = (address: string | undefined) =>
  address !== undefined && (address === "::1" || /^127\./.test(address) || /^::ffff:127\./i.test(address))

/** The peer address @hono/node-server hands over; undefined when unknown (then never "local"). */
const peerOf = (c: Context): string | undefined =>
  (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket
    ?.remoteAddress

/** Why this request may not read /metrics, or undefined when it may. */
export const metricsRefusal = (
  c: Context,
  token: string | undefined,
): { code: "unauthorized" | "forbidden"; message: string } | undefined => {
  if (token) {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")
    if (match?.[1] && sameSecret(match[1], token)) return undefined
    return {
      code: "unauthorized",
      message:
        "send PRWRIGHT_METRICS_TOKEN as Authorization: Bearer <token> (bearer_token in a Prometheus scrape config)",
    }
  }
  // behind a reverse proxy every peer is the proxy: a forwarded request is not a local one
  const forwarded = ["x-forwarded-for", "forwarded", "x-real-ip"].some((name) => c.req.header(name))
  if (!forwarded && isLoopback(peerOf(c))) return undefined
  return {
    code: "forbidden",
    message:
      "/metrics answers only on loopback: set PRWRIGHT_METRICS_TOKEN and scrape with it as a bearer token",
  }
}
