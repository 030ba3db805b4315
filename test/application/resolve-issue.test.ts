/**
 * resolveIssue / autoResolveIssue through the real run lifecycle, embedded queue, git over HTTP,
 * the bwrap (or process) sandbox and the scripted model: cancel, budget stop, repair round, and
 * idempotent publishing across a retried attempt.
 */
import { execFileSync } from "node:child_process"
import { readFile, stat, writeFile } from "node:fs/promises"
import path from "node:path"
import { beforeEach, describe, expect, it } from "vitest"
import { createGitCliWorkspace } from "#adapters/git/git-cli-workspace.js"
import { createOctokitGitHub, gitAuthHeader } from "#adapters/github/octokit-github.js"
import { createCancelRun } from "#application/cancel-run.js"
import type { GitHub } from "#application/ports/github.js"
import { createRunJournal } from "#application/run-journal.js"
import { RetryableError } from "#domain/errors.js"
import type { WorkflowRun } from "#domain/workflow-run.js"
import type { Container } from "#main/container.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import type { ScriptedModelServer, ScriptStep } from "../doubles/scripted-model-server.js"
import { flowPerTest } from "../support/github-flow.js"
import { createCapturingLogger } from "../support/logger.js"
import { finished, waitForRun } from "../support/runs.js"
import {
  FIXED_LINE_NEW,
  FIXED_LINE_OLD,
  fixSteps,
  planSteps,
  SAMPLE_FILES,
  SAMPLE_ISSUE,
} from "../support/sample-repo.js"

const TOKEN = "ghp_resolveTestToken_0123456789"
const KEY = "sk-resolve-test-key-0123456789"
const editor = (args: Record<string, unknown>) => ({
  toolCalls: [{ name: "str_replace_based_edit_tool", arguments: args }],
})
const bash = (command: string) => ({ toolCalls: [{ name: "bash", arguments: { command } }] })
const submit = (title = "Fix clamp") => ({
  toolCalls: [{ name: "submit", arguments: { title, summary: "Fixed." } }],
})

// the fix the issue asks for, and a slip that makes a passing test fail
const fixClamp = editor({
  command: "str_replace",
  path: "src/math.js",
  old_str: FIXED_LINE_OLD,
  new_str: FIXED_LINE_NEW,
})
const breakAdd = editor({
  command: "str_replace",
  path: "src/math.js",
  old_str: "  return a + b",
  new_str: "  return a - b",
})

