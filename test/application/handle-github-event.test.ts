/**
 * Webhook intake on the real composition: SQLite run store, embedded queue (no workers: the run records
 * and queue jobs are the outcome), the GitHub double for permissions, replies and reactions. Payloads are
 * @octokit/webhooks-examples, retargeted. The last block drives the HTTP route in process.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { createOctokitGitHub } from "#adapters/github/octokit-github.js"
import { createApiAuth } from "#application/api-auth.js"
import {
  accessReplyMarker,
  createHandleGitHubEvent,
  type GitHubEvent,
} from "#application/handle-github-event.js"
import type { JobQueue } from "#application/ports/job-queue.js"
import { closedIssueOf, parseCommand } from "#application/read-github-event.js"
import { createWorkflowRequester } from "#application/request-workflow.js"
import { createRunJournal } from "#application/run-journal.js"
import { ConfigError, RetryableError } from "#domain/errors.js"
import { unpricedRefusal } from "#domain/model-table.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import { signPayload, verifySignature } from "#entrypoints/http/webhooks.js"
import { loadConfig } from "#main/config.js"
import { type Container, createContainer } from "#main/container.js"
import { openApiProblems } from "../doubles/github/openapi-shape.js"
import { commentPayload, labeledPayload, signedDelivery } from "../doubles/github/webhook-payloads.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import { httpAppOf } from "../support/http-app.js"
import { createCapturingLogger } from "../support/logger.js"

const TOKEN = "ghp_webhookTestToken_0123456789"
const SECRET = "whsec-test-secret-0123456789"
const REPO = "acme/widgets"
const alice = { login: "alice" } // write
const mallory = { login: "mallory" } // read (public repository, no grant)

describe("handleGitHubEvent", () => {
  let github: GitHubDouble
  let dir: string
  let container: Container
  let delivery = 0
  const nextDelivery = () => `00000000-0000-4000-8000-${String(++delivery).padStart(12, "0")}`

  const handle = (name: string, payload: unknown, deliveryId = nextDelivery()) =>
    container.webhooks.handle({ name, deliveryId, payload } satisfies GitHubEvent)
  const runsOf = async (issueNumber: number) =>
    (await container.store.listRuns({ repoFullName: REPO, issueNumber })).runs
  const issue = (title = "Add clamp()") =>
    github.createIssue(REPO, { title, body: "We need clamp(x, lo, hi)." })
  /** a comment as it exists on GitHub, so reactions to it can land */
  const commentOn = (issueNumber: number, user: string, body: string) => {
    const id = github.state.nextId()
    const now = new Date().toISOString()
    github.state.comments.set(id, { id, repo: REPO, issueNumber, body, user, createdAt: now, updatedAt: now })
    return id
  }
  /** the intake on the container's parts with a requester of its own: `requester` changes its queue or preflight */
  const intakeWith = (requester: Partial<Parameters<typeof createWorkflowRequester>[0]>) => {
    const logger = createCapturingLogger()
    return createHandleGitHubEvent({
      github: createOctokitGitHub({ token: TOKEN, baseUrl: github.apiUrl }),
      runs: container.store,
      deliveries: container.store,
      requester: createWorkflowRequester({
        store: container.store,
        queue: container.queue!,
        journal: createRunJournal({ store: container.store, bus: container.bus, logger }),
        newId: () => crypto.randomUUID(),
        logger,
        ...requester,
      }),
      cancelRun: container.cancelRun,
      logger,
    })
  }
  /** the container's queue, enqueueing through `enqueue` (which may call the queue's own) */
  const queueWith = (enqueue: JobQueue["enqueue"]): JobQueue => {
    const queue = container.queue!
    return {
      enqueue,
      getJob: (id) => queue.getJob(id),
      cancel: (id) => queue.cancel(id),
      process: (type, handler, options) => queue.process(type, handler, options),
      close: async () => {},
    }
  }

  beforeAll(async () => {
    github = await startGitHubDouble({ tokens: { [TOKEN]: { login: "prwright-bot", repos: "*" } } })
    await github.createRepo(REPO, { files: { "README.md": "# widgets\n" } })
    github.grant(REPO, "alice", "write")
    github.grant(REPO, "maya", "maintain")
    github.grant(REPO, "tom", "triage")
    dir = await mkdtemp(path.join(tmpdir(), "prwright-webhook-"))
    container = await createContainer(
      loadConfig({
        PRWRIGHT_DATA_DIR: dir,
        GITHUB_API_URL: github.apiUrl,
        GITHUB_TOKEN: TOKEN,
        GITHUB_WEBHOOK_SECRET: SECRET,
        PRWRIGHT_API_TOKEN: "prw_webhook_test_token_0123",
      }),
      { logger: createCapturingLogger(), model: null },
    )
  })
  afterAll(async () => {
    await container?.close()
    await github?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it("a delivery whose handling failed (GitHub down) is acted on when GitHub redelivers it", async () => {
    const real = createOctokitGitHub({ token: TOKEN, baseUrl: github.apiUrl })
    let down = true
    const handleFlaky = createHandleGitHubEvent({
      github: {
        ...real,
        async getPermission(repo, user) {
          if (down) throw new RetryableError("GitHub answered 502")
          return real.getPermission(repo, user)
        },
      },
      runs: container.store,
      deliveries: container.store,
      requester: container.requester,
      cancelRun: container.cancelRun,
      logger: createCapturingLogger(),
    })
    const n = issue("Flaky delivery")
    const deliveryId = nextDelivery()
    const payload = labeledPayload({ repo: REPO, issue: n, label: "prwright:plan", sender: alice })
    await expect(handleFlaky({ name: "issues", deliveryId, payload })).rejects.toThrow(/502/)
    expect(await runsOf(n)).toHaveLength(0)
    down = false
    const outcome = await handleFlaky({ name: "issues", deliveryId, payload })
    expect(outcome.outcome).toBe("started")
    expect(await runsOf(n)).toHaveLength(1)
    expect((await handleFlaky({ name: "issues", deliveryId, payload })).outcome).toBe("duplicate")
  })

  it("a delivery whose job the queue refused gets a run of its own when GitHub redelivers it", async () => {
    const queue = container.queue!
    let queueDown = true
    const handleFlaky = intakeWith({
      queue: queueWith(async (request) => {
        if (queueDown) throw new Error("database is locked")
        return queue.enqueue(request)
      }),
    })
    const n = issue("Queue hiccup")
    const deliveryId = nextDelivery()
    const payload = labeledPayload({ repo: REPO, issue: n, label: "prwright:plan", sender: alice })
    await expect(handleFlaky({ name: "issues", deliveryId, payload })).rejects.toThrow(/could not queue/)
    const [dead] = await runsOf(n)
    expect(dead?.status).toBe("failed")
    queueDown = false
    const outcome = await handleFlaky({ name: "issues", deliveryId, payload })
    expect(outcome).toMatchObject({ outcome: "started" })
    expect((outcome as { jobId: string }).jobId).not.toBe(dead?.id)
    expect((await queue.getJob((outcome as { jobId: string }).jobId))?.state).toBe("waiting")
    expect((await handleFlaky({ name: "issues", deliveryId, payload })).outcome).toBe("duplicate")
  })

  it("triggers for one issue arriving together start one run; the others answer with it", async () => {
    // a queue that answers after a network round trip (as Redis does), so the handlers interleave
    const handleSlow = intakeWith({
      queue: queueWith(async (request) => {
        await new Promise((resolve) => setTimeout(resolve, 20))
        return container.queue!.enqueue(request)
      }),
    })
    const n = issue("Busy issue")
    const outcomes = await Promise.all([
      handleSlow({
        name: "issues",
        deliveryId: nextDelivery(),
        payload: labeledPayload({ repo: REPO, issue: n, label: "prwright:plan", sender: alice }),
      }),
      ...["/prwright plan", "/prwright resolve", "/prwright resolve now"].map((body) =>
        handleSlow({
          name: "issue_comment",
          deliveryId: nextDelivery(),
          payload: commentPayload({ repo: REPO, issue: n, body, sender: alice }),
        }),
      ),
    ])
    const runs = await runsOf(n)
    expect(runs).toHaveLength(1)
    expect(outcomes.filter((o) => o.outcome === "started")).toHaveLength(1)
    expect(
      outcomes.filter((o) => o.outcome === "already-active").map((o) => "jobId" in o && o.jobId),
    ).toEqual([runs[0]!.id, runs[0]!.id, runs[0]!.id])
  })

  it("label prwright:plan from a writer queues a planning run recorded with its trigger", async () => {
    const n = issue()
    const deliveryId = nextDelivery()
    const labeled = labeledPayload({ repo: REPO, issue: n, label: "prwright:plan", sender: alice })
    const outcome = await handle("issues", labeled, deliveryId)
    expect(outcome).toMatchObject({ outcome: "started", type: "comment-on-issue", issueNumber: n })
    const runs = await runsOf(n)
    expect(runs).toHaveLength(1)
    const run = runs[0]!
    expect(run.id).toBe((outcome as { jobId: string }).jobId)
    expect(run).toMatchObject({ type: "comment-on-issue", status: "pending", repoFullName: REPO })
    expect(run.input).toMatchObject({ postToGitHub: true, issueNumber: n })
    expect(run.trigger).toEqual({ source: "webhook", actor: "alice", deliveryId })
    expect((await container.queue!.getJob(run.id))?.state).toBe("waiting")

    // a redelivery of the same delivery starts nothing
    const again = await handle("issues", labeled, deliveryId)
    expect(again.outcome).toBe("duplicate")
    // another trigger while the run is pending answers with that run
    const repeat = await handle(
      "issues",
      labeledPayload({ repo: REPO, issue: n, label: "prwright:resolve", sender: alice }),
    )
    expect(repeat).toMatchObject({ outcome: "already-active", jobId: run.id })
    expect(await runsOf(n)).toHaveLength(1)
  })

  it("a trigger the configuration cannot run (a model without a price) is answered once on the issue, nothing stored", async () => {
    const handleUnpriced = intakeWith({
      // what the container sets for a model without a price under the cost cap
      preflight: (type) => {
        if (type !== "comment-on-issue") throw new ConfigError(unpricedRefusal("local-llama", 5))
      },
    })
    const n = issue("Unpriced model")
    const outcome = await handleUnpriced({
      name: "issues",
      deliveryId: nextDelivery(),
      payload: labeledPayload({ repo: REPO, issue: n, label: "prwright:resolve", sender: alice }),
    })
    expect(outcome.outcome).toBe("refused")
    expect(await runsOf(n)).toHaveLength(0)
    const replies = github.comments(REPO, n)
    expect(replies).toHaveLength(1)
    expect(replies[0]?.body).toMatch(/@alice prwright cannot start this run: model local-llama has no price/)
    expect(replies[0]?.body).toMatch(/PRWRIGHT_MODEL_PRICES.*PRWRIGHT_ALLOW_UNPRICED=1/)
  })

  it("label prwright:resolve queues an auto-resolve run that opens a PR and posts to GitHub", async () => {
    const n = issue()
    const outcome = await handle(
      "issues",
      labeledPayload({ repo: REPO, issue: n, label: "PRWRIGHT:RESOLVE", sender: { login: "maya" } }),
    )
    expect(outcome).toMatchObject({ outcome: "started", type: "auto-resolve-issue" })
    const [run] = await runsOf(n)
    expect(run?.input).toMatchObject({ options: { createPR: true, postToGitHub: true } })
    expect(run?.trigger.actor).toBe("maya")
  })

  it("ignores other labels, other actions, bots, edits, and comments without a command", async () => {
    const n = issue()
    const ignored = [
      await handle("issues", labeledPayload({ repo: REPO, issue: n, label: "bug", sender: alice })),
      await handle("issues", {
        ...labeledPayload({ repo: REPO, issue: n, label: "prwright:plan", sender: alice }),
        action: "unlabeled",
      }),
      await handle(
        "issues",
        labeledPayload({
          repo: REPO,
          issue: n,
          label: "prwright:plan",
          sender: { login: "x[bot]", type: "Bot" },
        }),
      ),
      await handle(
        "issue_comment",
        commentPayload({
          repo: REPO,
          issue: n,
          body: "/prwright plan",
          sender: { login: "ci", type: "Bot" },
        }),
      ),
      await handle(
        "issue_comment",
        commentPayload({ repo: REPO, issue: n, body: "/prwright plan", sender: alice, action: "edited" }),
      ),
      await handle(
        "issue_comment",
        commentPayload({ repo: REPO, issue: n, body: "/prwright plan", sender: alice, action: "deleted" }),
      ),
      await handle("issue_comment", commentPayload({ repo: REPO, issue: n, body: "lgtm", sender: alice })),
      await handle(
        "issue_comment",
        commentPayload({ repo: REPO, issue: n, body: "> /prwright plan\n\nagreed", sender: alice }),
      ),
      await handle("push", { ref: "refs/heads/main" }),
    ]
    expect(ignored.map((o) => o.outcome)).toEqual(Array(ignored.length).fill("ignored"))
    expect(await runsOf(n)).toEqual([])
    expect(github.comments(REPO, n)).toEqual([])
  })

  it("someone without write access gets one polite reply per issue, however often they try", async () => {
    const n = issue()
    const tries = [
      await handle(
        "issues",
        labeledPayload({ repo: REPO, issue: n, label: "prwright:plan", sender: mallory }),
      ),
      await handle(
        "issue_comment",
        commentPayload({ repo: REPO, issue: n, body: "/prwright resolve", sender: mallory }),
      ),
      await handle(
        "issue_comment",
        commentPayload({ repo: REPO, issue: n, body: "/prwright plan", sender: mallory }),
      ),
      await handle(
        "issue_comment",
        commentPayload({ repo: REPO, issue: n, body: "/prwright plan", sender: { login: "tom" } }),
      ),
    ]
    expect(tries.map((o) => o.outcome)).toEqual(Array(4).fill("not-authorized"))
    expect(tries[0]).toMatchObject({ reason: expect.stringMatching(/mallory has read access/) })
    expect(await runsOf(n)).toEqual([])
    const replies = github.comments(REPO, n)
    // one for mallory, one for tom (triage is not enough)
    expect(replies.map((c) => c.body.match(/^@(\w+)/)?.[1])).toEqual(["mallory", "tom"])
    expect(replies[0]?.body).toContain(accessReplyMarker("mallory"))
    expect(replies[0]?.body).toMatch(/write access to acme\/widgets/)
  })

  it("/prwright plan and resolve in comments start runs and react to the command", async () => {
    const n = issue()
    const commentId = commentOn(n, "alice", "/prwright plan")
    const outcome = await handle(
      "issue_comment",
      commentPayload({
        repo: REPO,
        issue: n,
        body: "Thanks!\n/prwright plan please",
        sender: alice,
        commentId,
      }),
    )
    expect(outcome).toMatchObject({ outcome: "started", type: "comment-on-issue" })
    // the reaction is sent after the answer, in the background
    await vi.waitFor(() => expect(github.reactions(commentId).map((r) => r.content)).toEqual(["rocket"]))

    const m = issue()
    const resolved = await handle(
      "issue_comment",
      commentPayload({ repo: REPO, issue: m, body: "/prwright resolve", sender: { login: "acme" } }),
    )
    expect(resolved).toMatchObject({ outcome: "started", type: "auto-resolve-issue" })
    expect((await runsOf(m))[0]?.trigger.actor).toBe("acme") // the owner is admin
  })

  it("/prwright approve implements the latest finished plan, and says so when there is none", async () => {
    const n = issue()
    const early = await handle(
      "issue_comment",
      commentPayload({ repo: REPO, issue: n, body: "/prwright approve", sender: alice }),
    )
    expect(early).toMatchObject({ outcome: "ignored", reason: expect.stringMatching(/no finished plan/) })
    expect(github.comments(REPO, n).at(-1)?.body).toMatch(/`\/prwright plan` first/)

    const plan = await handle(
      "issues",
      labeledPayload({ repo: REPO, issue: n, label: "prwright:plan", sender: alice }),
    )
    const planId = (plan as { jobId: string }).jobId
    await container.store.updateRun(planId, {
      status: "completed",
      summary: "1. do it",
      finishedAt: new Date(),
    })
    const approved = await handle(
      "issue_comment",
      commentPayload({ repo: REPO, issue: n, body: "/prwright approve", sender: alice }),
    )
    expect(approved).toMatchObject({ outcome: "started", type: "resolve-issue" })
    const run = await container.store.getRun((approved as { jobId: string }).jobId)
    expect(run?.input).toMatchObject({ planId, options: { createPR: true } })
  })

  it("/prwright approve approves the newest stored plan version and implements exactly it", async () => {
    const n = issue()
    await container.store.savePlan({ id: `plan-a-${n}`, repoFullName: REPO, issueNumber: n, body: "1. a" })
    const newest = await container.store.savePlan({
      id: `plan-b-${n}`,
      repoFullName: REPO,
      issueNumber: n,
      body: "1. b",
    })
    const approved = await handle(
      "issue_comment",
      commentPayload({ repo: REPO, issue: n, body: "/prwright approve", sender: alice }),
    )
    expect(approved).toMatchObject({ outcome: "started", type: "resolve-issue" })
    const run = await container.store.getRun((approved as { jobId: string }).jobId)
    expect(run?.input).toMatchObject({ planId: newest.id })
    expect(await container.store.getPlan(newest.id)).toMatchObject({ version: 2, status: "approved" })
    expect(await container.store.getPlan(`plan-a-${n}`)).toMatchObject({ status: "superseded" })
  })

  it("/prwright cancel stops the issue's active run", async () => {
    const n = issue()
    const none = await handle(
      "issue_comment",
      commentPayload({ repo: REPO, issue: n, body: "/prwright cancel", sender: alice }),
    )
    expect(none).toMatchObject({
      outcome: "ignored",
      reason: expect.stringMatching(/no pending or running run/),
    })
    const started = await handle(
      "issues",
      labeledPayload({ repo: REPO, issue: n, label: "prwright:plan", sender: alice }),
    )
    const jobId = (started as { jobId: string }).jobId
    const cancelled = await handle(
      "issue_comment",
      commentPayload({ repo: REPO, issue: n, body: "/prwright cancel", sender: alice }),
    )
    expect(cancelled).toMatchObject({ outcome: "cancelled", jobId })
    expect((await container.store.getRun(jobId))?.status).toBe("cancelled")
    expect((await container.queue!.getJob(jobId))?.state).toBe("cancelled")
  })

  it("/prwright fix on prwright's pull request continues the issue it closes, with the instructions", async () => {
    const n = issue("Add clamp")
    const repo = github.state.repos.get(REPO)!
    const pr = (head: string, body: string) => {
      const number = repo.nextNumber++
      const now = new Date().toISOString()
      repo.pulls.set(number, {
        ...{ id: github.state.nextId(), number, title: "Add clamp", body, state: "open", draft: false },
        ...{ head, base: "main", user: "prwright-bot", createdAt: now, updatedAt: now, closedAt: null },
      })
      return number
    }
    const ours = pr(`prwright/issue-${n}-add-clamp`, `Adds clamp.\n\nCloses #${n}`)
    const fix = (number: number, body: string) =>
      handle(
        "issue_comment",
        commentPayload({ repo: REPO, issue: number, body, sender: alice, pullRequest: true }),
      )

    const outcome = await fix(ours, "/prwright fix rename the helper to clamp\nand keep the tests green")
    expect(outcome).toMatchObject({ outcome: "started", type: "resolve-issue", issueNumber: n })
    const run = await container.store.getRun((outcome as { jobId: string }).jobId)
    expect(run?.input).toMatchObject({
      issueNumber: n,
      instructions: "rename the helper to clamp\nand keep the tests green",
    })

    const theirs = pr("feature/clamp", `Closes #${n}`)
    expect(await fix(theirs, "/prwright fix everything")).toMatchObject({
      outcome: "ignored",
      reason: expect.stringMatching(/not opened by prwright/),
    })
    expect(await fix(ours, "/prwright fix")).toMatchObject({
      reason: expect.stringMatching(/needs instructions/),
    })
    expect(await fix(ours, "/prwright plan")).toMatchObject({ outcome: "ignored" })
    expect(await runsOf(n)).toHaveLength(1)
  })

  it("parses commands and closing keywords", () => {
    expect(parseCommand("hi\n  /prwright FIX use a map\nthanks")).toEqual({
      word: "fix",
      rest: "use a map\nthanks",
    })
    expect(parseCommand("see /prwright plan")).toBeUndefined()
    expect(closedIssueOf("Summary\n\nCloses #42")).toBe(42)
    expect(closedIssueOf("fixes: #7")).toBe(7)
    expect(closedIssueOf("Refs #7")).toBeUndefined()
  })

  it("the GitHub adapter reads roles (maintain, triage) and the double answers in GitHub's shape", async () => {
    const octokit = createOctokitGitHub({ token: TOKEN, baseUrl: github.apiUrl })
    const repo = parseRepoRef(REPO)
    expect(await octokit.getPermission(repo, "maya")).toBe("maintain")
    expect(await octokit.getPermission(repo, "tom")).toBe("triage")
    expect(await octokit.getPermission(repo, "acme")).toBe("admin")
    expect(await octokit.getPermission(repo, "stranger")).toBe("read")
    const headers = { authorization: `token ${TOKEN}`, "content-type": "application/json" }
    const permission = await (
      await fetch(`${github.apiUrl}/repos/${REPO}/collaborators/maya/permission`, { headers })
    ).json()
    expect(openApiProblems("repos/get-collaborator-permission-level", 200, permission)).toEqual([])
    const n = issue()
    const commentId = commentOn(n, "alice", "hello")
    const reaction = await fetch(`${github.apiUrl}/repos/${REPO}/issues/comments/${commentId}/reactions`, {
      method: "POST",
      headers,
      body: JSON.stringify({ content: "eyes" }),
    })
    expect(reaction.status).toBe(201)
    expect(openApiProblems("reactions/create-for-issue-comment", 201, await reaction.json())).toEqual([])
    await octokit.addReaction(repo, commentId, "eyes")
    expect(github.reactions(commentId)).toHaveLength(1)
  })

  describe("POST /api/webhooks/github", () => {
    const appWith = async (secret: string | undefined) =>
      httpAppOf(
        container,
        await createApiAuth({
          store: container.store,
          configuredToken: "prw_webhook_test_token_0123",
          announce: () => {},
          newId: () => "id",
        }),
        { webhooks: { ...(secret ? { secret } : {}), handle: container.webhooks.handle } },
      )
    const post = async (delivery: ReturnType<typeof signedDelivery>, secret: string | null = SECRET) =>
      (await appWith(secret ?? undefined)).request("/api/webhooks/github", {
        method: "POST",
        headers: delivery.headers,
        body: delivery.body,
      })

    it("verifies the signature over the raw body, without a bearer token", async () => {
      const n = issue()
      const payload = labeledPayload({ repo: REPO, issue: n, label: "prwright:plan", sender: alice })
      const forged = signedDelivery("issues", payload, { secret: "not-the-secret" })
      expect((await post(forged)).status).toBe(401)
      const unsigned = signedDelivery("issues", payload, { secret: SECRET, signature: "" })
      const response = await post(unsigned)
      expect(response.status).toBe(401)
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
        /X-Hub-Signature-256/,
      )
      expect(await runsOf(n)).toEqual([])

      // nothing was recorded: the same delivery, correctly signed, is still handled
      const signed = signedDelivery("issues", payload, { secret: SECRET, deliveryId: forged.deliveryId })
      const accepted = await post(signed)
      expect(accepted.status).toBe(202)
      const body = (await accepted.json()) as { jobId: string; statusUrl: string; status: string }
      expect(body.status).toBe("started")
      expect(body.statusUrl).toBe(`/api/jobs/${body.jobId}`)
      const redelivered = await post(signed)
      expect(redelivered.status).toBe(200)
      expect(await redelivered.json()).toMatchObject({ status: "duplicate" })
      expect(await runsOf(n)).toHaveLength(1)
    })

    it("answers ping, refuses oversized bodies, and is disabled without a secret", async () => {
      expect(
        (await post(signedDelivery("ping", { zen: "Keep it logically awesome." }, { secret: SECRET })))
          .status,
      ).toBe(200)
      const big = signedDelivery("issues", { padding: "x".repeat(1024 * 1024 + 10) }, { secret: SECRET })
      expect((await post(big)).status).toBe(413)
      const disabled = await post(signedDelivery("ping", {}, { secret: SECRET }), null)
      expect(disabled.status).toBe(503)
      expect(((await disabled.json()) as { error: { message: string } }).error.message).toMatch(
        /GITHUB_WEBHOOK_SECRET/,
      )
      const garbled = signedDelivery("issues", {}, { secret: SECRET })
      const bad = await (await appWith(SECRET)).request("/api/webhooks/github", {
        method: "POST",
        headers: { ...garbled.headers, "x-hub-signature-256": signPayload(SECRET, "{nope") },
        body: "{nope",
      })
      expect(bad.status).toBe(400)
    })

    it("signature check is exact and timing-safe on equal lengths", () => {
      const raw = new TextEncoder().encode('{"a":1}')
      const good = signPayload(SECRET, raw)
      expect(verifySignature(SECRET, raw, good)).toBe(true)
      expect(verifySignature(SECRET, raw, good.toUpperCase().replace("SHA256", "sha256"))).toBe(true)
      expect(verifySignature(SECRET, raw, `${good.slice(0, -1)}${good.endsWith("0") ? "1" : "0"}`)).toBe(
        false,
      )
      expect(verifySignature(SECRET, raw, good.slice(0, -2))).toBe(false)
      expect(verifySignature(SECRET, raw, undefined)).toBe(false)
      expect(verifySignature(SECRET, new TextEncoder().encode('{"a":2}'), good)).toBe(false)
    })
  })
})
