import type { Hono } from "hono"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Container } from "#main/container.js"
import { startTestHttpApp, type TestHttpApp } from "../support/http-app.js"

const TOKEN = "prw_requests_token_0123456789"

describe("workflow requests", () => {
  let container: Container
  let app: Hono
  const post = (route: string, body: unknown) =>
    app.request(`/api/workflow/${route}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    })

  let harness: TestHttpApp
  beforeAll(async () => {
    harness = await startTestHttpApp({
      token: TOKEN,
      prefix: "prwright-requests-",
    })
    ;({ container, app } = harness)
  })
  afterAll(async () => {
    await harness?.close()
  })

  it("postToGitHub is the spelling; without it a plan is posted, as `prwright plan` does", async () => {
    const response = await post("commentOnIssue", { repoFullName: "acme/app", issueNumber: 1 })
    expect(response.status).toBe(202)
    const body = (await response.json()) as { jobId: string; deprecations?: string[] }
    expect(body.deprecations).toBeUndefined()
    expect((await container.store.getRun(body.jobId))?.input).toMatchObject({ postToGitHub: true })
  })

  it("the old postToGithub still works, is stored as postToGitHub, and the answer says to change it", async () => {
    const response = await post("commentOnIssue", {
      repoFullName: "acme/app",
      issueNumber: 2,
      postToGithub: false,
    })
    expect(response.status).toBe(202)
    const body = (await response.json()) as { jobId: string; deprecations?: string[] }
    expect(body.deprecations).toEqual(["postToGithub is deprecated: send postToGitHub (same meaning)"])
    const input = (await container.store.getRun(body.jobId))?.input
    expect(input).toMatchObject({ postToGitHub: false })
    expect(input).not.toHaveProperty("postToGithub")

    const auto = await post("autoResolveIssue", {
      repoFullName: "acme/app",
      issueNumber: 3,
      options: { postToGithub: true },
    })
    expect(auto.status).toBe(202)
    const autoBody = (await auto.json()) as { jobId: string; deprecations?: string[] }
    expect(autoBody.deprecations).toEqual([
      "options.postToGithub is deprecated: send options.postToGitHub (same meaning)",
    ])
    expect((await container.store.getRun(autoBody.jobId))?.input).toMatchObject({
      options: { postToGitHub: true },
    })
  })

  it("both spellings disagreeing is a 400 naming both", async () => {
    const response = await post("commentOnIssue", {
      repoFullName: "acme/app",
      issueNumber: 4,
      postToGithub: true,
      postToGitHub: false,
    })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
      /postToGithub and postToGitHub disagree: send only postToGitHub/,
    )
  })

  it("a misspelt field is answered with the closest known name, at any depth", async () => {
    const top = await post("commentOnIssue", { repoFullName: "acme/app", issueNumber: 5, postToGitHib: true })
    expect(top.status).toBe(400)
    expect(((await top.json()) as { error: { message: string } }).error.message).toContain(
      '"postToGitHib" (did you mean "postToGitHub"?)',
    )
    const nested = await post("autoResolveIssue", {
      repoFullName: "acme/app",
      issueNumber: 5,
      options: { createPr: false, maxAtempts: 2 },
    })
    expect(nested.status).toBe(400)
    const message = ((await nested.json()) as { error: { message: string } }).error.message
    expect(message).toContain('"createPr" (did you mean "createPR"?)')
    expect(message).toContain('"maxAtempts" (did you mean "maxAttempts"?)')
    const far = await post("commentOnIssue", { repoFullName: "acme/app", issueNumber: 5, colour: "blue" })
    expect(((await far.json()) as { error: { message: string } }).error.message).toContain(
      'unknown field(s) "colour": remove them',
    )
  })

  it("GET on a POST route is 405 with Allow: POST", async () => {
    for (const route of [
      "/api/workflow/commentOnIssue",
      "/api/workflow/autoResolveIssue",
      "/api/webhooks/github",
    ]) {
      const response = await app.request(route)
      expect(response.status, route).toBe(405)
      expect(response.headers.get("allow")).toBe("POST")
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed")
    }
  })
})
