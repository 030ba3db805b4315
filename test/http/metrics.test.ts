/**
 * /metrics on prom-client (issue 13, finding 10): default process metrics, HTTP histograms, and the
 * deployment's state: queue depth and oldest waiting age per type, live workers per type, runs by
 * outcome, run durations, tokens and cost per model, sandboxed command durations. Run events come
 * from the event bus; in the Redis mode they are published by another bus, as a worker process would.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createRedisEventBus } from "#adapters/events/redis-event-bus.js"
import type { EventBus } from "#application/ports/event-bus.js"
import { createMetrics, type Metrics, watchDeployment } from "#entrypoints/http/metrics.js"
import { loadConfig } from "#main/config.js"
import { type Container, createContainer } from "#main/container.js"
import { createCapturingLogger } from "../support/logger.js"
import { service, uniqueName } from "../support/services.js"

const redis = await service("redis")

const modes = [
  { name: "embedded queue, in-process bus", redis: false },
  { name: "BullMQ, events from another process's bus", redis: true },
] as const

describe.each(modes)("deployment metrics ($name)", (mode) => {
  const skip = mode.redis && !redis.available
  let dir: string
  let container: Container
  let metrics: Metrics
  let stop: () => Promise<void>
  let workerBus: EventBus

  beforeAll(async () => {
    if (skip) return
    dir = await mkdtemp(path.join(tmpdir(), "prwright-metrics-"))
    const prefix = uniqueName("metrics")
    container = await createContainer(
      loadConfig({
        PRWRIGHT_DATA_DIR: dir,
        ...(mode.redis ? { REDIS_URL: redis.url, PRWRIGHT_QUEUE_PREFIX: prefix } : {}),
      }),
      { logger: createCapturingLogger(), model: null },
    )
    workerBus = mode.redis ? createRedisEventBus({ url: redis.url, prefix }) : container.bus
    metrics = createMetrics()
    stop = await watchDeployment(metrics, {
      bus: container.bus,
      store: container.store,
      ...(container.queue ? { queue: container.queue } : {}),
      logger: container.logger,
    })
  })
  afterAll(async () => {
    await stop?.()
    if (mode.redis) await workerBus?.close()
    await container?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it.skipIf(skip)("exposes queue, worker, run, model and sandbox figures", async () => {
    // two plans wait (no comment worker), one resolve worker is alive
    for (const issueNumber of [1, 2])
      await container.requester.enqueue(
        "comment-on-issue",
        { repoFullName: "acme/app", issueNumber },
        {
          source: "api",
        },
      )
    container.startWorkers(["resolve"])

    const run = await container.store.createRun({
      id: "metrics-run",
      type: "auto-resolve-issue",
      repoFullName: "acme/app",
      issueNumber: 3,
      priority: "normal",
      input: {},
      trigger: { source: "api" },
      maxAttempts: 3,
    })
    const startedAt = new Date(Date.now() - 42_000)
    await container.store.updateRun(run.id, { status: "running", startedAt })
    const at = new Date()
    let seq = 0
    const publish = (data: Record<string, unknown>) =>
      workerBus.publish({ runId: run.id, seq: ++seq, at, ...data } as never)
    await new Promise((resolve) => setTimeout(resolve, 300)) // the pattern subscription is in place
    await publish({
      type: "model-call",
      model: "gpt-test",
      inputTokens: 120,
      outputTokens: 30,
      costUsd: 0.5,
      latencyMs: 900,
    })
    await publish({
      type: "test-result",
      phase: "verify",
      command: "npm test",
      exitCode: 0,
      passed: 3,
      failed: 0,
      durationMs: 2_500,
      output: "ok",
      bytes: 2,
    })
    await container.store.updateRun(run.id, { status: "completed", finishedAt: at })
    await publish({ type: "status", status: "completed", attempt: 1 })

    let text = ""
    // the events cross processes and the worker's first heartbeat is written on start: wait for both
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      text = await metrics.render()
      if (
        text.includes("prwright_runs_finished_total{") &&
        text.includes('prwright_workers_live{type="resolve-issue"} 1') &&
        text.includes("prwright_model_cost_usd_total{")
      )
        break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(text).toContain('prwright_queue_waiting_jobs{type="comment-on-issue"} 2')
    expect(text).toContain('prwright_queue_waiting_jobs{type="resolve-issue"} 0')
    expect(text).toMatch(/prwright_queue_oldest_waiting_seconds\{type="comment-on-issue"\} \d[\d.e-]*\n/)
    expect(text).toContain('prwright_workers_live{type="resolve-issue"} 1')
    expect(text).toContain('prwright_workers_live{type="comment-on-issue"} 0')
    expect(text).toContain('prwright_runs_finished_total{type="auto-resolve-issue",outcome="completed"} 1')
    expect(text).toContain(
      'prwright_run_duration_seconds_count{type="auto-resolve-issue",outcome="completed"} 1',
    )
    expect(text).toContain(
      'prwright_run_duration_seconds_bucket{le="30",type="auto-resolve-issue",outcome="completed"} 0',
    )
    expect(text).toContain(
      'prwright_run_duration_seconds_bucket{le="60",type="auto-resolve-issue",outcome="completed"} 1',
    )
    expect(text).toContain('prwright_model_tokens_total{model="gpt-test",kind="input"} 120')
    expect(text).toContain('prwright_model_tokens_total{model="gpt-test",kind="output"} 30')
    expect(text).toContain('prwright_model_cost_usd_total{model="gpt-test"} 0.5')
    expect(text).toContain('prwright_sandbox_command_duration_seconds_count{phase="verify"} 1')
    // a first scrape of a fresh registry has the oldest age of the same sample as the depth
    const fresh = createMetrics()
    const stopFresh = await watchDeployment(fresh, {
      bus: container.bus,
      store: container.store,
      ...(container.queue ? { queue: container.queue } : {}),
      logger: container.logger,
    })
    try {
      const first = await fresh.render()
      expect(first).toContain('prwright_queue_waiting_jobs{type="comment-on-issue"} 2')
      const age = /prwright_queue_oldest_waiting_seconds\{type="comment-on-issue"\} (\S+)\n/.exec(first)?.[1]
      expect(Number(age)).toBeGreaterThan(0)
    } finally {
      await stopFresh()
    }
    // prom-client's default process metrics
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m)
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m)
  })
})
