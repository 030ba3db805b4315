/**
 * Weakness 10 of the sandbox issue, as the attack: someone on the network (not this machine) scrapes
 * /metrics and reads /readyz to learn about the deployment. /metrics answers only with
 * PRWRIGHT_METRICS_TOKEN, or without one only to a loopback peer that no proxy forwarded; /readyz names
 * the failing dependency without the raw error (which carries hosts, users, ports and driver text).
 * The peer address is the socket's, as @hono/node-server hands it over (`env.incoming`).
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createApiAuth } from "#application/api-auth.js"
import { createHttpApp } from "#entrypoints/http/app.js"
import { createReadiness } from "#entrypoints/http/readiness.js"
import { loadConfig } from "#main/config.js"
import { type Container, createContainer } from "#main/container.js"
import { createCapturingLogger } from "../support/logger.js"

const METRICS_TOKEN = "metrics-token-0123456789abcdef"
const from = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress } } })

describe("/metrics and /readyz facing an outside caller", () => {
  let dir: string
  let container: Container

  const appWith = async (options: { metricsToken?: string; store?: Container["store"] }) => {
    const logger = createCapturingLogger()
    const store = options.store ?? container.store
    const auth = await createApiAuth({
      store: container.store,
      configuredToken: "prw_security_token_0123456789",
      announce: () => {},
      newId: () => "id",
    })
    const app = createHttpApp({
      requester: container.requester,
      cancelRun: container.cancelRun,
      store,
      bus: container.bus,
      auth,
      logger,
      workflows: container.jobTypes,
      version: "test",
      readiness: createReadiness({ store, jobTypes: container.jobTypes, logger }),
      ...(options.metricsToken ? { metricsToken: options.metricsToken } : {}),
    })
    return { app, logger }
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "prwright-sec-metrics-"))
    container = await createContainer(loadConfig({ PRWRIGHT_DATA_DIR: dir }), {
      logger: createCapturingLogger(),
      model: null,
    })
  })
  afterAll(async () => {
    await container?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it("without PRWRIGHT_METRICS_TOKEN, a scrape from another host is refused", async () => {
    const { app } = await appWith({})
    for (const peer of ["203.0.113.7", "10.1.2.3", "::ffff:192.168.1.9", "fe80::1"]) {
      const response = await app.request("/metrics", {}, from(peer))
      expect(response.status, peer).toBe(403)
      const text = await response.text()
      expect(text).not.toContain("prwright_http_requests_total")
      expect(text).toContain("PRWRIGHT_METRICS_TOKEN")
    }
  })

  it("without a token, a request a local proxy forwarded does not count as loopback", async () => {
    const { app } = await appWith({})
    const forwarded: Array<Record<string, string>> = [
      { "x-forwarded-for": "203.0.113.7" },
      { forwarded: "for=203.0.113.7" },
      { "x-real-ip": "203.0.113.7" },
    ]
    for (const header of forwarded) {
      const response = await app.request("/metrics", { headers: header }, from("127.0.0.1"))
      expect(response.status, JSON.stringify(header)).toBe(403)
    }
    // a request whose peer is unknown (no socket) is refused, not assumed local
    expect((await app.request("/metrics")).status).toBe(403)
  })

  it("without a token, a loopback scrape (a sidecar, an agent on the host) is served", async () => {
    const { app } = await appWith({})
    for (const peer of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) {
      const response = await app.request("/metrics", {}, from(peer))
      expect(response.status, peer).toBe(200)
      expect(await response.text()).toContain("prwright_http_requests_total")
    }
  })

  it("with PRWRIGHT_METRICS_TOKEN, only that bearer token is served, from anywhere", async () => {
    const { app } = await appWith({ metricsToken: METRICS_TOKEN })
    const outside = from("203.0.113.7")
    expect((await app.request("/metrics", {}, outside)).status).toBe(401)
    expect((await app.request("/metrics", {}, from("127.0.0.1"))).status).toBe(401)
    for (const wrong of [
      `${METRICS_TOKEN}x`,
      METRICS_TOKEN.slice(0, -1),
      "",
      "prw_security_token_0123456789",
    ]) {
      const response = await app.request(
        "/metrics",
        { headers: { authorization: `Bearer ${wrong}` } },
        outside,
      )
      expect(response.status, wrong).toBe(401)
    }
    const ok = await app.request(
      "/metrics",
      { headers: { authorization: `Bearer ${METRICS_TOKEN}` } },
      outside,
    )
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain("prwright_http_requests_total")
  })

  it("/readyz names the failing dependency and the fix, never the raw error", async () => {
    const raw =
      "connect ECONNREFUSED 10.20.30.40:5432 (user=prwright_admin password=hunter2-db host=db.internal)"
    const broken = {
      ...container.store,
      listRuns: async () => {
        throw new Error(raw)
      },
    }
    const { app, logger } = await appWith({ store: broken })
    const response = await app.request("/readyz", {}, from("203.0.113.7"))
    expect(response.status).toBe(503)
    const text = await response.text()
    const body = JSON.parse(text) as {
      status: string
      checks: Record<string, { ok: boolean; detail?: string }>
    }
    expect(body.status).toBe("not ready")
    expect(body.checks.store?.ok).toBe(false)
    expect(body.checks.store?.detail).toMatch(/DATABASE_URL/)
    for (const leak of [
      "ECONNREFUSED",
      "10.20.30.40",
      "prwright_admin",
      "hunter2-db",
      "db.internal",
      "5432",
    ]) {
      expect(text, leak).not.toContain(leak)
    }
    // the operator still finds the cause in the server log
    expect(JSON.stringify(logger.lines)).toContain("ECONNREFUSED")
  })
})
