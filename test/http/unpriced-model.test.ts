/**
 * A model without a price under the cost cap (issue 13, finding 5): an implementing request is refused
 * at once, naming both fixes, and nothing is stored; a price (PRWRIGHT_MODEL_PRICES) or
 * PRWRIGHT_ALLOW_UNPRICED=1 lets it start; a plan (no cost cap) is accepted either way.
 */
import { afterEach, describe, expect, it } from "vitest"
import { startTestHttpApp, type TestHttpApp } from "../support/http-app.js"

const TOKEN = "prw_unpriced_token_0123456789"
const MODEL_ENV = {
  LLM_PROVIDER: "openai-compatible",
  LLM_BASE_URL: "http://127.0.0.1:9/v1",
  LLM_MODEL: "local-llama",
}

describe("a model without a price", () => {
  let harness: TestHttpApp | undefined
  afterEach(async () => {
    await harness?.close()
    harness = undefined
  })
  const start = async (env: Record<string, string>) => {
    harness = await startTestHttpApp({
      token: TOKEN,
      prefix: "prwright-unpriced-",
      env: { ...MODEL_ENV, ...env },
    })
    return harness
  }
  const post = (route: string, body: unknown) =>
    harness!.app.request(`/api/workflow/${route}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    })
  const request = { repoFullName: "acme/app", issueNumber: 3 }

  it("refuses to start an implementing run under the default cap, naming both fixes, storing nothing", async () => {
    const { container } = await start({})
    for (const route of ["autoResolveIssue", "resolveIssue"]) {
      const response = await post(route, request)
      expect(response.status).toBe(503)
      const text = JSON.stringify(await response.json())
      expect(text).toMatch(/model local-llama has no price/)
      expect(text).toMatch(/PRWRIGHT_MODEL_PRICES/)
      expect(text).toMatch(/PRWRIGHT_ALLOW_UNPRICED=1/)
    }
    expect((await container.store.listRuns({})).runs).toHaveLength(0)
    // planning has no cost cap: accepted, its cost shown as unknown later
    expect((await post("commentOnIssue", { ...request, postToGitHub: false })).status).toBe(202)
  })

  it("starts once a price is configured", async () => {
    await start({ PRWRIGHT_MODEL_PRICES: JSON.stringify({ "local-llama": { input: 0.1, output: 0.2 } }) })
    expect((await post("autoResolveIssue", request)).status).toBe(202)
  })

  it("starts when the operator allows unpriced models (token caps still apply)", async () => {
    await start({ PRWRIGHT_ALLOW_UNPRICED: "1" })
    expect((await post("resolveIssue", request)).status).toBe(202)
  })
})
