/**
 * Attack: webhook replay by delivery id (issue 8, weakness 9). GitHub's HMAC covers the body, not the
 * X-GitHub-Delivery header, so whoever captured one signed delivery (a proxy log, a mis-sent webhook)
 * can post it again and again with fresh delivery ids. Each copy must be recognised as the same event
 * (the comment's id, the label event's issue + label + time), so no copy starts a second paid run —
 * not while the first run is active, not after it finished, not when the copies race each other.
 */
import { randomUUID } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createApiAuth } from "#application/api-auth.js"
import { createHttpApp } from "#entrypoints/http/app.js"
import { loadConfig } from "#main/config.js"
import { type Container, createContainer } from "#main/container.js"
import { commentPayload, labeledPayload, signedDelivery } from "../doubles/github/webhook-payloads.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import { createCapturingLogger } from "../support/logger.js"

const TOKEN = "ghp_replayTestToken_0123456789"
const SECRET = "whsec-replay-secret-0123456789"
const REPO = "acme/replayed"

describe("attack: replaying one signed webhook body with new X-GitHub-Delivery ids", () => {
  let github: GitHubDouble
  let dir: string
  let container: Container
  let app: Awaited<ReturnType<typeof createHttpApp>>

  beforeAll(async () => {
    github = await startGitHubDouble({ tokens: { [TOKEN]: { login: "prwright-bot", repos: "*" } } })
    await github.createRepo(REPO, { files: { "README.md": "# replayed\n" } })
    github.grant(REPO, "alice", "write")
    dir = await mkdtemp(path.join(tmpdir(), "prwright-replay-"))
    container = await createContainer(
      loadConfig({
        PRWRIGHT_DATA_DIR: dir,
        GITHUB_API_URL: github.apiUrl,
        GITHUB_TOKEN: TOKEN,
        GITHUB_WEBHOOK_SECRET: SECRET,
        PRWRIGHT_API_TOKEN: "prw_replay_test_token_0123",
      }),
      { logger: createCapturingLogger(), model: null },
    )
    app = createHttpApp({
      requester: container.requester,
      cancelRun: container.cancelRun,
      store: container.store,
      bus: container.bus,
      auth: await createApiAuth({
        store: container.store,
        configuredToken: "prw_replay_test_token_0123",
        announce: () => {},
        newId: () => "id",
      }),
      logger: container.logger,
      workflows: container.jobTypes,
      version: "test",
      webhooks: { secret: SECRET, handle: container.webhooks.handle },
    })
  })
  afterAll(async () => {
    await container?.close()
    await github?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const runsOf = async (issueNumber: number) =>
    (await container.store.listRuns({ repoFullName: REPO, issueNumber })).runs
  /** the captured request, posted again with only the delivery header changed */
  const replay = (captured: ReturnType<typeof signedDelivery>, deliveryId: string = randomUUID()) =>
    app.request("/api/webhooks/github", {
      method: "POST",
      headers: { ...captured.headers, "x-github-delivery": deliveryId },
      body: captured.body,
    })
  const finish = (jobId: string) =>
    container.store.updateRun(jobId, { status: "completed", summary: "done", finishedAt: new Date() })

  it("a captured `/prwright resolve` comment replayed with new delivery ids starts one run, ever", async () => {
    const n = github.createIssue(REPO, { title: "Add clamp", body: "please" })
    const captured = signedDelivery(
      "issue_comment",
      commentPayload({ repo: REPO, issue: n, body: "/prwright resolve", sender: { login: "alice" } }),
      { secret: SECRET },
    )
    const first = await replay(captured, captured.deliveryId)
    expect(first.status).toBe(202)
    const { jobId } = (await first.json()) as { jobId: string }

    // while the run is pending
    const during = await replay(captured)
    expect(await during.json()).toMatchObject({ status: "duplicate" })
    // after it finished: the classic replay, a new paid run if the key were the delivery id
    await finish(jobId)
    for (let i = 0; i < 3; i++) {
      const again = await replay(captured)
      expect(again.status).toBe(200)
      expect(await again.json()).toMatchObject({ status: "duplicate" })
    }
    expect((await runsOf(n)).map((r) => r.id)).toEqual([jobId])
  })

  it("a captured `prwright:plan` label delivery replayed after its run finished starts nothing", async () => {
    const n = github.createIssue(REPO, { title: "Plan me", body: "please" })
    const captured = signedDelivery(
      "issues",
      labeledPayload({ repo: REPO, issue: n, label: "prwright:plan", sender: { login: "alice" } }),
      { secret: SECRET },
    )
    const first = await replay(captured)
    expect(first.status).toBe(202)
    const { jobId } = (await first.json()) as { jobId: string }
    await finish(jobId)
    const again = await replay(captured)
    expect(await again.json()).toMatchObject({ status: "duplicate" })
    expect(await runsOf(n)).toHaveLength(1)

    // a real second labelling is a new event (GitHub stamps the issue's updated_at), and is acted on
    const relabel = labeledPayload({
      repo: REPO,
      issue: n,
      label: "prwright:plan",
      sender: { login: "alice" },
    })
    relabel.issue.updated_at = new Date(Date.now() + 60_000).toISOString()
    const second = await replay(signedDelivery("issues", relabel, { secret: SECRET }))
    expect(second.status).toBe(202)
    expect(await runsOf(n)).toHaveLength(2)
  })

  it("twenty copies racing each other with distinct delivery ids start exactly one run", async () => {
    const n = github.createIssue(REPO, { title: "Race", body: "please" })
    const captured = signedDelivery(
      "issue_comment",
      commentPayload({ repo: REPO, issue: n, body: "/prwright plan", sender: { login: "alice" } }),
      { secret: SECRET },
    )
    const answers = await Promise.all(Array.from({ length: 20 }, () => replay(captured)))
    const statuses = await Promise.all(
      answers.map(async (a) => ((await a.json()) as { status: string }).status),
    )
    expect(statuses.filter((s) => s === "started")).toHaveLength(1)
    expect(statuses.filter((s) => s !== "started" && s !== "duplicate" && s !== "already-active")).toEqual([])
    expect(await runsOf(n)).toHaveLength(1)
  })

  it("a different comment with the same words is a new request and is acted on once its turn comes", async () => {
    const n = github.createIssue(REPO, { title: "Twice", body: "please" })
    const comment = (commentId: number) =>
      signedDelivery(
        "issue_comment",
        commentPayload({
          repo: REPO,
          issue: n,
          body: "/prwright plan",
          sender: { login: "alice" },
          commentId,
        }),
        { secret: SECRET },
      )
    const first = await replay(comment(9_100_001))
    const { jobId } = (await first.json()) as { jobId: string }
    await finish(jobId)
    expect((await replay(comment(9_100_002))).status).toBe(202)
    expect(await runsOf(n)).toHaveLength(2)
  })
})
