/** GitHub Actions runs, jobs and logs, and file contents, on @octokit/rest (see ports/ci-runs.ts). */
import type { Octokit } from "@octokit/rest"
import type { CiRuns } from "#application/ports/ci-runs.js"
import type { Call } from "./octokit-call.js"

const missing = (error: unknown) => [404, 410].includes((error as { status?: number }).status ?? 0)

export const createOctokitCiRuns = (octokit: Octokit, call: Call): CiRuns => ({
  async listWorkflowRuns(repo, filter) {
    const { data } = await call(
      {
        kind: "other",
        repo,
        what: `the workflow runs of check suite ${filter.checkSuiteId}`,
        permission: "actions: read",
      },
      () =>
        octokit.rest.actions.listWorkflowRunsForRepo({
          owner: repo.owner,
          repo: repo.name,
          check_suite_id: filter.checkSuiteId,
          per_page: 50,
        }),
    )
    return data.workflow_runs.map((r) => ({
      id: r.id,
      name: r.name ?? "workflow",
      headSha: r.head_sha,
      headBranch: r.head_branch ?? "",
      conclusion: r.conclusion ?? null,
    }))
  },

  async listFailedJobs(repo, workflowRunId) {
    const { data } = await call(
      { kind: "other", repo, what: `the jobs of workflow run ${workflowRunId}`, permission: "actions: read" },
      () =>
        octokit.rest.actions.listJobsForWorkflowRun({
          owner: repo.owner,
          repo: repo.name,
          run_id: workflowRunId,
          filter: "latest",
          per_page: 100,
        }),
    )
    return data.jobs
      .filter((j) => j.conclusion === "failure" || j.conclusion === "timed_out")
      .map((j) => ({ id: j.id, name: j.name }))
  },

  async getJobLog(repo, jobId) {
    try {
      const { data } = await octokit.rest.actions.downloadJobLogsForWorkflowRun({
        owner: repo.owner,
        repo: repo.name,
        job_id: jobId,
      })
      return typeof data === "string" ? data : Buffer.from(data as ArrayBuffer).toString("utf8")
    } catch (error) {
      if (missing(error)) return undefined
      return call({ kind: "other", repo, what: `the log of job ${jobId}`, permission: "actions: read" }, () =>
        Promise.reject(error),
      )
    }
  },

  async getFileText(repo, path, ref) {
    try {
      const { data } = await octokit.rest.repos.getContent({ owner: repo.owner, repo: repo.name, path, ref })
      if (Array.isArray(data) || data.type !== "file" || !("content" in data)) return undefined
      return Buffer.from(data.content, "base64").toString("utf8")
    } catch (error) {
      if (missing(error)) return undefined
      return call({ kind: "other", repo, what: `${path} at ${ref}`, permission: "contents: read" }, () =>
        Promise.reject(error),
      )
    }
  },
})
