import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { createHttpApp } from "#entrypoints/http/app.js"
import type { Container } from "#main/container.js"
import { startTestHttpApp, type TestHttpApp } from "../support/http-app.js"

const TOKEN = "prw_http_test_token_0123456789"

describe("HTTP API", () => {
  let container: Container
  let app: ReturnType<typeof createHttpApp>
  const call = (route: string, init: RequestInit = {}, token: string | null = TOKEN) =>
    app.request(route, {
      ...init,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.headers as Record<string, string>),
      },
    })

  let harness: TestHttpApp
  beforeAll(async () => {
    harness = await startTestHttpApp({
      token: TOKEN,
      prefix: "prwright-http-",
      extra: (container) => ({
        repoSettings: container.repoSettings,
      }),
    })
    ;({ container, app } = harness)
  })
  afterAll(async () => {
    await harness?.close()
  })

  it("answers a browser at / without a token: the web UI, or how to build it when it is not built", async () => {
    const response = await call("/", {}, null)
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toContain("text/html")
    expect(response.headers.get("content-security-policy")).toContain("script-src 'self'")
    const html = await response.text()
    expect(html).toMatch(/<div id="root"><\/div>|prwright <small>test<\/small>/)
  })

  it("serves its OpenAPI document, whose request schemas are the ones the API validates with", async () => {
    expect((await call("/api/openapi.json", {}, null)).status).toBe(200) // public: tools load it
    const doc = (await (await call("/api/openapi.json")).json()) as {
      openapi: string
      paths: Record<
        string,
        Record<
          string,
          {
            requestBody?: {
              content: Record<
                string,
                {
                  schema: {
                    required?: string[]
                    properties: Record<string, unknown>
                    additionalProperties?: boolean
                  }
                }
              >
            }
          }
        >
      >
    }
    expect(doc.openapi).toBe("3.1.0")
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/workflow/commentOnIssue",
        "/api/workflow/autoResolveIssue",
        "/api/workflow/resolveIssue",
        "/api/jobs/{jobId}/events",
      ]),
    )
    const schema =
      doc.paths["/api/workflow/commentOnIssue"]?.post?.requestBody?.content["application/json"]?.schema
    expect(schema?.required?.sort()).toEqual(["issueNumber", "repoFullName"])
    expect(Object.keys(schema?.properties ?? {}).sort()).toEqual([
      "issueNumber",
      "jobId",
      "postToGitHub",
      "postToGithub",
      "priority",
      "repoFullName",
    ])
    expect(schema?.additionalProperties).toBe(false)
  })

  it("exposes Prometheus metrics to a loopback peer without a token, labelled by route pattern, not by path", async () => {
    await call("/api/jobs/6f1c2a52-0000-4000-8000-000000000001")
    await call("/api/jobs/6f1c2a52-0000-4000-8000-000000000002")
    await call("/api/workflow/commentOnIssue", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ repoFullName: "o/r", issueNumber: 5 }),
    })
    // see test/security/metrics-readyz.test.ts for who else may read them
    const response = await app.request(
      "/metrics",
      {},
      { incoming: { socket: { remoteAddress: "127.0.0.1" } } },
    )
    expect(response.status).toBe(200)
    const text = await response.text()
    expect(text).toContain(
      'prwright_http_requests_total{method="GET",route="/api/jobs/:jobId",status="404"} 2',
    )
    expect(text).toContain('prwright_jobs_requested_total{created="true",type="comment-on-issue"} 1')
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m)
    expect(text).not.toContain("6f1c2a52")
  })

  it("checks the bearer token and answers in the API's error shape", async () => {
    const missing = await call("/api/jobs", {}, null)
    expect(missing.status).toBe(401)
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="prwright"')
    expect(await missing.json()).toMatchObject({
      error: { code: "unauthorized", message: expect.stringContaining("missing Authorization: Bearer") },
    })
    const wrong = await call("/api/jobs", {}, "prw_not_the_token")
    expect(wrong.status).toBe(401)
    expect(await wrong.json()).toMatchObject({
      error: { code: "unauthorized", message: expect.stringContaining("not valid") },
    })
    const basic = await call("/api/jobs", { headers: { authorization: "Basic dXNlcjpwYXNz" } }, null)
    expect(basic.status).toBe(401)
    expect(await basic.json()).toMatchObject({
      error: { code: "unauthorized", message: expect.stringContaining("Bearer <token>") },
    })
  })

  it("records the token's label as the actor of a run it starts", async () => {
    const response = await call("/api/workflow/commentOnIssue", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ repoFullName: "o/r", issueNumber: 6 }),
    })
    expect(response.status).toBe(202)
    const { jobId } = (await response.json()) as { jobId: string }
    expect((await container.store.getRun(jobId))?.trigger).toEqual({
      source: "api",
      actor: "PRWRIGHT_API_TOKEN",
    })
  })

  it("keeps a repository's settings: validated, replaced as a whole", async () => {
    const settingsOf = (repo: string) => `/api/repos/${repo}/settings`
    const put = (repo: string, body: unknown) =>
      call(settingsOf(repo), {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      })
    expect(await (await call(settingsOf("acme/widgets"))).json()).toEqual({
      repoFullName: "acme/widgets",
      settings: {},
    })

    const saved = await put("acme/widgets", { fixCi: true, maxSteps: 40, maxCostUsd: 2.5 })
    expect(saved.status).toBe(200)
    const body = (await saved.json()) as { settings: unknown; updatedAt: string }
    expect(body.settings).toEqual({ fixCi: true, maxSteps: 40, maxCostUsd: 2.5 })
    expect(Date.parse(body.updatedAt)).not.toBeNaN()
    expect(await (await call(settingsOf("acme/widgets"))).json()).toMatchObject({
      repoFullName: "acme/widgets",
      settings: { fixCi: true, maxSteps: 40, maxCostUsd: 2.5 },
    })

    await put("acme/widgets", { maxSteps: 10 })
    expect(
      ((await (await call(settingsOf("acme/widgets"))).json()) as { settings: unknown }).settings,
    ).toEqual({
      maxSteps: 10,
    })

    const bad = await put("acme/widgets", { maxSteps: 0, apiKey: "sk-nope" })
    expect(bad.status).toBe(400)
    const error = (await bad.json()) as { error: { details: { issues: Array<{ field: string }> } } }
    expect(error.error.details.issues.map((issue) => issue.field).sort()).toEqual(["apiKey", "maxSteps"])
    expect((await call(settingsOf("not a repo/x"))).status).toBe(400)
    expect((await call(settingsOf("acme/widgets"), {}, null)).status).toBe(401)
  })
})
