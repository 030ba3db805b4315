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
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client"
import type { EventBus } from "#application/ports/event-bus.js"
import type { JobQueue } from "#application/ports/job-queue.js"
import type { Logger } from "#application/ports/logging.js"
import type { RunStore } from "#application/ports/run-store.js"
import { errorMessage } from "#domain/errors.js"
import { JOB_TYPES, TERMINAL_STATUSES } from "#domain/workflow-run.js"

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

/**
 * Deployment metrics for the API process: queue depth, oldest waiting age and live workers per job
 * type (read at scrape time from the queue), and from every run's live events (the event bus carries
 * those of workers in other processes too): runs finished by outcome, run durations, model tokens and
 * cost per model, and sandboxed command durations (setup, baseline and verification runs). With several
 * API replicas each one counts every run: take max(), not sum(), across them.
 */
export const watchDeployment = async (
  metrics: Metrics,
  deps: { bus: EventBus; store: RunStore; queue?: JobQueue | undefined; logger: Logger },
): Promise<() => Promise<void>> => {
  const registers = [metrics.registry]
  const queue = deps.queue
  if (queue?.waitingStats) {
    // prom-client reads every metric of a scrape concurrently: both gauges share one sample of the
    // queue per scrape, so the oldest age is never a scrape behind the depth (or missing on the first)
    let sampling: Promise<Awaited<ReturnType<NonNullable<JobQueue["waitingStats"]>>> | undefined> | undefined
    const sample = () => {
      sampling ??= (async () => {
        try {
          return await queue.waitingStats?.()
        } catch (error) {
          deps.logger.debug("queue metrics unavailable", { error: errorMessage(error) })
          return undefined
        } finally {
          setImmediate(() => {
            sampling = undefined
          })
        }
      })()
      return sampling
    }
    new Gauge({
      name: "prwright_queue_oldest_waiting_seconds",
      help: "Age of the oldest job waiting to start, per job type (0 when none waits).",
      labelNames: ["type"] as const,
      registers,
      async collect() {
        const stats = await sample()
        if (!stats) return
        for (const type of JOB_TYPES) this.set({ type }, (stats[type]?.oldestWaitingMs ?? 0) / 1000)
      },
    })
    new Gauge({
      name: "prwright_queue_waiting_jobs",
      help: "Jobs waiting to start (retries waiting for their backoff included), per job type.",
      labelNames: ["type"] as const,
      registers,
      async collect() {
        const stats = await sample()
        if (!stats) return
        for (const type of JOB_TYPES) this.set({ type }, stats[type]?.waiting ?? 0)
      },
    })
  }
  if (queue?.liveWorkers) {
    new Gauge({
      name: "prwright_workers_live",
      help: "Workers with a recent heartbeat, per job type (in every process).",
      labelNames: ["type"] as const,
      registers,
      async collect() {
        try {
          const live = (await queue.liveWorkers?.()) ?? {}
          for (const type of JOB_TYPES) this.set({ type }, live[type] ?? 0)
        } catch (error) {
          deps.logger.debug("worker metrics unavailable", { error: errorMessage(error) })
        }
      },
    })
  }
  const finished = new Counter({
    name: "prwright_runs_finished_total",
    help: "Runs that ended, by job type and outcome (completed, failed, cancelled).",
    labelNames: ["type", "outcome"] as const,
    registers,
  })
  const durations = new Histogram({
    name: "prwright_run_duration_seconds",
    help: "From a run's first start to its end, by job type and outcome.",
    labelNames: ["type", "outcome"] as const,
    buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
    registers,
  })
  const tokens = new Counter({
    name: "prwright_model_tokens_total",
    help: "Model tokens used, per model and kind (input, output).",
    labelNames: ["model", "kind"] as const,
    registers,
  })
  const cost = new Counter({
    name: "prwright_model_cost_usd_total",
    help: "Model spend in US dollars by the price table, per model.",
    labelNames: ["model"] as const,
    registers,
  })
  const commands = new Histogram({
    name: "prwright_sandbox_command_duration_seconds",
    help: "Repository commands run in the sandbox (test runs before and after the change), by phase.",
    labelNames: ["phase"] as const,
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
    registers,
  })
  if (!deps.bus.subscribeAll) return async () => {}
  return deps.bus.subscribeAll((event) => {
    if (event.type === "model-call") {
      tokens.inc({ model: event.model, kind: "input" }, event.inputTokens)
      tokens.inc({ model: event.model, kind: "output" }, event.outputTokens)
      if (event.costUsd > 0) cost.inc({ model: event.model }, event.costUsd)
    } else if (event.type === "test-result") {
      commands.observe({ phase: event.phase }, event.durationMs / 1000)
    } else if (event.type === "status" && TERMINAL_STATUSES.has(event.status)) {
      void deps.store.getRun(event.runId).then(
        (run) => {
          const labels = { type: run?.type ?? "unknown", outcome: event.status }
          finished.inc(labels)
          const from = run?.startedAt ?? run?.createdAt
          if (from) durations.observe(labels, Math.max(0, (event.at.getTime() - from.getTime()) / 1000))
        },
        (error: unknown) =>
          deps.logger.debug("run metrics: run not readable", { error: errorMessage(error) }),
      )
    }
  })
}