describe("resolve workflows", () => {
  const flows = flowPerTest({
    prefix: "prwright-resolve-",
    double: async () => {
      const double = await startGitHubDouble({ tokens: { [TOKEN]: { login: "bot", repos: "*" } } })
      await double.createRepo("acme/mathlib", { files: SAMPLE_FILES })
      return double
    },
  })
  let github: GitHubDouble
  let model: ScriptedModelServer | undefined
  let container: Container | undefined
  let issue: number
  const branch = () => `prwright/issue-${issue}-clamp-ignores-the-upper-bound`

  const start = async (
    script: ScriptStep[],
    env: Record<string, string> = {},
    githubOverride?: (g: GitHub) => GitHub,
  ) => {
    const flow = await flows.start({
      script,
      workers: ["auto-resolve", "resolve"],
      token: TOKEN,
      apiKey: KEY,
      env: { PRWRIGHT_QUEUE_BACKOFF_MS: "20", ...env },
      overrides: () =>
        githubOverride
          ? { github: githubOverride(createOctokitGitHub({ token: TOKEN, baseUrl: github.apiUrl })) }
          : {},
    })
    ;({ model, container } = flow)
    return flow.container
  }

  const waitFor = (jobId: string, done: (run: WorkflowRun) => boolean, timeoutMs = 60_000) =>
    waitForRun(container!.store, jobId, done, timeoutMs)
  const request = async (
    type: "auto-resolve-issue" | "resolve-issue",
    options: Record<string, unknown> = {},
  ) =>
    (
      await container!.requester.enqueue(
        type,
        { repoFullName: "acme/mathlib", issueNumber: issue, options },
        { source: "api" },
      )
    ).jobId

  beforeEach(() => {
    github = flows.github
    issue = github.createIssue("acme/mathlib", SAMPLE_ISSUE)
  })

  it("cancelling during a long bash command: process gone within 2 s, status cancelled, no PR", async () => {
    await start([...planSteps(), bash("sleep 31.4159"), ...fixSteps()])
    const jobId = await request("auto-resolve-issue")
    const deadline = Date.now() + 30_000
    const sleeping = () => {
      try {
        return execFileSync("pgrep", ["-f", "sleep 31.4159"]).toString().trim().length > 0
      } catch {
        return false
      }
    }
    while (!sleeping()) {
      if (Date.now() > deadline) throw new Error("the long command never started")
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const cancelledAt = Date.now()
    await container!.cancelRun(jobId)
    while (sleeping() && Date.now() - cancelledAt < 5000)
      await new Promise((resolve) => setTimeout(resolve, 25))
    expect(sleeping()).toBe(false)
    expect(Date.now() - cancelledAt).toBeLessThan(2000)
    const run = await waitFor(jobId, finished, 20_000)
    expect(run.status).toBe("cancelled")
    // recorded at once; the work in progress and the comment follow the recorded end
    expect(Date.now() - cancelledAt).toBeLessThan(2000)
    const afterEnd = Date.now() + 10_000
    while (github.comments("acme/mathlib", issue).length === 0 && Date.now() < afterEnd)
      await new Promise((resolve) => setTimeout(resolve, 50))
    expect(github.pullRequests("acme/mathlib")).toHaveLength(0)
    const comments = github.comments("acme/mathlib", issue)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.body).toContain("cancelled")
    // nobody asked to inspect a cancelled run: its checkout is gone
    while (
      (await stat(path.join(flows.dataDir, "runs", jobId)).catch(() => undefined)) &&
      Date.now() < afterEnd
    )
      await new Promise((resolve) => setTimeout(resolve, 50))
    await expect(stat(path.join(flows.dataDir, "runs", jobId))).rejects.toThrow()
  })

  it("a cancel its worker never heard of: the run stays cancelled, and the worker publishes nothing", async () => {
    await start([...planSteps(), bash("sleep 3.14159"), ...fixSteps()])
    const jobId = await request("auto-resolve-issue")
    await waitFor(jobId, (run) => run.status === "running")
    const deadline = Date.now() + 30_000
    const sleeping = () => {
      try {
        return execFileSync("pgrep", ["-f", "sleep 3.14159"]).toString().trim().length > 0
      } catch {
        return false
      }
    }
    while (!sleeping()) {
      if (Date.now() > deadline) throw new Error("the long command never started")
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    // the API ends the run itself (no worker acknowledged the cancel); the worker is not told
    const lostCancel = createCancelRun({
      store: container!.store,
      journal: createRunJournal({
        store: container!.store,
        bus: container!.bus,
        logger: createCapturingLogger(),
      }),
      clock: { now: () => new Date() },
      queue: { cancel: async () => true, confirmCancel: async () => false } as never,
    })
    expect((await lostCancel(jobId)).status).toBe("cancelled")
    // the worker goes on with the fix, then reaches a checkpoint and stops there
    const stoppedBy = Date.now() + 60_000
    for (;;) {
      const job = await container!.queue!.getJob(jobId)
      if (job && ["completed", "failed", "cancelled"].includes(job.state)) break
      if (Date.now() > stoppedBy) throw new Error("the worker never stopped")
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const run = await container!.store.getRun(jobId)
    expect(run?.status).toBe("cancelled")
    expect(run?.artifacts.pullRequestUrl).toBeUndefined()
    expect(github.pullRequests("acme/mathlib")).toHaveLength(0)
    const events = await container!.store.listEvents(jobId, { limit: 1000 })
    const endings = events.filter(
      (e) => e.type === "status" && ["completed", "failed", "cancelled"].includes(e.status),
    )
    expect(endings).toHaveLength(1)
    // the plan comment was written before the cancel; nothing after it (no stop report either)
    expect(
      github.comments("acme/mathlib", issue).filter((c) => !c.body.includes("prwright:plan")),
    ).toHaveLength(0)
  })

  it("budget exhaustion: the work in progress is pushed and one failure comment explains the stop", async () => {
    // a half-done change that still fails the tests (a passing one would become a draft PR)
    const halfDone = "  return Math.max(low, value) // TODO: high"
    await start(
      [
        editor({
          command: "str_replace",
          path: "src/math.js",
          old_str: FIXED_LINE_OLD,
          new_str: halfDone,
        }),
        bash("npm test"),
        bash("echo still looking"),
      ],
      { PRWRIGHT_MAX_STEPS: "3" },
    )
    const jobId = await request("resolve-issue")
    const run = await waitFor(jobId, finished)
    expect(run.status).toBe("failed")
    expect(run.attempts).toBe(1)
    expect(run.error).toMatch(/step limit/)
    expect(github.pullRequests("acme/mathlib")).toHaveLength(0)
    const files = await github.branchFiles("acme/mathlib", branch())
    expect(files["src/math.js"]).toContain(halfDone)
    expect(run.artifacts.commitHash).toMatch(/^[0-9a-f]{40}$/)
    const comments = github.comments("acme/mathlib", issue)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.body).toMatch(/stopped before opening a pull request/)
    expect(comments[0]?.body).toMatch(/step limit/)
    expect(comments[0]?.body).toContain(branch())
    expect(comments[0]?.body).toMatch(/\*\*Cost:\*\* [\d,]+ input/)
    expect(run.artifacts.failureCommentId).toBe(comments[0]?.id)

    // The failed run's checkout stays for inspection, its branch released, until its time is up.
    const kept = path.join(flows.dataDir, "runs", jobId)
    expect(await readFile(path.join(kept, "src/math.js"), "utf8")).toContain(halfDone)
    await writeFile(`${kept}.kept-until`, "2000-01-01T00:00:00.000Z\n")
    const workspace = createGitCliWorkspace({
      dataDir: flows.dataDir,
      authHeader: async () => gitAuthHeader(TOKEN),
    })
    const repo = { owner: "acme", name: "mathlib", fullName: "acme/mathlib" }
    const next = await workspace.checkout({
      repo,
      cloneUrl: `${github.webUrl}/acme/mathlib.git`,
      ref: "main",
      runId: "later",
    })
    await next.dispose()
    await expect(stat(kept)).rejects.toThrow()
  })

  it("a failing verification goes back to the model for a repair round", async () => {
    await start([
      fixClamp,
      breakAdd,
      submit(),
      submit(),
      // round 2: the model is told which test newly fails
      editor({
        command: "str_replace",
        path: "src/math.js",
        old_str: "  return a - b",
        new_str: "  return a + b",
      }),
      submit(),
      submit(),
    ])
    const jobId = await request("resolve-issue")
    const run = await waitFor(jobId, finished)
    expect(run.status, run.error).toBe("completed")
    const feedback = model!.requests
      .map((r) => JSON.stringify(r.body))
      .find((body) => body.includes("tests now fail that passed before"))
    expect(feedback).toContain("add adds")
    const pulls = github.pullRequests("acme/mathlib")
    expect(pulls).toHaveLength(1)
    expect(pulls[0]?.draft).toBe(false)
    expect(pulls[0]?.body).toContain("1 repair round(s)")
    const files = await github.branchFiles("acme/mathlib", branch())
    expect(files["src/math.js"]).toContain("return a + b")
    expect(files["src/math.js"]).toContain(FIXED_LINE_NEW)
  })

  it("tests still failing when the repair rounds are spent: a draft PR that says so", async () => {
    await start([fixClamp, breakAdd, submit(), submit()])
    const jobId = await request("resolve-issue", { maxAttempts: 1 })
    const run = await waitFor(jobId, finished)
    expect(run.status, run.error).toBe("completed")
    expect(run.artifacts.pullRequestDraft).toBe(true)
    const pulls = github.pullRequests("acme/mathlib")
    expect(pulls).toHaveLength(1)
    expect(pulls[0]?.draft).toBe(true)
    expect(pulls[0]?.body).toContain(
      "The tests still fail after this change, so this pull request is a draft",
    )
    expect(pulls[0]?.body).toContain("Newly failing: `add adds`")
    expect(pulls[0]?.body).toContain("Fixed by this change: `clamp caps values at the high bound`")
  })

  it("/prwright fix instructions continue on the PR's branch and update the same PR", async () => {
    await start([
      ...fixSteps(),
      editor({
        command: "str_replace",
        path: "README.md",
        old_str: "Tiny math helpers.",
        new_str: "Tiny math helpers: add, clamp.",
      }),
      submit("Mention clamp in the README"),
      submit("Mention clamp in the README"),
    ])
    const first = await request("resolve-issue")
    expect((await waitFor(first, finished)).status).toBe("completed")
    const second = (
      await container!.requester.enqueue(
        "resolve-issue",
        {
          repoFullName: "acme/mathlib",
          issueNumber: issue,
          instructions: "Also mention clamp() in the README.",
        },
        { source: "webhook", actor: "alice" },
      )
    ).jobId
    const run = await waitFor(second, finished)
    expect(run.status, run.error).toBe("completed")
    const asked = model!.requests
      .map((r) => JSON.stringify(r.body))
      .find((b) => b.includes("A maintainer asked for these changes"))
    expect(asked).toContain("Also mention clamp() in the README.")
    const pulls = github.pullRequests("acme/mathlib")
    expect(pulls).toHaveLength(1)
    expect(pulls[0]?.title).toBe("Mention clamp in the README")
    const files = await github.branchFiles("acme/mathlib", branch())
    expect(files["src/math.js"]).toContain(FIXED_LINE_NEW)
    expect(files["README.md"]).toContain("add, clamp")
    // the PR lists everything the branch changes, both runs' work
    expect(pulls[0]?.body).toContain("`src/math.js`")
    expect(pulls[0]?.body).toContain("`README.md`")
  })

  it("a retried attempt after a failure past PR creation updates the same PR instead of opening a second", async () => {
    let failOnce = true
    await start([...fixSteps(), ...fixSteps()], {}, (real) => ({
      ...real,
      async createPullRequest(repo, pr) {
        const created = await real.createPullRequest(repo, pr)
        if (failOnce) {
          failOnce = false
          throw new RetryableError("connection reset after the PR was created")
        }
        return created
      },
    }))
    const jobId = await request("resolve-issue")
    const run = await waitFor(jobId, finished)
    expect(run.status, run.error).toBe("completed")
    expect(run.attempts).toBe(2)
    const pulls = github.pullRequests("acme/mathlib")
    expect(pulls).toHaveLength(1)
    expect(run.artifacts.pullRequestNumber).toBe(pulls[0]?.number)
    expect(github.comments("acme/mathlib", issue)).toHaveLength(0)
  })
})
