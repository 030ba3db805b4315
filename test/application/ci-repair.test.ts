/**
 * CI repair end to end in process: a failed GitHub Actions run on prwright's pull request (a real
 * workflow_run.completed payload from @octokit/webhooks-examples, retargeted), its job log from the GitHub
 * double, one repair run through the embedded queue, the sandbox and the scripted model, one push. The
 * same failure again gives nothing; a repository that did not opt in gives nothing.
 */
import { execFileSync } from "node:child_process"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { failureFingerprint } from "#application/ci-repair.js"
import { workflowRunPayload } from "../doubles/github/webhook-payloads.js"
import { type GitHubFlow, startGitHubFlow } from "../support/github-flow.js"
import { finished, waitForRun } from "../support/runs.js"
import { fixSteps, planSteps, SAMPLE_FILES } from "../support/sample-repo.js"

const REPO = "acme/mathlib"
const OTHER = "acme/optout"
const failingLog = (at: string) =>
  [
    `${at} ##[group]Run npm test`,
    `${at} > node --test`,
    `${at} not ok 4 - README mentions clamp`,
    `${at}   error: 'README does not mention clamp' (12.3ms)`,
    `${at} # fail 1`,
    `${at} ##[error]Process completed with exit code 1.`,
  ].join("\n")

describe("CI repair (fixCi)", () => {
  let flow: GitHubFlow

  beforeAll(async () => {
    flow = await startGitHubFlow({
      prefix: "prwright-ci-repair-",
      repos: { [REPO]: { ...SAMPLE_FILES, ".prwright.yml": "fixCi: true\n" }, [OTHER]: SAMPLE_FILES },
      workers: ["auto-resolve", "resolve"],
      script: [
        ...planSteps(),
        ...fixSteps(),
        // the repair round
        {
          toolCalls: [
            {
              name: "str_replace_based_edit_tool",
              arguments: {
                command: "str_replace",
                path: "README.md",
                old_str: "Tiny math helpers.",
                new_str: "Tiny math helpers: add and clamp.",
              },
            },
          ],
        },
        {
          toolCalls: [{ name: "submit", arguments: { title: "Fix CI", summary: "README mentions clamp." } }],
        },
        {
          toolCalls: [{ name: "submit", arguments: { title: "Fix CI", summary: "README mentions clamp." } }],
        },
      ],
    })
  })
  afterAll(async () => {
    await flow?.close()
  })

  const failed = (repo: string, branch: string, sha: string, at: string) => {
    const run = flow.github.addWorkflowRun(repo, {
      headBranch: branch,
      headSha: sha,
      jobs: [
        { name: "lint", conclusion: "success", log: "all good" },
        { name: "test", conclusion: "failure", log: failingLog(at) },
      ],
    })
    return flow.webhook(
      "workflow_run",
      workflowRunPayload({ repo, runId: run.id, headBranch: branch, headSha: sha, conclusion: "failure" }),
    )
  }

  it("a failed workflow run on prwright's PR gives one repair push; the same failure again gives none", async () => {
    const { github, container } = flow
    const { issue, run: opened } = await flow.openPullRequest(REPO)
    expect(opened.status).toBe("completed")
    const branch = opened.artifacts.branchName!
    const before = opened.artifacts.commitHash!

    const outcome = await failed(REPO, branch, before, "2026-12-06T08:00:01.1234567Z")
    expect(outcome).toMatchObject({ outcome: "started", type: "resolve-issue", issueNumber: issue })
    const repair = await waitForRun(container.store, (outcome as { jobId: string }).jobId, finished, 60_000)
    expect(repair.status).toBe("completed")
    expect(String(repair.input.instructions)).toContain("not ok 4 - README mentions clamp")
    expect(String(repair.input.instructions)).not.toContain("all good") // only the failing job's log
    expect(github.jobLogReads).toHaveLength(1)
    const after = (await github.refSha(REPO, `refs/heads/${branch}`))!
    const gitDir = github.state.repos.get(REPO)!.gitDir
    expect(
      execFileSync("git", ["rev-list", "--count", `${before}..${after}`], { cwd: gitDir })
        .toString()
        .trim(),
    ).toBe("1")
    expect((await github.branchFiles(REPO, branch))["README.md"]).toContain("add and clamp")

    // the same failure on the new head (other timestamps, other durations): not tried twice
    const again = await failed(REPO, branch, after, "2026-12-06T08:05:09.7654321Z")
    expect(again).toMatchObject({ outcome: "ignored", reason: expect.stringMatching(/already tried/) })
    expect((await container.store.listRuns({ repoFullName: REPO, issueNumber: issue })).runs).toHaveLength(2)
    expect(await github.refSha(REPO, `refs/heads/${branch}`)).toBe(after)
  }, 120_000)

  it("ignores repositories that did not opt in, other branches and successes", async () => {
    const { github, container } = flow
    const sha = (await github.refSha(OTHER, "refs/heads/main"))!
    expect(await failed(OTHER, "prwright/issue-1-x", sha, "2026-12-06T08:00:00Z")).toMatchObject({
      outcome: "ignored",
    })
    expect(await failed(REPO, "main", sha, "2026-12-06T08:00:00Z")).toMatchObject({
      outcome: "ignored",
      reason: expect.stringMatching(/not one of prwright's branches/),
    })
    const success = await container.webhooks.handle({
      name: "workflow_run",
      deliveryId: "ci-success",
      payload: workflowRunPayload({
        repo: REPO,
        runId: 1,
        headBranch: "prwright/x",
        headSha: sha,
        conclusion: "success",
      }),
    })
    expect(success.outcome).toBe("ignored")
  })

  it("fingerprints ignore timestamps and durations but not which tests fail", () => {
    expect(failureFingerprint([failingLog("2026-01-01T00:00:00Z")])).toBe(
      failureFingerprint([failingLog("2027-05-05T11:11:11.5Z").replace("12.3ms", "99ms")]),
    )
    expect(failureFingerprint([failingLog("2026-01-01T00:00:00Z")])).not.toBe(
      failureFingerprint([
        failingLog("2026-01-01T00:00:00Z").replace("not ok 4 - README", "not ok 5 - index"),
      ]),
    )
  })
})
