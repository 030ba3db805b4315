/**
 * A run as a check run (GitHub App) or commit status (token) on prwright's branch head, through real runs:
 * the embedded queue, git over HTTP into the GitHub double, the sandbox and the scripted model. The
 * reporter follows the run's events; no workflow knows about it.
 */
import { generateKeyPairSync } from "node:crypto"
import { beforeEach, describe, expect, it } from "vitest"
import type { Container } from "#main/container.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import type { ScriptStep } from "../doubles/scripted-model-server.js"
import { flowPerTest } from "../support/github-flow.js"
import { finished, waitForRun } from "../support/runs.js"
import { FIXED_LINE_OLD, fixSteps, planSteps, SAMPLE_FILES, SAMPLE_ISSUE } from "../support/sample-repo.js"

const KEY = "sk-checks-test-key-0123456789"
const TOKEN = "ghp_checksTestToken_0123456789"
const APP_ID = "4711"
const REPO = "acme/mathlib"
const { privateKey, publicKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
})
const editor = (args: Record<string, unknown>) => ({
  toolCalls: [{ name: "str_replace_based_edit_tool", arguments: args }],
})
const bash = (command: string) => ({ toolCalls: [{ name: "bash", arguments: { command } }] })

describe.each([{ auth: "app" as const }, { auth: "token" as const }])(
  "a run on GitHub's commit checks ($auth)",
  ({ auth }) => {
    const flows = flowPerTest({
      prefix: "prwright-checks-",
      double: async () => {
        const double = await startGitHubDouble({
          tokens: { [TOKEN]: { login: "prwright-bot", repos: "*" } },
          apps: { [APP_ID]: { publicKey, slug: "prwright", installations: { "9": { repos: [REPO] } } } },
        })
        await double.createRepo(REPO, { files: SAMPLE_FILES })
        return double
      },
    })
    let github: GitHubDouble
    let container: Container | undefined
    let issue: number

    beforeEach(() => {
      github = flows.github
      issue = github.createIssue(REPO, SAMPLE_ISSUE)
    })

    const start = async (script: ScriptStep[], env: Record<string, string> = {}) => {
      const flow = await flows.start({
        script,
        workers: ["auto-resolve", "resolve"],
        token: TOKEN,
        apiKey: KEY,
        env: {
          ...(auth === "app"
            ? { GITHUB_TOKEN: undefined, GITHUB_APP_ID: APP_ID, GITHUB_APP_PRIVATE_KEY: privateKey }
            : {}),
          PRWRIGHT_PUBLIC_URL: "https://prwright.example.test",
          PRWRIGHT_QUEUE_BACKOFF_MS: "20",
          ...env,
        },
      })
      container = flow.container
      return flow.container
    }
    const runToEnd = async (
      type: "auto-resolve-issue" | "resolve-issue",
      fields: Record<string, unknown> = {},
    ) => {
      const { jobId } = await container!.requester.enqueue(
        type,
        { repoFullName: REPO, issueNumber: issue, ...fields },
        { source: "api" },
      )
      const run = await waitForRun(container!.store, jobId, finished, 90_000)
      await container!.checkRuns?.flush()
      return run
    }

    it("a fixed issue: success on the pushed commit with the summary, the test table and the cost; a fix run moves it", async () => {
      await start([
        ...planSteps(),
        ...fixSteps(),
        // the `/prwright fix` run on the same branch
        editor({
          command: "str_replace",
          path: "README.md",
          old_str: "Tiny math helpers.",
          new_str: "Tiny, tested math helpers.",
        }),
        { toolCalls: [{ name: "submit", arguments: { title: "README", summary: "Reworded the README." } }] },
        // the review turn: confirmed
        { toolCalls: [{ name: "submit", arguments: { title: "README", summary: "Reworded the README." } }] },
      ])
      const run = await runToEnd("auto-resolve-issue", { options: { createPR: true } })
      expect(run.status).toBe("completed")
      const sha = run.artifacts.commitHash!
      if (auth === "app") {
        const [check, ...others] = github.checkRuns(REPO)
        expect(others).toEqual([])
        expect(check).toMatchObject({
          name: "prwright",
          headSha: sha,
          status: "completed",
          conclusion: "success",
        })
        expect(check?.externalId).toBe(run.id)
        expect(check?.detailsUrl).toBe(`https://prwright.example.test/api/jobs/${run.id}`)
        // a fresh run has no commit of its own until it publishes: its check appears then, concluded
        expect(check?.history).toEqual(["completed:success"])
        expect(check?.output.summary).toMatch(/Cost so far: \$0\.\d{4} \(\d+ input, \d+ output tokens\)/)
        expect(check?.output.summary).toContain(run.artifacts.pullRequestUrl!)
        expect(check?.output.text).toMatch(/\| `npm test` \| ❌ .*\| ✅ .*\|/)
        expect(github.statuses(REPO)).toEqual([])
      } else {
        const statuses = github.statuses(REPO).filter((s) => s.sha === sha)
        expect(statuses.at(-1)).toMatchObject({
          state: "success",
          context: "prwright",
          description: "Done",
          targetUrl: `https://prwright.example.test/api/jobs/${run.id}`,
        })
        expect(statuses.map((s) => s.state)).toEqual(["success"])
        expect(github.checkRuns(REPO)).toEqual([])
      }

      // a follow-up on prwright's branch shows from the moment it is queued, on the branch head it continues
      const fix = await runToEnd("resolve-issue", { instructions: "reword the README" })
      expect(fix.status).toBe("completed")
      const newSha = fix.artifacts.commitHash!
      expect(newSha).not.toBe(sha)
      if (auth === "app") {
        const onOld = github.checkRuns(REPO).filter((c) => c.externalId === fix.id && c.headSha === sha)
        expect(onOld).toHaveLength(1)
        expect(onOld[0]?.history[0]).toBe("queued")
        expect(onOld[0]?.history).toContain("in_progress")
        expect(onOld[0]).toMatchObject({
          conclusion: "neutral",
          output: { title: `Continued on ${newSha.slice(0, 7)}` },
        })
        const onNew = github.checkRuns(REPO).filter((c) => c.externalId === fix.id && c.headSha === newSha)
        expect(onNew).toHaveLength(1)
        expect(onNew[0]).toMatchObject({ status: "completed", conclusion: "success" })
      } else {
        // queued and in progress on the head it continues; "error: continued on …" there once it pushed
        const onOld = github.statuses(REPO).filter((s) => s.sha === sha && s.targetUrl?.endsWith(fix.id))
        expect(onOld[0]).toMatchObject({ state: "pending", description: "Queued" })
        expect(onOld.some((s) => s.description?.startsWith("In progress"))).toBe(true)
        expect(onOld.at(-1)).toMatchObject({
          state: "error",
          description: `Continued on ${newSha.slice(0, 7)}`,
        })
        expect(
          github
            .statuses(REPO)
            .filter((s) => s.sha === newSha)
            .at(-1)?.state,
        ).toBe("success")
      }
    }, 120_000)

    it("a run stopped by its budget is never a success: neutral (App) or failure (status), and says why", async () => {
      // a half-done change that still fails the tests (a passing one would be offered as a draft PR)
      await start(
        [
          editor({
            command: "str_replace",
            path: "src/math.js",
            old_str: FIXED_LINE_OLD,
            new_str: "  return Math.max(low, value) // TODO: high",
          }),
          bash("npm test"),
          bash("echo still looking"),
        ],
        { PRWRIGHT_MAX_STEPS: "3" },
      )
      const run = await runToEnd("resolve-issue")
      expect(run.status).toBe("failed")
      const sha = run.artifacts.commitHash!
      if (auth === "app") {
        const check = github.checkRuns(REPO).find((c) => c.headSha === sha)
        expect(check).toMatchObject({ status: "completed", conclusion: "neutral" })
        expect(check?.output.title).toBe("Stopped at its budget")
        expect(check?.output.summary).toMatch(/Budget: .*step/)
      } else {
        expect(
          github
            .statuses(REPO)
            .filter((s) => s.sha === sha)
            .at(-1),
        ).toMatchObject({
          state: "failure",
          description: "Stopped at its budget",
        })
      }
    }, 120_000)
  },
)
