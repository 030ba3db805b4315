/**
 * Ports: what the use cases need from the outside world, named by role. Adapters in src/adapters
 * implement them; only src/main knows which adapter is used. The model port is the AI SDK's own
 * `LanguageModel` (see ModelHandle): we do not wrap the LLM twice.
 */
import type { LanguageModel } from "ai"
import type { RepoRef } from "#domain/repo-ref.js"
import type { RunEvent, RunEventData } from "#domain/run-event.js"
import type {
  Artifacts,
  JobType,
  Priority,
  RunStatus,
  Trigger,
  Usage,
  WorkflowRun,
} from "#domain/workflow-run.js"
import type { JobData, JobResult } from "./job-data.js"

// ───────────────────────────── job queue ─────────────────────────────

export interface EnqueueRequest {
  type: JobType
  /** = the run id; idempotency key */
  jobId: string
  /** validated job DTO; never holds a secret */
  data: JobData
  priority: Priority
  /** total tries including the first (seed default 3) */
  attempts: number
  /**
   * Jobs sharing a key never run at the same time (any type): a later one waits, neither dropped nor
   * failed, until the running one ends. prwright uses `owner/repo#issue`.
   */
  concurrencyKey?: string
}

export interface EnqueueResult {
  jobId: string
  /** false when a job with this id and the same data already existed */
  created: boolean
}

/** Transport state of a job as the queue sees it; the run record in RunStore is the user-facing truth. */
export type QueueJobState = "waiting" | "delayed" | "active" | "completed" | "failed" | "cancelled"

export interface QueueJobInfo {
  jobId: string
  type: JobType
  state: QueueJobState
  /** 1-based number of the attempt that is running or ran last; 0 before the first start */
  attempt: number
  maxAttempts: number
  progress: number
  result?: JobResult
  error?: string
  createdAt: Date
  updatedAt: Date
}

export interface JobContext {
  jobId: string
  type: JobType
  /** the stored job data; handlers re-validate it (a job may predate an upgrade) */
  data: unknown
  /** 1-based */
  attempt: number
  maxAttempts: number
  /** fires on cancel, timeout or shutdown; everything the job starts must honour it */
  signal: AbortSignal
  progress(percent: number, message?: string): Promise<void>
}

/** Throw a non-retryable PrwrightError to fail at once; any other error is retried while attempts remain. */
export type JobHandler = (job: JobContext) => Promise<JobResult>

export interface JobWorker {
  /** stop taking jobs, wait for running ones up to graceMs, then abort them */
  close(options?: { graceMs?: number }): Promise<void>
}

export interface JobTimeouts {
  /** an attempt running longer than this is aborted and fails, not retried (default: none) */
  wallMs?: number
  /** an attempt reporting no progress for this long is aborted and retried (default: none) */
  idleMs?: number
}

export interface ProcessOptions {
  concurrency: number
  /** enforced through the job's AbortSignal; the attempt fails with "timed out after …" */
  timeouts?: JobTimeouts
}

export interface JobQueue {
  /** Same id and same data → the existing job (created: false); same id, other data → ConflictError. */
  enqueue(request: EnqueueRequest): Promise<EnqueueResult>
  getJob(jobId: string): Promise<QueueJobInfo | undefined>
  /** Cancel a waiting or running job from any process. Returns false if unknown or already finished. */
  cancel(jobId: string): Promise<boolean>
  process(type: JobType, handler: JobHandler, options: ProcessOptions): JobWorker
  close(): Promise<void>
}

// ───────────────────────────── run store ─────────────────────────────

export interface NewRun {
  id: string
  type: JobType
  repoFullName: string
  issueNumber: number
  priority: Priority
  input: Record<string, unknown>
  trigger: Trigger
  maxAttempts: number
}

export interface RunPatch {
  status?: RunStatus
  attempts?: number
  progress?: number
  progressMessage?: string | null
  artifacts?: Artifacts
  usage?: Usage
  summary?: string | null
  error?: string | null
  startedAt?: Date
  finishedAt?: Date | null
}

