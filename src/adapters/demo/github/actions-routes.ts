/**
 * GitHub Actions in the double: workflow runs with jobs and their logs, and file contents (what
 * `.prwright.yml` on a branch says). Tests add a failed run with `addWorkflowRun`, then send the
 * workflow_run webhook themselves. Logs are answered as text/plain directly (GitHub redirects to them).
 */
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import type { DoubleState } from "./rest-routes.js"
import { visibleRepo } from "./rest-routes.js"
import { HttpError, type Router } from "./router.js"
import { timestamp } from "./shapes.js"

const run = promisify(execFile)

export interface StoredWorkflowRun {
  id: number
  repo: string
  name: string
  headBranch: string
  headSha: string
  checkSuiteId: number
  conclusion: "failure" | "success" | "cancelled" | "timed_out"
  jobs: Array<{ id: number; name: string; conclusion: "failure" | "success"; log: string }>
}

export interface NewWorkflowRun {
  name?: string
  headBranch: string
  headSha: string
  conclusion?: StoredWorkflowRun["conclusion"]
  jobs: Array<{ name: string; conclusion: "failure" | "success"; log: string }>
}

export const registerActionsRoutes = (router: Router, state: DoubleState) => {
  const runs: StoredWorkflowRun[] = []
  const logReads: number[] = []

  const runJson = (r: StoredWorkflowRun) => ({
    id: r.id,
    name: r.name,
    head_branch: r.headBranch,
    head_sha: r.headSha,
    status: "completed",
    conclusion: r.conclusion,
    check_suite_id: r.checkSuiteId,
    run_attempt: 1,
    html_url: `${state.urls.web}/${r.repo}/actions/runs/${r.id}`,
    created_at: timestamp(),
    updated_at: timestamp(),
  })

  router.add("GET", "/repos/:owner/:repo/actions/runs", ({ identity, params, query }) => {
    const repo = visibleRepo(state, identity, params)
    const suite = query.get("check_suite_id")
    const sha = query.get("head_sha")
    const list = runs.filter(
      (r) =>
        r.repo === repo.fullName &&
        (suite === null || String(r.checkSuiteId) === suite) &&
        (sha === null || r.headSha === sha),
    )
    return { status: 200, body: { total_count: list.length, workflow_runs: list.map(runJson) } }
  })

  router.add("GET", "/repos/:owner/:repo/actions/runs/:id/jobs", ({ identity, params }) => {
    const repo = visibleRepo(state, identity, params)
    const found = runs.find((r) => r.repo === repo.fullName && r.id === Number(params.id))
    if (!found) throw new HttpError(404, "Not Found")
    return {
      status: 200,
      body: {
        total_count: found.jobs.length,
        jobs: found.jobs.map((j) => ({
          id: j.id,
          run_id: found.id,
          name: j.name,
          status: "completed",
          conclusion: j.conclusion,
          head_sha: found.headSha,
          html_url: `${state.urls.web}/${repo.fullName}/actions/runs/${found.id}/job/${j.id}`,
          steps: [],
        })),
      },
    }
  })

  router.add("GET", "/repos/:owner/:repo/actions/jobs/:id/logs", ({ identity, params }) => {
    const repo = visibleRepo(state, identity, params)
    const job = runs
      .filter((r) => r.repo === repo.fullName)
      .flatMap((r) => r.jobs)
      .find((j) => j.id === Number(params.id))
    if (!job) throw new HttpError(404, "Not Found")
    logReads.push(job.id)
    return { status: 200, body: job.log, headers: { "content-type": "text/plain; charset=utf-8" }, raw: true }
  })

  router.add("GET", "/repos/:owner/:repo/contents/:path", async ({ identity, params, query }) => {
    const repo = visibleRepo(state, identity, params)
    const ref = query.get("ref") ?? repo.defaultBranch
    const file = String(params.path)
    try {
      const { stdout } = await run("git", ["show", `${ref}:${file}`], {
        cwd: repo.gitDir,
        encoding: "buffer",
      })
      const content = stdout as unknown as Buffer
      return {
        status: 200,
        body: {
          type: "file",
          name: file.split("/").at(-1),
          path: file,
          encoding: "base64",
          size: content.length,
          content: content.toString("base64"),
          sha: "0".repeat(40),
        },
      }
    } catch {
      throw new HttpError(404, "Not Found", {
        documentation_url: "https://docs.github.com/rest/repos/contents#get-repository-content",
      })
    }
  })

  const addWorkflowRun = (fullName: string, input: NewWorkflowRun): StoredWorkflowRun => {
    const stored: StoredWorkflowRun = {
      id: state.nextId(),
      repo: fullName,
      name: input.name ?? "CI",
      headBranch: input.headBranch,
      headSha: input.headSha,
      checkSuiteId: state.nextId(),
      conclusion: input.conclusion ?? "failure",
      jobs: input.jobs.map((j) => ({ ...j, id: state.nextId() })),
    }
    runs.push(stored)
    return stored
  }
  return { runs, logReads, addWorkflowRun }
}
