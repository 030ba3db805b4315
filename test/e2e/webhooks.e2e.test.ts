/**
 * GitHub webhooks end to end: `prwright serve` as a child process with the GitHub double and the scripted
 * model. A signed `issues.labeled` (from @octokit/webhooks-examples) with `prwright:plan` ends as the plan
 * comment on the double; a bad signature is refused, a redelivery starts nothing, and a read-only user
 * gets one polite reply however often they try.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { labeledPayload, signedDelivery } from "../doubles/github/webhook-payloads.js"
import { findSecrets } from "../support/secret-scan.js"
import { type ServedFlow, startServedFlow } from "../support/served-flow.js"

const GITHUB_TOKEN = "ghp_webhookE2eToken0123456789abcd"
const LLM_KEY = "sk-webhook-e2e-key-0123456789abcd"
const API_TOKEN = "prw_webhook_e2e_api_token_0123"
const SECRET = "whsec_e2e_webhook_secret_0123456789"
const REPO = "acme/widgets"
const PLAN = "1. Add `clamp()` to src/math.js\n2. Cover it in test/math.test.js"

describe("GitHub webhooks end to end", () => {
  let flow: ServedFlow

  const api = async (route: string) => (await flow.api(route)).json() as Promise<Record<string, unknown>>
  const deliver = (delivery: ReturnType<typeof signedDelivery>) =>
    fetch(`${flow.baseUrl}/api/webhooks/github`, {
      method: "POST",
      headers: delivery.headers,
      body: delivery.body,
    })
  const runsOf = async (issueNumber: number) =>
    ((await api(`/api/jobs?repo=${REPO}`)).jobs as Array<{ jobId: string; issueNumber: number }>).filter(
      (job) => job.issueNumber === issueNumber,
    )

  beforeAll(async () => {
    flow = await startServedFlow({
      prefix: "prwright-webhook-e2e-",
      repo: REPO,
      files: {
        "package.json": '{"name":"widgets","type":"module"}\n',
        "src/math.js": "export function add(a, b) {\n  return a + b\n}\n",
      },
      writers: ["alice"],
      script: [
        {
          toolCalls: [
            { name: "str_replace_based_edit_tool", arguments: { command: "view", path: "src/math.js" } },
          ],
        },
        { toolCalls: [{ name: "submit_plan", arguments: { plan: PLAN } }] },
      ],
      githubToken: GITHUB_TOKEN,
      llmKey: LLM_KEY,
      apiToken: API_TOKEN,
      env: { GITHUB_WEBHOOK_SECRET: SECRET, LLM_MODEL: "scripted-model", LOG_LEVEL: "debug" },
    })
  }, 120_000)

  afterAll(async () => {
    await flow?.close()
  })

  it("a signed prwright:plan label from a writer ends as the plan comment; a redelivery starts nothing", async () => {
    const { github } = flow
    const issue = github.createIssue(REPO, { title: "Add clamp()", body: "We need clamp(x, lo, hi)." })
    const payload = labeledPayload({ repo: REPO, issue, label: "prwright:plan", sender: { login: "alice" } })

    const forged = signedDelivery("issues", payload, { secret: "not-our-secret" })
    expect((await deliver(forged)).status).toBe(401)

    const delivery = signedDelivery("issues", payload, { secret: SECRET })
    const response = await deliver(delivery)
    expect(response.status).toBe(202)
    const accepted = (await response.json()) as { jobId: string; status: string }
    expect(accepted.status).toBe("started")

    const status = await flow.waitForJob(accepted.jobId, { timeoutMs: 60_000, everyMs: 100 })
    expect(status.status, JSON.stringify(status)).toBe("completed")
    expect(status.type).toBe("comment-on-issue")
    const comments = github.comments(REPO, issue)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.body).toContain(PLAN)

    const again = await deliver(delivery)
    expect(again.status).toBe(200)
    expect(await again.json()).toMatchObject({ status: "duplicate" })
    expect(await runsOf(issue)).toHaveLength(1)
    expect(github.comments(REPO, issue)).toHaveLength(1)
  })

  it("a read-only user gets one polite reply, even when they trigger twice", async () => {
    const { github } = flow
    const issue = github.createIssue(REPO, { title: "Please", body: "do it" })
    for (let i = 0; i < 2; i++) {
      const payload = labeledPayload({
        repo: REPO,
        issue,
        label: "prwright:resolve",
        sender: { login: "mallory" },
      })
      const response = await deliver(signedDelivery("issues", payload, { secret: SECRET }))
      expect(response.status).toBe(200)
      expect(await response.json()).toMatchObject({ status: "not-authorized" })
    }
    const replies = github.comments(REPO, issue)
    expect(replies).toHaveLength(1)
    expect(replies[0]?.body).toMatch(/^@mallory .*write access/s)
    expect(await runsOf(issue)).toEqual([])
  })

  it("no secret in any log line", () => {
    const lines = flow?.server.lines ?? []
    expect(lines.some((line) => line.includes("webhook"))).toBe(true)
    expect(lines.filter((line) => findSecrets(line, [SECRET, GITHUB_TOKEN, LLM_KEY]).length > 0)).toEqual([])
  })
})
