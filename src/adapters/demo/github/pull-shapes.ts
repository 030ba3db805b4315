/**
 * Pull request JSON in the shape api.github.com returns (`pull-request` for get/create/update,
 * `pull-request-simple` items for list; checked against @octokit/openapi in the double's tests).
 */
import { fullRepository, nodeId, type StoredPull, type StoredRepo, simpleUser, type Urls } from "./shapes.js"

export interface PullShas {
  head: string
  base: string
}

const side = (urls: Urls, repo: StoredRepo, branch: string, sha: string) => ({
  label: `${repo.owner}:${branch}`,
  ref: branch,
  sha,
  user: simpleUser(urls, repo.owner),
  repo: fullRepository(urls, repo),
})

/** The fields `pull-request-simple` (list items) has. */
export const pullSimpleJson = (urls: Urls, repo: StoredRepo, pull: StoredPull, shas: PullShas) => {
  const repoApi = `${urls.api}/repos/${repo.fullName}`
  const url = `${repoApi}/pulls/${pull.number}`
  const issueUrl = `${repoApi}/issues/${pull.number}`
  const htmlUrl = `${urls.web}/${repo.fullName}/pull/${pull.number}`
  return {
    url,
    id: pull.id,
    node_id: nodeId("PullRequest", pull.id),
    html_url: htmlUrl,
    diff_url: `${htmlUrl}.diff`,
    patch_url: `${htmlUrl}.patch`,
    issue_url: issueUrl,
    commits_url: `${url}/commits`,
    review_comments_url: `${url}/comments`,
    review_comment_url: `${repoApi}/pulls/comments{/number}`,
    comments_url: `${issueUrl}/comments`,
    statuses_url: `${repoApi}/statuses/${shas.head}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: simpleUser(urls, pull.user),
    body: pull.body,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    merged_at: null,
    merge_commit_sha: null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: side(urls, repo, pull.head, shas.head),
    base: side(urls, repo, pull.base, shas.base),
    _links: {
      self: { href: url },
      html: { href: htmlUrl },
      issue: { href: issueUrl },
      comments: { href: `${issueUrl}/comments` },
      review_comments: { href: `${url}/comments` },
      review_comment: { href: `${repoApi}/pulls/comments{/number}` },
      commits: { href: `${url}/commits` },
      statuses: { href: `${repoApi}/statuses/${shas.head}` },
    },
    author_association: pull.user === repo.owner ? "OWNER" : "CONTRIBUTOR",
    auto_merge: null,
    draft: pull.draft,
  }
}

/** The full `pull-request` object (get, create, update). */
export const pullJson = (
  urls: Urls,
  repo: StoredRepo,
  pull: StoredPull,
  shas: PullShas,
  stats: { commits: number; additions: number; deletions: number; changedFiles: number },
) => ({
  ...pullSimpleJson(urls, repo, pull, shas),
  merged: false,
  mergeable: pull.state === "open" ? true : null,
  rebaseable: pull.state === "open" ? true : null,
  mergeable_state: pull.state === "open" ? (pull.draft ? "draft" : "clean") : "unknown",
  merged_by: null,
  comments: 0,
  review_comments: 0,
  maintainer_can_modify: false,
  commits: stats.commits,
  additions: stats.additions,
  deletions: stats.deletions,
  changed_files: stats.changedFiles,
})