export interface RunFilter {
  status?: RunStatus
  repoFullName?: string
  type?: JobType
  issueNumber?: number
  /** 1..200, default 50 */
  limit?: number
  /** opaque, from a previous page's nextCursor */
  cursor?: string
}

export interface RunPage {
  runs: WorkflowRun[]
  nextCursor?: string
}

export interface RunStore {
  /** Inserts a pending run. A run with this id already existing → ConflictError. */
  createRun(run: NewRun): Promise<WorkflowRun>
  getRun(id: string): Promise<WorkflowRun | undefined>
  /** Merges `artifacts` into the stored ones; other fields replace. NotFoundError if absent. */
  updateRun(id: string, patch: RunPatch): Promise<WorkflowRun>
  /** newest first */
  listRuns(filter: RunFilter): Promise<RunPage>
  /** Appends in order, assigning seq = last + 1 … ; returns the stored events. */
  appendEvents(runId: string, events: RunEventData[]): Promise<RunEvent[]>
  listEvents(runId: string, options?: { afterSeq?: number; limit?: number }): Promise<RunEvent[]>
  close(): Promise<void>
}

export interface ApiTokenStore {
  countApiTokens(): Promise<number>
  addApiToken(token: { id: string; label: string; hash: string }): Promise<void>
  findApiTokenByHash(hash: string): Promise<{ id: string; label: string } | undefined>
}

// ───────────────────────────── live events ─────────────────────────────

