/**
 * JSON bodies in the shape api.github.com returns (checked against @octokit/openapi in the double's tests).
 * `api` is the REST root (…/api/v3), `web` the host that serves html_url and git, as on GitHub Enterprise.
 */

export interface Urls {
  api: string
  web: string
}

export interface StoredRepo {
  id: number
  owner: string
  name: string
  fullName: string
  private: boolean
  defaultBranch: string
  /** absolute path of the bare repository */
  gitDir: string
  createdAt: string
  /** issues and pull requests share this number sequence, as on GitHub */
  nextNumber: number
  issues: Map<number, StoredIssue>
  pulls: Map<number, StoredPull>
}

export interface StoredPull {
  id: number
  number: number
  title: string
  body: string | null
  state: "open" | "closed"
  draft: boolean
  /** branch names in this repository */
  head: string
  base: string
  user: string
  createdAt: string
  updatedAt: string
  closedAt: string | null
}

export interface StoredIssue {
  id: number
  number: number
  title: string
  body: string
  state: "open" | "closed"
  labels: string[]
  user: string
  createdAt: string
  updatedAt: string
}

export interface StoredComment {
  id: number
  repo: string
  issueNumber: number
  body: string
  user: string
  createdAt: string
  updatedAt: string
}

/** GitHub's timestamps: second precision, Z suffix. */
export const timestamp = (date = new Date()): string => `${date.toISOString().slice(0, 19)}Z`

export const nodeId = (kind: string, id: number): string => Buffer.from(`0:${kind}${id}`).toString("base64")

/** Stable fake ids for logins, so the same login always has the same id. */
export const userId = (login: string): number => {
  let hash = 7
  for (const char of login) hash = (hash * 31 + char.charCodeAt(0)) % 1_000_000
  return 1000 + hash
}

export const simpleUser = (urls: Urls, login: string) => {
  const url = `${urls.api}/users/${login}`
  const id = userId(login)
  return {
    login,
    id,
    node_id: nodeId("User", id),
    avatar_url: `${urls.web}/avatars/u/${id}`,
    gravatar_id: "",
    url,
    html_url: `${urls.web}/${login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: login.endsWith("[bot]") ? "Bot" : "User",
    user_view_type: "public",
    site_admin: false,
  }
}

export const privateUser = (urls: Urls, login: string) => ({
  ...simpleUser(urls, login),
  user_view_type: "private",
  name: login,
  company: null,
  blog: "",
  location: null,
  email: null,
  notification_email: null,
  hireable: null,
  bio: null,
  twitter_username: null,
  public_repos: 0,
  public_gists: 0,
  followers: 0,
  following: 0,
  created_at: "2020-01-01T00:00:00Z",
  updated_at: "2020-01-01T00:00:00Z",
  private_gists: 0,
  total_private_repos: 0,
  owned_private_repos: 0,
  disk_usage: 0,
  collaborators: 0,
  two_factor_authentication: false,
})

export const repoUrl = (urls: Urls, repo: StoredRepo): string => `${urls.api}/repos/${repo.fullName}`

export const cloneUrl = (urls: Urls, repo: StoredRepo): string => `${urls.web}/${repo.fullName}.git`

export const fullRepository = (urls: Urls, repo: StoredRepo) => {
  const url = repoUrl(urls, repo)
  const host = new URL(urls.web).host
  const openIssues = [...repo.issues.values()].filter((issue) => issue.state === "open").length
  return {
    id: repo.id,
    node_id: nodeId("Repository", repo.id),
    name: repo.name,
    full_name: repo.fullName,
    owner: simpleUser(urls, repo.owner),
    private: repo.private,
    visibility: repo.private ? "private" : "public",
    html_url: `${urls.web}/${repo.fullName}`,
    description: null,
    fork: false,
    url,
    archive_url: `${url}/{archive_format}{/ref}`,
    assignees_url: `${url}/assignees{/user}`,
    blobs_url: `${url}/git/blobs{/sha}`,
    branches_url: `${url}/branches{/branch}`,
    collaborators_url: `${url}/collaborators{/collaborator}`,
    comments_url: `${url}/comments{/number}`,
    commits_url: `${url}/commits{/sha}`,
    compare_url: `${url}/compare/{base}...{head}`,
    contents_url: `${url}/contents/{+path}`,
    contributors_url: `${url}/contributors`,
    deployments_url: `${url}/deployments`,
    downloads_url: `${url}/downloads`,
    events_url: `${url}/events`,
    forks_url: `${url}/forks`,
    git_commits_url: `${url}/git/commits{/sha}`,
    git_refs_url: `${url}/git/refs{/sha}`,
    git_tags_url: `${url}/git/tags{/sha}`,
    git_url: `git://${host}/${repo.fullName}.git`,
    hooks_url: `${url}/hooks`,
    issue_comment_url: `${url}/issues/comments{/number}`,
    issue_events_url: `${url}/issues/events{/number}`,
    issues_url: `${url}/issues{/number}`,
    keys_url: `${url}/keys{/key_id}`,
    labels_url: `${url}/labels{/name}`,
    languages_url: `${url}/languages`,
    merges_url: `${url}/merges`,
    milestones_url: `${url}/milestones{/number}`,
    notifications_url: `${url}/notifications{?since,all,participating}`,
    pulls_url: `${url}/pulls{/number}`,
    releases_url: `${url}/releases{/id}`,
    ssh_url: `git@${new URL(urls.web).hostname}:${repo.fullName}.git`,
    stargazers_url: `${url}/stargazers`,
    statuses_url: `${url}/statuses/{sha}`,
    subscribers_url: `${url}/subscribers`,
    subscription_url: `${url}/subscription`,
    tags_url: `${url}/tags`,
    teams_url: `${url}/teams`,
    trees_url: `${url}/git/trees{/sha}`,
    clone_url: cloneUrl(urls, repo),
    mirror_url: null,
    svn_url: `${urls.web}/${repo.fullName}`,
    homepage: null,
    language: null,
    forks_count: 0,
    forks: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    subscribers_count: 1,
    network_count: 0,
    size: 1,
    default_branch: repo.defaultBranch,
    open_issues_count: openIssues,
    open_issues: openIssues,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_downloads: false,
    has_discussions: false,
    archived: false,
    disabled: false,
    pushed_at: repo.createdAt,
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
    allow_forking: true,
    web_commit_signoff_required: false,
    license: null,
  }
}

