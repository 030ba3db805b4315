/** Check runs, commit statuses and branch heads on @octokit/rest (see ports/commit-checks.ts). */
import type { Octokit } from "@octokit/rest"
import type { CheckRunUpdate, CommitChecks } from "#application/ports/commit-checks.js"
import type { Call } from "./octokit-call.js"

const LIMIT = 65_535
const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`)

const body = (update: CheckRunUpdate) => ({
  status: update.status,
  ...(update.conclusion ? { conclusion: update.conclusion, completed_at: new Date().toISOString() } : {}),
  ...(update.detailsUrl ? { details_url: update.detailsUrl } : {}),
  output: {
    title: cut(update.output.title, 255),
    summary: cut(update.output.summary, LIMIT),
    ...(update.output.text ? { text: cut(update.output.text, LIMIT) } : {}),
  },
})

export const createOctokitCommitChecks = (octokit: Octokit, call: Call): CommitChecks => ({
  async getBranchSha(repo, branch) {
    try {
      const { data } = await octokit.rest.repos.getBranch({ owner: repo.owner, repo: repo.name, branch })
      return data.commit.sha
    } catch (error) {
      if ((error as { status?: number }).status === 404) return undefined
      return call({ kind: "other", repo, what: `branch ${branch}`, permission: "contents: read" }, () =>
        Promise.reject(error),
      )
    }
  },

  async createCheckRun(repo, check) {
    const { data } = await call(
      {
        kind: "other",
        repo,
        what: `a check run on ${check.headSha.slice(0, 7)}`,
        permission: "checks: write (GitHub App only)",
      },
      () =>
        octokit.rest.checks.create({
          owner: repo.owner,
          repo: repo.name,
          name: check.name,
          head_sha: check.headSha,
          external_id: check.externalId,
          ...(check.status === "in_progress" ? { started_at: new Date().toISOString() } : {}),
          ...body(check),
        }),
    )
    return { id: data.id }
  },

  async findCheckRun(repo, sha, name, externalId) {
    const { data } = await call(
      { kind: "other", repo, what: `the check runs of ${sha.slice(0, 7)}`, permission: "checks: read" },
      () =>
        octokit.rest.checks.listForRef({
          owner: repo.owner,
          repo: repo.name,
          ref: sha,
          check_name: name,
          filter: "all",
          per_page: 100,
        }),
    )
    return data.check_runs.find((run) => run.external_id === externalId)?.id
  },

  async updateCheckRun(repo, checkRunId, update) {
    await call({ kind: "other", repo, what: `check run ${checkRunId}`, permission: "checks: write" }, () =>
      octokit.rest.checks.update({
        owner: repo.owner,
        repo: repo.name,
        check_run_id: checkRunId,
        ...body(update),
      }),
    )
  },

  async setCommitStatus(repo, sha, status) {
    await call(
      { kind: "other", repo, what: `the status of ${sha.slice(0, 7)}`, permission: "statuses: write" },
      () =>
        octokit.rest.repos.createCommitStatus({
          owner: repo.owner,
          repo: repo.name,
          sha,
          state: status.state,
          context: status.context,
          description: cut(status.description, 140),
          ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
        }),
    )
  },
})