export interface EventBus {
  publish(event: RunEvent): Promise<void>
  /** live events of one run; returns the unsubscribe function */
  subscribe(runId: string, listener: (event: RunEvent) => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

// ───────────────────────────── GitHub ─────────────────────────────

export interface GitHubRepository {
  fullName: string
  /** https clone URL as the API returns it; the token is added by the git adapter, in a header */
  cloneUrl: string
  defaultBranch: string
  private: boolean
  htmlUrl: string
}

export interface GitHubIssue {
  number: number
  title: string
  body: string
  state: "open" | "closed"
  htmlUrl: string
  author: string
  labels: string[]
  isPullRequest: boolean
}

export interface GitHubComment {
  id: number
  htmlUrl: string
  body: string
}

export interface GitHub {
  /** GitHubError 404 when the repository does not exist or the token cannot see it */
  getRepository(repo: RepoRef): Promise<GitHubRepository>
  getIssue(repo: RepoRef, issueNumber: number): Promise<GitHubIssue>
  createIssueComment(repo: RepoRef, issueNumber: number, body: string): Promise<GitHubComment>
  updateIssueComment(repo: RepoRef, commentId: number, body: string): Promise<GitHubComment>
  /** the issue's comment whose body contains `marker` (how a retried run finds the comment it already posted) */
  findIssueComment(repo: RepoRef, issueNumber: number, marker: string): Promise<GitHubComment | undefined>
  /** the open pull request whose head is `branch` in this repository, if any */
  findPullRequest(repo: RepoRef, branch: string): Promise<GitHubPullRequest | undefined>
  createPullRequest(repo: RepoRef, pr: NewPullRequest): Promise<GitHubPullRequest>
  updatePullRequest(
    repo: RepoRef,
    number: number,
    patch: { title?: string; body?: string },
  ): Promise<GitHubPullRequest>
  /** GitHubError 404 when there is no such pull request */
  getPullRequest(repo: RepoRef, number: number): Promise<GitHubPullRequest>
  /** what `username` may do in the repository; "none" for a user GitHub does not know */
  getPermission(repo: RepoRef, username: string): Promise<RepoPermission>
  /** reacts to an issue comment (idempotent on GitHub: the same reaction twice is one) */
  addReaction(repo: RepoRef, commentId: number, content: ReactionContent): Promise<void>
}

/** A user's role on a repository, strongest first. */
export type RepoPermission = "admin" | "maintain" | "write" | "triage" | "read" | "none"

export type ReactionContent = "+1" | "-1" | "laugh" | "confused" | "heart" | "hooray" | "rocket" | "eyes"

export interface NewPullRequest {
  title: string
  body: string
  /** branch name in the same repository */
  head: string
  base: string
  draft: boolean
}

export interface GitHubPullRequest {
  number: number
  htmlUrl: string
  state: "open" | "closed"
  draft: boolean
  head: string
  base: string
  title: string
  body: string
}

// ───────────────────────────── workspace ─────────────────────────────

export interface SearchQuery {
  pattern: string
  /** relative to the checkout root */
  path?: string
  glob?: string
  caseSensitive?: boolean
  maxResults: number
}

export interface SearchResult {
  matches: Array<{ path: string; line: number; text: string }>
  /** all matches found, including those beyond maxResults */
  total: number
}

export interface DirEntry {
  /** relative to the checkout root, '/'-separated; directories end with '/' */
  path: string
  kind: "file" | "dir"
}

/**
 * A run's working copy. Every path is relative to the checkout and confined to it: `..`, absolute
 * paths and symlinks that lead outside are refused with a ValidationError.
 */
export interface Checkout {
  /** absolute path on the worker's disk (never shown to the model) */
  readonly root: string
  readonly headSha: string
  readonly ref: string
  /** the commit of `ref` at checkout; differs from headSha when the branch carried earlier work */
  readonly baseSha: string
  stat(path: string): Promise<{ kind: "file" | "dir"; size: number } | undefined>
  readFile(path: string): Promise<string>
  /** entries below `path`, up to `depth` levels, skipping .git and ignored files */
  listDir(path: string, depth: number): Promise<DirEntry[]>
  search(query: SearchQuery): Promise<SearchResult>
  /** creates or replaces a file (parents created); same confinement as reads */
  writeFile(path: string, content: string): Promise<void>
  /** files that differ from HEAD in the working tree (tracked changes and untracked, not ignored) */
  status(): Promise<FileChange[]>
  /** unified diff of the working tree against HEAD for `paths` (all changes when omitted), new files included */
  diff(paths?: string[]): Promise<string>
  /**
   * Stages exactly `paths` (additions, edits and deletions) and commits them on the current branch.
   * Returns the new commit sha, or undefined when those paths hold no change.
   */
  commit(options: {
    message: string
    paths: string[]
    author: { name: string; email: string }
  }): Promise<string | undefined>
  /** pushes the current branch to `branch` on the remote (token in a header, as for fetches) */
  push(options: { branch: string; force?: boolean; signal?: AbortSignal }): Promise<void>
  /** files that differ between baseSha and the current HEAD (what the branch's commits change) */
  committedChanges(): Promise<FileChange[]>
  /**
   * Removes the working copy. With keepForInspection (a failed run), the files stay on disk with
   * the branch released, until the workspace's retention time removes them.
   */
  dispose(options?: { keepForInspection?: boolean }): Promise<void>
}

export interface FileChange {
  path: string
  kind: "added" | "modified" | "deleted"
}

export interface Workspace {
  /** Updates the repository's mirror and makes a fresh working copy of `ref` for this run. */
  checkout(options: {
    repo: RepoRef
    cloneUrl: string
    ref: string
    runId: string
    /**
     * Work on this local branch: it starts from the remote branch of that name when one exists
     * (an earlier attempt's work in progress), else from `ref`. Without it the checkout is detached.
     */
    branch?: string
    signal?: AbortSignal
  }): Promise<Checkout>
}

// ───────────────────────────── model ─────────────────────────────

export interface ModelHandle {
  model: LanguageModel
  provider: string
  modelId: string
  /** USD per million tokens; undefined when the model is not in the price table */
  pricing?: { inputPerMillion: number; outputPerMillion: number }
}

// ───────────────────────────── small things ─────────────────────────────

export interface Clock {
  now(): Date
}

export type NewId = () => string

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
}

// ───────────────────────────── sandbox ─────────────────────────────

export interface SandboxCommand {
  /** run with `bash -c` inside the sandbox */
  command: string
  /** absolute path of the run's checkout: the only writable place, and the working directory */
  root: string
  /** network is allowed only for the setup phase */
  network: boolean
  timeoutMs: number
  /** extra environment; the sandbox starts from an empty one (no token, no key ever) */
  env?: Record<string, string>
  /** stdout+stderr kept, head and tail; the rest counted */
  maxOutputBytes?: number
  signal?: AbortSignal
}

export interface SandboxResult {
  exitCode: number | null
  /** the signal that ended the process group, if any */
  signal?: string
  /** interleaved stdout and stderr, head+tail truncated */
  output: string
  outputBytes: number
  truncated: boolean
  timedOut: boolean
  aborted: boolean
  durationMs: number
}

export interface Sandbox {
  readonly kind: "bwrap" | "process"
  run(command: SandboxCommand): Promise<SandboxResult>
}

// ───────────────────────────── records beside runs (plans, deliveries, secrets, settings) ─────────────────────────────

export type PlanStatus = "draft" | "approved" | "superseded"

/** One version of the plan for an issue; the newest non-superseded one is what `/prwright approve` implements. */
export interface StoredPlan {
  id: string
  repoFullName: string
  issueNumber: number
  /** 1, 2, 3 … per (repository, issue) */
  version: number
  status: PlanStatus
  body: string
  /** the run that wrote it */
  runId?: string
  /** the issue comment the plan lives in */
  commentId?: number
  commentUrl?: string
  createdAt: Date
  updatedAt: Date
}

export interface NewPlan {
  id: string
  repoFullName: string
  issueNumber: number
  body: string
  /** default draft */
  status?: "draft" | "approved"
  runId?: string
  commentId?: number
  commentUrl?: string
}

export interface PlanStore {
  /** Stores the next version for the issue; every earlier draft or approved version becomes superseded. */
  savePlan(plan: NewPlan): Promise<StoredPlan>
  /** Approves a draft (idempotent for an approved one). NotFoundError if absent, ConflictError if superseded. */
  approvePlan(id: string): Promise<StoredPlan>
  /** Records where the plan is shown (it is edited in place) or a revised body. NotFoundError if absent. */
  updatePlan(
    id: string,
    patch: { body?: string; commentId?: number; commentUrl?: string },
  ): Promise<StoredPlan>
  getPlan(id: string): Promise<StoredPlan | undefined>
  /** the highest version for the issue, optionally only among plans with this status */
  latestPlan(
    repoFullName: string,
    issueNumber: number,
    options?: { status?: PlanStatus },
  ): Promise<StoredPlan | undefined>
}

export interface DeliveryStore {
  /** Remembers a webhook delivery; false when this delivery id was seen before (a redelivery). */
  recordDelivery(delivery: { id: string; event: string; runId?: string }): Promise<boolean>
  /** links a recorded delivery to the run it started */
  linkDeliveryRun(deliveryId: string, runId: string): Promise<void>
  /** forgets a delivery whose handling failed, so GitHub's redelivery of it is acted on */
  forgetDelivery(deliveryId: string): Promise<void>
}

/** Named secrets, encrypted at rest with PRWRIGHT_SECRET_KEY; values never appear in the database as written. */
export interface SecretStore {
  putSecret(name: string, value: string): Promise<void>
  /** ConfigError when the stored value cannot be decrypted with the current key */
  getSecret(name: string): Promise<string | undefined>
  /** false when there was no such secret */
  deleteSecret(name: string): Promise<boolean>
}

export interface RepoSettings {
  repoFullName: string
  settings: Record<string, unknown>
  updatedAt: Date
}

export interface RepoSettingsStore {
  getRepoSettings(repoFullName: string): Promise<RepoSettings | undefined>
  /** replaces the settings of the repository */
  putRepoSettings(repoFullName: string, settings: Record<string, unknown>): Promise<RepoSettings>
}