export const labelJson = (urls: Urls, repo: StoredRepo, name: string, index: number) => ({
  id: repo.id * 1000 + index,
  node_id: nodeId("Label", repo.id * 1000 + index),
  url: `${repoUrl(urls, repo)}/labels/${encodeURIComponent(name)}`,
  name,
  description: null,
  color: "ededed",
  default: false,
})

export const issueJson = (urls: Urls, repo: StoredRepo, issue: StoredIssue, comments: number) => {
  const url = `${repoUrl(urls, repo)}/issues/${issue.number}`
  return {
    id: issue.id,
    node_id: nodeId("Issue", issue.id),
    url,
    repository_url: repoUrl(urls, repo),
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: `${urls.web}/${repo.fullName}/issues/${issue.number}`,
    number: issue.number,
    state: issue.state,
    state_reason: null,
    title: issue.title,
    body: issue.body,
    user: simpleUser(urls, issue.user),
    labels: issue.labels.map((name, index) => labelJson(urls, repo, name, index)),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments,
    closed_at: null,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    closed_by: null,
    author_association: issue.user === repo.owner ? "OWNER" : "NONE",
    timeline_url: `${url}/timeline`,
    reactions: reactions(`${url}/reactions`),
  }
}

export const reactions = (url: string) => ({
  url,
  total_count: 0,
  "+1": 0,
  "-1": 0,
  laugh: 0,
  hooray: 0,
  confused: 0,
  heart: 0,
  rocket: 0,
  eyes: 0,
})

export const commentJson = (urls: Urls, repo: StoredRepo, comment: StoredComment) => {
  const url = `${repoUrl(urls, repo)}/issues/comments/${comment.id}`
  return {
    id: comment.id,
    node_id: nodeId("IssueComment", comment.id),
    url,
    html_url: `${urls.web}/${repo.fullName}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
    body: comment.body,
    user: simpleUser(urls, comment.user),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    issue_url: `${repoUrl(urls, repo)}/issues/${comment.issueNumber}`,
    author_association: comment.user === repo.owner ? "OWNER" : "NONE",
    performed_via_github_app: null,
    reactions: reactions(`${url}/reactions`),
  }
}
