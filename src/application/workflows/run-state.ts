/**
 * The one state an implementing run (resolveIssue, autoResolveIssue) carries from phase to phase,
 * and the types its phases share. Phases fill it in order: prepare → plan → set up and baseline →
 * implement-and-verify rounds → publish or report the stop.
 */
import type { CodingAgentOptions, CodingResult } from "../agent/coding-agent.js"
import type { GitHub, GitHubIssue, GitHubRepository } from "../ports/github.js"
import type { Logger } from "../ports/logging.js"
import type { ModelHandle } from "../ports/model.js"
import type { PlanStore } from "../ports/plan-store.js"
import type { MakeRunDirs, RunDirs } from "../ports/run-dirs.js"
import type { RunStore } from "../ports/run-store.js"
import type { Sandbox } from "../ports/sandbox.js"
import type { Checkout, Workspace } from "../ports/workspace.js"
import type { RepoConfig } from "../repo-config.js"
import type { RunContext } from "../run-job.js"
import type { TestComparison, TestRun } from "../test-results.js"
import type { TreeSnapshot } from "./change-set.js"
import type { Planner } from "./issue-preamble.js"

export type { CodingResult }
export type Submitted = Extract<CodingResult, { outcome: "submitted" }>
export type Stopped = Extract<CodingResult, { outcome: "stopped" }>

/** The implementing agent, injected (runCodingAgent in production, a wrapper in tests). */
export type Coder = (options: CodingAgentOptions) => Promise<CodingResult>

/** The operator's limits (PRWRIGHT_*); a repository's `.prwright.yml` may only lower them. */
export interface RunLimits {
  maxSteps: number
  maxCostUsd?: number | undefined
  maxInputTokens?: number | undefined
  maxOutputTokens?: number | undefined
  wallClockMs?: number | undefined
  idleMs?: number | undefined
  setupTimeoutMs: number
  testTimeoutMs: number
  planSteps: number
}

export interface ResolveIssueDeps {
  github: GitHub
  workspace: Workspace
  sandbox: () => Promise<Sandbox>
  model: ModelHandle | undefined
  planner: Planner
  coder: Coder
  runs: RunStore
  /** stored plan versions; a planId names one exactly */
  plans?: PlanStore
  logger: Logger
  author: { name: string; email: string }
  limits: RunLimits
  /** per-run persistent HOME and /tmp for every sandboxed command; unset: a fresh one per command */
  runDirs?: MakeRunDirs
  runUrl?: ((runId: string) => string) | undefined
  now?: () => number
}

export interface ImplementOptions {
  plan?: string | undefined
  createPR: boolean
  /** agent rounds: the first implementation plus repairs after a failing verification */
  rounds: number
  /** auto-resolve plans first, in the same run */
  planFirst: boolean
  postPlan: boolean
  /** changes a maintainer asked for on the open pull request (`/prwright fix …`): the first round's turn */
  instructions?: string | undefined
}

export type ResolveContext = RunContext<"resolve-issue" | "auto-resolve-issue">

/** The proof of a fix: tests that fail on the old code and pass on the change. */
export interface ProofRow {
  name: string
  before: "failed" | "absent"
  after: "passed"
}

export type Proof =
  | { kind: "shown"; before: TestRun; rows: ProofRow[] }
  | { kind: "not-shown"; reason: string; before?: TestRun }

export interface Verification {
  after: TestRun
  comparison: TestComparison
  /** existing tests or test configuration the change edits or deletes: verified as they were */
  editedTests: string[]
  passed: boolean
  proof?: Proof
}

/** What setup left for the rest of the run to know (and the PR to say). */
export interface SetupReport {
  /** the setup command failed: what the agent and the PR are told */
  failure?: string
  /** hosts the setup network refused */
  refusedHosts: string[]
}

export interface RunState {
  context: ResolveContext
  model: ModelHandle
  /** the run's sandbox, with its persistent HOME, /tmp and tool environment */
  sandbox: Sandbox
  repo: { owner: string; name: string; fullName: string }
  repository: GitHubRepository
  issue: GitHubIssue
  issueNumber: number
  branch: string
  startedAt: number
  checkout?: Checkout | undefined
  config?: RepoConfig
  dirs?: RunDirs
  plan?: string
  setup: SetupReport
  baseline?: TestRun
  /** the tree after setup and the baseline: the change set is what differs from it */
  snapshot?: TreeSnapshot
  /** paths the verification runs changed: their output, never part of the change */
  verifyOutput: Set<string>
  verification?: Verification
  steps: number
  rounds: number
  tried: string[]
  lastErrors: string[]
  /** set once the stop was reported, so it is reported once */
  reported?: boolean
}
