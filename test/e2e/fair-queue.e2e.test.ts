/**
 * Issue 12's fair queue, end to end on the real composition (SQLite/Redis queue, run store, webhook
 * intake through the signed HTTP route, the GitHub double): a repository limited to one active run
 * (PRWRIGHT_MAX_RUNS_PER_REPO=1) gets three `prwright:plan` labels on three issues. The second and
 * third runs wait at places 1 and 2 — in GET /api/jobs/:id and in their issue comments — and the runs
 * start in arrival order; each comment follows its run's place (the third moves up to place 1 when
 * the second starts, one edit per change) and is edited when its run starts. A `/prwright cancel` takes a
 * waiting run out of line, and a review fix arriving while the issue's run is active waits behind it
 * instead of being refused. Runs on the embedded queue and on BullMQ.
 *
 * The planner is held by the test (each run's planning step waits for its issue's gate), so "active"
 * lasts exactly as long as the test wants; everything around it is the product.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createApiAuth } from "#application/api-auth.js"
import { ZERO_USAGE } from "#domain/workflow-run.js"
import { createHttpApp } from "#entrypoints/http/app.js"
import { loadConfig } from "#main/config.js"
import { type Container, createContainer } from "#main/container.js"
import { gate, waitFor } from "../contract/job-queue.contract.js"
import { commentPayload, labeledPayload, signedDelivery } from "../doubles/github/webhook-payloads.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import {
  SCRIPTED_MODEL_PRICES,
  type ScriptedModelServer,
  startScriptedModelServer,
} from "../doubles/scripted-model-server.js"
import { createCapturingLogger } from "../support/logger.js"
import { service, uniqueName } from "../support/services.js"

const redis = await service("redis")
const TOKEN = "ghp_fairQueueToken_0123456789ab"
const SECRET = "whsec_fair_queue_secret_0123456789"
const API_TOKEN = "prw_fair_queue_api_token_0123"
const LLM_KEY = "sk-fair-queue-0123456789abcdef"
const REPO = "acme/queue"

const modes = [
  { name: "embedded queue", redis: false },
  { name: "BullMQ on Redis", redis: true },
] as const

interface JobStatus {
  jobId: string
  status: string
  queue?: { place: number; waitingFor: string; limit?: number; estimatedStart: string; estimate: string }
}

describe.each(modes)("fair queue with a visible place ($name)", (mode) => {
  const skip = mode.redis && !redis.available
  let github: GitHubDouble
  let model: ScriptedModelServer
  let dir: string
  let container: Container
  let app: ReturnType<typeof createHttpApp>
  let prefix: string
  const gates = new Map<number, ReturnType<typeof gate>>()
  const started: number[] = []
  const gateOf = (issue: number) => {
    let found = gates.get(issue)
    if (!found) {
      found = gate()
      gates.set(issue, found)
    }
    return found
  }

  const deliver = async (event: string, payload: unknown) => {
    const delivery = signedDelivery(event, payload, { secret: SECRET })
    const response = await app.request("/api/webhooks/github", {
      method: "POST",
      headers: delivery.headers,
      body: delivery.body,
    })
    return (await response.json()) as { status: string; jobId?: string }
  }
  const status = async (jobId: string) => {
    const response = await app.request(`/api/jobs/${jobId}`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    })
    expect(response.status).toBe(200)
    return (await response.json()) as JobStatus
  }
  const statusOf = (jobId: string, wanted: string) =>
    waitFor(
      async () => {
        const s = await status(jobId)
        return s.status === wanted ? s : undefined
      },
      `run ${jobId} to be ${wanted}`,
      30_000,
    )
  const label = async (issue: number) => {
    const accepted = await deliver(
      "issues",
      labeledPayload({ repo: REPO, issue, label: "prwright:plan", sender: { login: "alice" } }),
    )
    expect(accepted.status).toBe("started")
    return accepted.jobId!
  }
  const queuedComment = (issue: number) =>
    github.comments(REPO, issue).find((comment) => comment.body.includes("<!-- prwright:queued "))
  const editsOf = (commentId: number) =>
    github.requests.filter(
      (request) => request.method === "PATCH" && request.path.endsWith(`/issues/comments/${commentId}`),
    ).length

  beforeAll(async () => {
    if (skip) return
    github = await startGitHubDouble({ tokens: { [TOKEN]: { login: "prwright-bot", repos: "*" } } })
    await github.createRepo(REPO, { files: { "README.md": "# queue\n" } })
    github.grant(REPO, "alice", "write")
    model = await startScriptedModelServer({ apiKey: LLM_KEY, script: [] })
    dir = await mkdtemp(path.join(tmpdir(), "prwright-fair-queue-"))
    prefix = uniqueName("fairq")
    container = await createContainer(
      loadConfig({
        PRWRIGHT_DATA_DIR: dir,
        GITHUB_API_URL: github.apiUrl,
        GITHUB_TOKEN: TOKEN,
        GITHUB_WEBHOOK_SECRET: SECRET,
        PRWRIGHT_API_TOKEN: API_TOKEN,
        LLM_PROVIDER: "openai-compatible",
        LLM_MODEL: "scripted",
        PRWRIGHT_MODEL_PRICES: SCRIPTED_MODEL_PRICES,
        LLM_BASE_URL: model.baseUrl,
        LLM_API_KEY: LLM_KEY,
        PRWRIGHT_MAX_RUNS_PER_REPO: "1",
        ...(mode.redis ? { REDIS_URL: redis.url, PRWRIGHT_QUEUE_PREFIX: prefix } : {}),
      }),
      {
        logger: createCapturingLogger(),
        // a comment is written at most once a second here (10 s in production), so moves show quickly
        queuedCommentEditMs: 1_000,
        planner: async (options) => {
          started.push(options.issue.number)
          await gateOf(options.issue.number).opened
          return {
            plan: `1. Plan for #${options.issue.number}`,
            usage: ZERO_USAGE,
            steps: 1,
            costKnown: true,
          }
        },
      },
    )
    const auth = await createApiAuth({
      store: container.store,
      configuredToken: API_TOKEN,
      announce: () => {},
      newId: () => "id",
    })
    app = createHttpApp({
      requester: container.requester,
      cancelRun: container.cancelRun,
      runPlaces: container.runPlaces,
      webhooks: container.webhooks,
      store: container.store,
      bus: container.bus,
      auth,
      logger: container.logger,
      workflows: container.jobTypes,
      version: "test",
    })
    // three planning workers: only the repository limit holds the runs back
    container.startWorkers(["comment", "resolve"], 3)
  }, 60_000)

  afterAll(async () => {
    for (const g of gates.values()) g.open()
    await container?.close()
    await model?.close()
    await github?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
    if (mode.redis && prefix) {
      const admin = new Redis(redis.url)
      const keys = await admin.keys(`${prefix}:*`)
      if (keys.length > 0) await admin.del(...keys)
      await admin.quit()
    }
  })

  it.skipIf(skip)(
    "three triggers on a repository limited to one run: places 1 and 2, in the API and the issue comments, run in order",
    async () => {
      const [one, two, three] = [1, 2, 3].map((n) =>
        github.createIssue(REPO, { title: `Task ${n}`, body: `do task ${n}` }),
      ) as [number, number, number]
      const first = await label(one)
      await statusOf(first, "running")
      const second = await label(two)
      const third = await label(three)

      const waitingTwo = await status(second)
      const waitingThree = await status(third)
      expect(waitingTwo).toMatchObject({
        status: "pending",
        queue: { place: 1, waitingFor: "repository-limit", limit: 1, estimatedStart: "unknown" },
      })
      expect(waitingThree).toMatchObject({
        status: "pending",
        queue: { place: 2, waitingFor: "repository-limit", limit: 1, estimatedStart: "unknown" },
      })
      // the running run has no place; and its issue got no "queued" comment (it started at once)
      expect((await status(first)).queue).toBeUndefined()
      // the comments are posted beside the delivery's answer, not before it
      await container.queuedComments.flush()
      expect(queuedComment(one)).toBeUndefined()
      expect(queuedComment(two)?.body).toMatch(
        /place 1 in line, waiting for a free slot of the repository's run limit \(1 active run at most\); estimated start: unknown/,
      )
      expect(queuedComment(three)?.body).toMatch(/place 2 in line/)

      gateOf(one).open()
      await statusOf(first, "completed")
      await statusOf(second, "running")
      // one run finished: the estimate now has a basis (a missing history is remembered for 1 s at most)
      const nowThree = await waitFor(
        async () => {
          const s = await status(third)
          return s.queue?.estimatedStart !== "unknown" ? s : undefined
        },
        "an estimate from the finished run",
        5_000,
      )
      expect(nowThree.queue).toMatchObject({ place: 1, waitingFor: "repository-limit" })
      expect(nowThree.queue?.estimatedStart).toMatch(/^\d{4}-\d\d-\d\dT/)
      expect(nowThree.queue?.estimate).toMatch(/from the average of 1 recent run of acme\/queue/)
      // (the start is recorded in the journal just after the store shows it running)
      await waitFor(
        async () => {
          await container.queuedComments.flush()
          return /started at \d\d:\d\d UTC after waiting/.test(queuedComment(two)?.body ?? "")
            ? true
            : undefined
        },
        "the second's comment to say it started",
        10_000,
      )
      // the third's comment follows the line: the second's start moved it up
      await waitFor(
        async () => {
          await container.queuedComments.flush()
          return /place 1 in line/.test(queuedComment(three)?.body ?? "") ? true : undefined
        },
        "the third's comment to show place 1",
        10_000,
      )
      expect(queuedComment(three)?.body).toMatch(
        /place 1 in line, waiting for a free slot of the repository's run limit \(1 active run at most\); estimated start: /,
      )

      gateOf(two).open()
      await statusOf(second, "completed")
      gateOf(three).open()
      await statusOf(third, "completed")
      expect(started.slice(0, 3)).toEqual([one, two, three])
      await container.queuedComments.flush()
      expect(queuedComment(three)?.body).toMatch(/started at/)
      // one edit per change, none when its place stayed (the first's end, the estimate's new basis):
      // place 2 → 1, then "started"; the second's only edit is its start
      expect(editsOf(queuedComment(three)!.id)).toBe(2)
      expect(editsOf(queuedComment(two)!.id)).toBe(1)
    },
    90_000,
  )

  it.skipIf(skip)(
    "a review fix arriving while the issue's run is active waits behind it (not refused), once per delivery",
    async () => {
      const n = github.createIssue(REPO, { title: "Task 7", body: "do task 7" })
      const planRun = await label(n)
      await statusOf(planRun, "running")
      const repo = github.state.repos.get(REPO)!
      const pull = repo.nextNumber++
      const at = new Date().toISOString()
      repo.pulls.set(pull, {
        ...{ id: github.state.nextId(), number: pull, title: "Task 7", body: `Closes #${n}`, state: "open" },
        ...{ draft: false, head: `prwright/issue-${n}-task-7`, base: "main", user: "prwright-bot" },
        ...{ createdAt: at, updatedAt: at, closedAt: null },
      })
      const payload = commentPayload({
        repo: REPO,
        issue: pull,
        body: "/prwright fix rename the helper",
        sender: { login: "alice" },
        pullRequest: true,
      })
      const delivery = signedDelivery("issue_comment", payload, { secret: SECRET })
      const post = () =>
        app.request("/api/webhooks/github", {
          method: "POST",
          headers: delivery.headers,
          body: delivery.body,
        })
      const accepted = (await (await post()).json()) as { status: string; jobId: string }
      expect(accepted.status).toBe("started")
      expect(accepted.jobId).not.toBe(planRun)
      expect((await status(accepted.jobId)).queue).toMatchObject({ place: 1, waitingFor: "issue-active" })
      await container.queuedComments.flush()
      expect(queuedComment(n)?.body).toMatch(/waiting for this issue's active run to finish/)
      // a redelivery starts nothing more
      expect(await (await post()).json()).toMatchObject({ status: "duplicate" })
      expect((await container.store.listRuns({ repoFullName: REPO, issueNumber: n })).runs).toHaveLength(2)
      // a second plan for the same issue is still answered by the active one
      const again = await deliver(
        "issues",
        labeledPayload({ repo: REPO, issue: n, label: "prwright:plan", sender: { login: "alice" } }),
      )
      expect(again).toMatchObject({ status: "already-active" })

      gateOf(n).open()
      await statusOf(planRun, "completed")
      // the follow-up leaves the line once the plan run ended; it is stopped here (no coder scripted)
      await waitFor(
        async () => ((await status(accepted.jobId)).status !== "pending" ? true : undefined),
        "the follow-up to start after the active run",
        30_000,
      )
      await app.request(`/api/jobs/${accepted.jobId}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${API_TOKEN}` },
      })
    },
    60_000,
  )

  it.skipIf(skip)(
    "`/prwright cancel` takes a waiting run out of line; the next one moves up",
    async () => {
      const [busy, doomed, next] = [4, 5, 6].map((n) =>
        github.createIssue(REPO, { title: `Task ${n}`, body: `do task ${n}` }),
      ) as [number, number, number]
      const running = await label(busy)
      await statusOf(running, "running")
      const waiting = await label(doomed)
      const after = await label(next)
      expect((await status(after)).queue?.place).toBe(2)

      const cancel = await deliver(
        "issue_comment",
        commentPayload({ repo: REPO, issue: doomed, body: "/prwright cancel", sender: { login: "alice" } }),
      )
      expect(cancel).toMatchObject({ status: "cancelled", jobId: waiting })
      await statusOf(waiting, "cancelled")
      expect((await status(after)).queue).toMatchObject({ place: 1, waitingFor: "repository-limit" })
      await container.queuedComments.flush()
      expect(queuedComment(doomed)?.body).toMatch(/cancelled while it waited in line/)
      await waitFor(
        async () => {
          await container.queuedComments.flush()
          return /place 1 in line/.test(queuedComment(next)?.body ?? "") ? true : undefined
        },
        "the next run's comment to move up to place 1",
        10_000,
      )

      gateOf(busy).open()
      gateOf(next).open()
      await statusOf(after, "completed")
      expect(started).not.toContain(doomed)
    },
    60_000,
  )
})
