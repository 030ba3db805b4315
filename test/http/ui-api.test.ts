import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { approvalJobId } from "#application/approve-plan.js"
import type { createHttpApp } from "#entrypoints/http/app.js"
import { CSRF_HEADER as SERVER_CSRF_HEADER } from "#entrypoints/http/ui-schemas.js"
import type { Container } from "#main/container.js"
import { API_ROUTES, CSRF_HEADER } from "../../ui/src/api.js"
import { startTestHttpApp, type TestHttpApp } from "../support/http-app.js"

const TOKEN = "prw_ui_api_test_token_0123456789"

interface ErrorBody {
  error: { code: string; message: string; details?: { issues?: Array<{ field: string; message: string }> } }
}

describe("web UI API", () => {
  let container: Container
  let app: ReturnType<typeof createHttpApp>
  let cookie = ""

  const call = (
    route: string,
    init: RequestInit & { auth?: "token" | "cookie" | "none" | string; csrf?: boolean } = {},
  ) => {
    const auth = init.auth ?? "cookie"
    const headers: Record<string, string> = { ...(init.headers as Record<string, string>) }
    if (auth === "token") headers.authorization = `Bearer ${TOKEN}`
    else if (auth === "cookie") headers.cookie = cookie
    else if (auth !== "none") headers.cookie = auth
    if (init.csrf) headers[CSRF_HEADER] = "1"
    if (init.body) headers["content-type"] = "application/json"
    return app.request(route, { ...init, headers })
  }
  const json = async <T>(response: Response | Promise<Response>) => (await (await response).json()) as T
  const fields = async (response: Response) =>
    ((await response.json()) as ErrorBody).error.details?.issues?.map((issue) => issue.field)

  const signIn = async (): Promise<string> => {
    const response = await call("/api/session", {
      method: "POST",
      auth: "none",
      body: JSON.stringify({ token: TOKEN }),
    })
    expect(response.status).toBe(200)
    const setCookie = response.headers.get("set-cookie") ?? ""
    expect(setCookie).toMatch(/^prwright_session=[A-Za-z0-9_-]{40,};/)
    expect(setCookie).toContain("HttpOnly")
    expect(setCookie).toContain("SameSite=Strict")
    expect(setCookie).toContain("Path=/")
    expect(setCookie).not.toContain(TOKEN)
    return setCookie.split(";")[0] ?? ""
  }

  const newRun = async (issueNumber: number) =>
    (
      await container.requester.prepare(
        "comment-on-issue",
        { repoFullName: "acme/app", issueNumber },
        { source: "api" },
      )
    ).run

  let harness: TestHttpApp
  beforeAll(async () => {
    harness = await startTestHttpApp({
      token: TOKEN,
      prefix: "prwright-ui-api-",
      extra: (container) => ({
        ui: {
          plans: container.store,
          approvePlan: container.approvePlan,
          githubWebUrl: "https://github.com",
          limits: { maxCostUsd: 2, maxSteps: 40 },
        },
      }),
    })
    ;({ container, app } = harness)
    cookie = await signIn()
  })
  afterAll(async () => {
    await harness?.close()
  })

  it("signs in only with the right token, and says which field is missing", async () => {
    const wrong = await call("/api/session", {
      method: "POST",
      auth: "none",
      body: JSON.stringify({ token: "prw_wrong_token_0000000000" }),
    })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get("set-cookie")).toBeNull()
    expect(((await wrong.json()) as ErrorBody).error.message).toMatch(/not valid/)
    const missing = await call("/api/session", { method: "POST", auth: "none", body: JSON.stringify({}) })
    expect(missing.status).toBe(400)
    expect(await fields(missing)).toEqual(["token"])
    expect(await json(call("/api/session", { auth: "none" }))).toMatchObject({ signedIn: false })
    expect(await json(call("/api/session"))).toMatchObject({
      signedIn: true,
      actor: "PRWRIGHT_API_TOKEN (web)",
    })
  })

  it("answers 401 to every UI route without a session or a token, and to a forged cookie", async () => {
    const routes: Array<[string, string]> = [
      ["GET", "/api/runs"],
      ["GET", "/api/runs/x"],
      ["GET", "/api/runs/x/events"],
      ["POST", "/api/runs/x/retry"],
      ["GET", "/api/plans/x"],
      ["POST", "/api/plans/x/approve"],
      ["GET", "/api/overview"],
      ["GET", "/api/setup"],
      ["GET", "/api/jobs"],
    ]
    for (const [method, route] of routes) {
      expect((await call(route, { method, auth: "none" })).status, `${method} ${route}`).toBe(401)
      expect(
        (await call(route, { method, auth: "prwright_session=forged-session-id-0000000000000000000000" }))
          .status,
        `${method} ${route} with a forged cookie`,
      ).toBe(401)
    }
  })

  it("refuses a cookie-authenticated change without the CSRF header (403), accepts it with the header", async () => {
    const body = JSON.stringify({ repoFullName: "acme/app", issueNumber: 1 })
    const refused = await call("/api/workflow/commentOnIssue", { method: "POST", body })
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as ErrorBody).error.message).toContain(CSRF_HEADER)
    expect((await call("/api/runs/x/retry", { method: "POST" })).status).toBe(403)
    expect((await call("/api/plans/x/approve", { method: "POST", body: "{}" })).status).toBe(403)
    expect((await call("/api/jobs/x", { method: "DELETE" })).status).toBe(403)

    const accepted = await call("/api/workflow/commentOnIssue", { method: "POST", body, csrf: true })
    expect(accepted.status).toBe(202)
    const { jobId } = await json<{ jobId: string }>(accepted)
    const detail = await json<{ run: { trigger: { source: string; actor?: string } } }>(
      call(`/api/runs/${jobId}`),
    )
    expect(detail.run.trigger).toEqual({ source: "ui", actor: "PRWRIGHT_API_TOKEN (web)" })

    // a bearer token needs no CSRF header: browsers never attach it by themselves
    const withToken = await call("/api/workflow/commentOnIssue", {
      method: "POST",
      auth: "token",
      body: JSON.stringify({ repoFullName: "acme/app", issueNumber: 2 }),
    })
    expect(withToken.status).toBe(202)
  })

  it("answers 400 naming the field for bad queries and bodies", async () => {
    const cases: Array<[string, RequestInit & { csrf?: boolean }, string]> = [
      ["/api/runs?limit=0", {}, "limit"],
      ["/api/runs?status=done", {}, "status"],
      ["/api/runs?type=nope", {}, "type"],
      ["/api/runs?colour=red", {}, "colour"],
      ["/api/overview?days=1000", {}, "days"],
    ]
    for (const [route, init, field] of cases) {
      const response = await call(route, init)
      expect(response.status, route).toBe(400)
      expect(await fields(response), route).toEqual([field])
    }
    const run = await newRun(3)
    const events = await call(`/api/runs/${run.id}/events?after=-1`)
    expect(events.status).toBe(400)
    expect(await fields(events)).toEqual(["after"])

    await container.store.savePlan({
      id: "plan-400",
      repoFullName: "acme/app",
      issueNumber: 40,
      body: "1. x",
    })
    const noVersion = await call("/api/plans/plan-400/approve", { method: "POST", csrf: true, body: "{}" })
    expect(noVersion.status).toBe(400)
    expect(await fields(noVersion)).toEqual(["version"])
  })

  it("pages runs newest first with a cursor, and a run's events after a seq", async () => {
    const ids: string[] = []
    for (let issue = 100; issue < 105; issue++) ids.push((await newRun(issue)).id)
    const seen: string[] = []
    const positions = new Map<string, number | undefined>()
    let cursor: string | undefined
    let pages = 0
    do {
      const page = await json<{
        runs: Array<{ jobId: string; steps: number; queuePosition?: number }>
        nextCursor?: string
      }>(call(`/api/runs?repo=acme/app&limit=2${cursor ? `&cursor=${cursor}` : ""}`))
      seen.push(...page.runs.map((r) => r.jobId))
      for (const r of page.runs) positions.set(r.jobId, r.queuePosition)
      cursor = page.nextCursor
      pages += 1
    } while (cursor && pages < 20)
    expect(new Set(seen).size).toBe(seen.length)
    // newest first: the five just made lead (runs made in the same millisecond are ordered by id)
    expect(new Set(seen.slice(0, 5))).toEqual(new Set(ids))
    expect(seen.length).toBeGreaterThan(5)
    // waiting runs show their place in the queue: first come, first served at one priority
    const places = ids.map((id) => positions.get(id) ?? 0)
    expect(places.every((place) => place > 0)).toBe(true)
    expect(new Set(places).size).toBe(places.length)

    const run = await container.store.getRun(ids[0] ?? "")
    await container.store.appendEvents(
      run?.id ?? "",
      Array.from({ length: 7 }, (_, i) => ({
        type: "log" as const,
        level: "info" as const,
        message: `line ${i}`,
      })),
    )
    const collected: number[] = []
    let after = 0
    for (let i = 0; i < 10; i++) {
      const page = await json<{
        events: Array<{ seq: number; at: string }>
        nextAfter?: number
        lastSeq: number
      }>(call(`/api/runs/${run?.id}/events?after=${after}&limit=3`))
      collected.push(...page.events.map((e) => e.seq))
      expect(page.events.every((e) => typeof e.at === "string")).toBe(true)
      if (page.nextAfter === undefined) break
      after = page.nextAfter
    }
    // the "queued" status event plus the seven log lines
    expect(collected).toEqual([1, 2, 3, 4, 5, 6, 7, 8])

    const detail = await json<{ run: { issueUrl: string; queuePosition?: number }; budget: unknown }>(
      call(`/api/runs/${ids[0]}`),
    )
    expect(detail.run.issueUrl).toBe("https://github.com/acme/app/issues/100")
    expect(detail.budget).toEqual({ maxCostUsd: 2, maxSteps: 40 })
  })

  it("approves exactly the version named, once, and refuses a stale or superseded one", async () => {
    const first = await container.store.savePlan({
      id: "plan-v1",
      repoFullName: "acme/app",
      issueNumber: 7,
      body: "1. first",
    })
    expect(first.version).toBe(1)
    const stale = await call("/api/plans/plan-v1/approve", {
      method: "POST",
      csrf: true,
      body: JSON.stringify({ version: 2 }),
    })
    expect(stale.status).toBe(409)

    const approved = await call("/api/plans/plan-v1/approve", {
      method: "POST",
      csrf: true,
      body: JSON.stringify({ version: 1 }),
    })
    expect(approved.status).toBe(202)
    const body = await json<{ jobId: string; created: boolean; plan: { status: string; version: number } }>(
      approved,
    )
    expect(body.jobId).toBe(approvalJobId("plan-v1"))
    expect(body.plan).toMatchObject({ status: "approved", version: 1 })
    const run = await container.store.getRun(body.jobId)
    expect(run).toMatchObject({ type: "resolve-issue", issueNumber: 7, trigger: { source: "ui" } })
    expect(run?.input.planId).toBe("plan-v1")

    const again = await json<{ jobId: string; created: boolean }>(
      call("/api/plans/plan-v1/approve", {
        method: "POST",
        csrf: true,
        body: JSON.stringify({ version: 1 }),
      }),
    )
    expect(again).toMatchObject({ jobId: body.jobId, created: false })

    await container.store.savePlan({
      id: "plan-v2",
      repoFullName: "acme/app",
      issueNumber: 7,
      body: "1. second",
    })
    const superseded = await call("/api/plans/plan-v1/approve", {
      method: "POST",
      csrf: true,
      body: JSON.stringify({ version: 1 }),
    })
    expect(superseded.status).toBe(409)
    expect(await json(call("/api/plans/plan-v2"))).toMatchObject({
      version: 2,
      status: "draft",
      body: "1. second",
    })
    expect((await call("/api/plans/nope")).status).toBe(404)
  })

  it("retries a cancelled run as a new run with the same request, and refuses to retry a waiting one", async () => {
    const run = await newRun(55)
    expect((await call(`/api/runs/${run.id}/retry`, { method: "POST", csrf: true })).status).toBe(409)
    const cancel = await call(`/api/jobs/${run.id}`, { method: "DELETE", csrf: true })
    expect(cancel.status).toBe(202)
    const retried = await call(`/api/runs/${run.id}/retry`, { method: "POST", csrf: true })
    expect(retried.status).toBe(202)
    const { jobId } = await json<{ jobId: string }>(retried)
    expect(jobId).not.toBe(run.id)
    const copy = await container.store.getRun(jobId)
    expect(copy).toMatchObject({ type: "comment-on-issue", repoFullName: "acme/app", issueNumber: 55 })
  })

  it("serves the overview figures and the setup page's webhook URL", async () => {
    const overview = await json<{ days: unknown[]; totals: { runs: number } }>(call("/api/overview?days=7"))
    expect(overview.days).toHaveLength(7)
    expect(overview.totals.runs).toBeGreaterThanOrEqual(5)
    const setup = await json<{ webhookUrl: string; webhookSecretSet: boolean }>(call("/api/setup"))
    expect(setup.webhookUrl).toBe("http://localhost/api/webhooks/github")
    expect(setup.webhookSecretSet).toBe(false)
  })

  it("the UI client calls only routes the OpenAPI document describes, with the server's CSRF header", async () => {
    expect(CSRF_HEADER).toBe(SERVER_CSRF_HEADER)
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(call("/api/openapi.json"))
    for (const [name, [method, route]] of Object.entries(API_ROUTES)) {
      expect(doc.paths[route]?.[method], `${name}: ${method.toUpperCase()} ${route}`).toBeDefined()
    }
    const runs = doc.paths["/api/runs"]?.get as {
      responses: {
        "200": { content: { "application/json": { schema: { properties: Record<string, unknown> } } } }
      }
    }
    const runSchema = runs.responses["200"].content["application/json"].schema.properties.runs as {
      items: { properties: Record<string, unknown> }
    }
    for (const field of [
      "steps",
      "queuePosition",
      "issueUrl",
      "artifacts",
      "trigger",
      "usage",
      "durationMs",
    ]) {
      expect(runSchema.items.properties[field], field).toBeDefined()
    }
  })

  it("signs out: DELETE needs the CSRF header, then the cookie no longer works", async () => {
    const session = await signIn()
    expect((await call("/api/session", { method: "DELETE", auth: session })).status).toBe(403)
    const out = await call("/api/session", { method: "DELETE", auth: session, csrf: true })
    expect(out.status).toBe(200)
    expect(out.headers.get("set-cookie")).toMatch(/prwright_session=;.*Max-Age=0/)
    expect((await call("/api/runs", { auth: session })).status).toBe(401)
  })

  it("slows down guessing: after 20 wrong tokens in a minute, sign-in answers 429 (bearer requests still work)", async () => {
    // the earlier test spent one failure
    for (let i = 0; i < 19; i++) {
      const wrong = await call("/api/session", {
        method: "POST",
        auth: "none",
        body: JSON.stringify({ token: `prw_guess_${i}_000000000000` }),
      })
      expect(wrong.status).toBe(401)
    }
    const limited = await call("/api/session", {
      method: "POST",
      auth: "none",
      body: JSON.stringify({ token: TOKEN }),
    })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0)
    expect((await call("/api/runs", { auth: "token" })).status).toBe(200)
  })
})
