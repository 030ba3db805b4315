import { randomUUID } from "node:crypto"
import path from "node:path"
import { createMemoryEventBus } from "#adapters/events/memory-event-bus.js"
import { createRedisEventBus } from "#adapters/events/redis-event-bus.js"
import { createGitCliWorkspace } from "#adapters/git/git-cli-workspace.js"
import { createInstallationTokens, repoOfCloneUrl } from "#adapters/github/app-tokens.js"
import { createOctokitGitHub, gitAuthHeader } from "#adapters/github/octokit-github.js"
import { createJsonLogger } from "#adapters/log/json-logger.js"
import { createModelHandle } from "#adapters/model/ai-sdk-model.js"
import { createBullMqJobQueue } from "#adapters/queue/bullmq/bullmq-job-queue.js"
import {
  createEmbeddedJobQueue,
  type EmbeddedJobQueueOptions,
} from "#adapters/queue/embedded/embedded-job-queue.js"
import { detectSandbox } from "#adapters/sandbox/detect-sandbox.js"
import { createRunDirs } from "#adapters/scratch/run-dirs.js"
import { createNeo4jRunStore } from "#adapters/store/neo4j/neo4j-run-store.js"
import { loadSecretKey } from "#adapters/store/secret-key.js"
import { createSqlRunStore } from "#adapters/store/sql/sql-run-store.js"
import { type Answerer, runAnsweringAgent } from "#application/agent/answering-agent.js"
import { runCodingAgent } from "#application/agent/coding-agent.js"
import { runPlanningAgent } from "#application/agent/planning-agent.js"
import { createApiAuth } from "#application/api-auth.js"
import { type ApprovePlan, createApprovePlan } from "#application/approve-plan.js"
import { createCancelRun } from "#application/cancel-run.js"
import { type CheckRunReporter, createCheckRunReporter, observedJournal } from "#application/check-runs.js"
import { createHandleGitHubEvent, type HandleGitHubEvent } from "#application/handle-github-event.js"
import type { ApiTokenStore } from "#application/ports/api-token-store.js"
import type { CiRuns } from "#application/ports/ci-runs.js"
import type { Clock } from "#application/ports/clock.js"
import type { CommitChecks } from "#application/ports/commit-checks.js"
import type { DeliveryStore } from "#application/ports/delivery-store.js"
import type { EventBus } from "#application/ports/event-bus.js"
import type { GitHub } from "#application/ports/github.js"
import type { JobHandler, JobQueue, JobWorker } from "#application/ports/job-queue.js"
import type { Logger } from "#application/ports/logging.js"
import type { ModelHandle } from "#application/ports/model.js"
import type { PlanStore } from "#application/ports/plan-store.js"
import type { RepoSettingsStore } from "#application/ports/repo-settings-store.js"
import type { ReviewThreads } from "#application/ports/review-threads.js"
import type { RunStore } from "#application/ports/run-store.js"
import type { Sandbox } from "#application/ports/sandbox.js"
import type { SecretStore } from "#application/ports/secret-store.js"
import type { Workspace } from "#application/ports/workspace.js"
import { createQueuedComments, type QueuedComments } from "#application/queued-comments.js"
import { createRepoSettings, type RepoSettings } from "#application/repo-settings.js"
import { createWorkflowRequester, type WorkflowRequester } from "#application/request-workflow.js"
import { createReviewReplies } from "#application/review-follow-up.js"
import { createJobRunner, type Workflows } from "#application/run-job.js"
import { createRunJournal } from "#application/run-journal.js"
import { createRunPlaces, type RunPlaces } from "#application/run-place.js"
import { createSpendingGuard } from "#application/spending-limits.js"
import { createRunSweeper } from "#application/sweep-runs.js"
import { createAnswerQuestion } from "#application/workflows/answer-question.js"
import { createCommentOnIssue, type Planner } from "#application/workflows/comment-on-issue.js"
import { type Coder, createResolveIssue } from "#application/workflows/resolve-issue.js"
import { ConfigError } from "#domain/errors.js"
import { unpricedRefusal } from "#domain/model-table.js"
import type { JobType, WorkerType } from "#domain/workflow-run.js"
import { WORKER_TYPES } from "#domain/workflow-run.js"
import type { Config } from "./config.js"

/** job types whose runs work under the cost cap (the coding agent) */
const COST_CAPPED: readonly JobType[] = ["resolve-issue", "auto-resolve-issue"]

export interface Container {
  config: Config
  logger: Logger
  /** runs and events, plus the records beside them (plans, deliveries, secrets, settings) */
  store: RunStore & ApiTokenStore & PlanStore & DeliveryStore & SecretStore & RepoSettingsStore
  bus: EventBus
  /** undefined when built with `queue: false` (inline runs) */
  queue: JobQueue | undefined
  requester: WorkflowRequester
  cancelRun: ReturnType<typeof createCancelRun>
  /** approve one plan version and start its implementation (API, UI, `/prwright approve`) */
  approvePlan: ApprovePlan
  /** GitHub webhook intake (POST /api/webhooks/github); `secret` unset means webhooks are refused */
  webhooks: { secret?: string | undefined; handle: HandleGitHubEvent }
  /** per-repository settings edited through the API */
  repoSettings: RepoSettings
  runner: JobHandler
  /** shows runs as check runs (GitHub App) or commit statuses (token); undefined without GitHub auth */
  checkRuns: CheckRunReporter | undefined
  /** answers review threads when a review follow-up ends */
  reviewReplies: { flush(): Promise<void> } | undefined
  /** a waiting run's place in line and estimated start (GET /api/jobs/:id, the UI) */
  runPlaces: RunPlaces
  /** a webhook run's "waiting in line" issue comment, edited when it starts */
  queuedComments: QueuedComments
  /** job types that have a workflow in this version */
  jobTypes: JobType[]
  startWorkers(types: WorkerType[], concurrency?: number): JobWorker[]
  createAuth(announce: (token: string) => void): ReturnType<typeof createApiAuth>
  close(): Promise<void>
}

/** Things tests (and embedders) may replace; everything else comes from the config. */
export interface ContainerOverrides {
  logger?: Logger
  github?: GitHub
  /** where check runs and commit statuses go (default: the Octokit adapter; null: nowhere) */
  commitChecks?: CommitChecks | null
  /** review comments and threads (default: the Octokit adapter; null: review follow-ups off) */
  reviewThreads?: ReviewThreads | null
  /** GitHub Actions runs and logs (default: the Octokit adapter; null: CI repair off) */
  ciRuns?: CiRuns | null
  workspace?: Workspace
  model?: ModelHandle | null
  planner?: Planner
  coder?: Coder
  answerer?: Answerer
  sandbox?: Sandbox
  fetch?: typeof fetch
  queue?: false
  /** refuse workflow requests (503) for a job type without a live worker; `prwright serve` turns it on */
  requireLiveWorkers?: boolean
  /** the time spending limits and the run sweeper go by (tests move it past a limit's reset) */
  clock?: Clock
  /** how often a "waiting in line" comment may be written (default 10 s; tests shorten it) */
  queuedCommentEditMs?: number
}

/** Fails every GitHub call with the fix, so the service still starts without a token. */
const unconfiguredGitHub = (): GitHub => {
  const fail = async (): Promise<never> => {
    throw new ConfigError(
      "GITHUB_TOKEN is not set: create a token with contents:read and issues:write on the repository and set GITHUB_TOKEN (or set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY for a GitHub App), restart, then retry the job",
    )
  }
  return {
    getRepository: fail,
    getIssue: fail,
    createIssueComment: fail,
    updateIssueComment: fail,
    findIssueComment: fail,
    listIssueComments: fail,
    findPullRequest: fail,
    createPullRequest: fail,
    updatePullRequest: fail,
    getPullRequest: fail,
    getPermission: fail,
    addReaction: fail,
  }
}

const sqlitePathOf = (databaseUrl: string): string | undefined =>
  databaseUrl.startsWith("sqlite:") ? databaseUrl.slice("sqlite:".length) : undefined

/** The job queue the configuration names: BullMQ when REDIS_URL is set, else the embedded SQLite one. */
/** `connection`: the run store's own SQLite connection when the queue shares its file (decisions/0010) */
export const createJobQueue = (
  config: Config,
  logger: Logger,
  connection?: EmbeddedJobQueueOptions["connection"],
): JobQueue =>
  config.redisUrl
    ? createBullMqJobQueue({
        connection: config.redisUrl,
        prefix: config.queuePrefix,
        backoffBaseMs: config.queueBackoffMs,
        keepCompleted: config.queueRetention.completed,
        keepFailed: config.queueRetention.failed,
        lockDurationMs: config.queueLockMs,
        logger,
      })
    : createEmbeddedJobQueue({
        // Same file as the run store when that is SQLite, so one file holds all state, through the
        // store's own connection when one is given (decisions/0010).
        databasePath: sqlitePathOf(config.databaseUrl) ?? path.join(config.dataDir, "queue.db"),
        ...(connection ? { connection } : {}),
        backoffBaseMs: config.queueBackoffMs,
        keepCompleted: config.queueRetention.completed,
        keepFailed: config.queueRetention.failed,
        leaseMs: config.queueLockMs,
        logger,
      })

/**
 * The one composition root: picks adapters from the config and wires the use cases. Over 300 lines
 * because it is the one place that knows every adapter; what a single command needs on its own
 * (doctor, migrate) is composed in maintenance.ts instead.
 */
export const createContainer = async (
  config: Config,
  overrides: ContainerOverrides = {},
): Promise<Container> => {
  const logger =
    overrides.logger ??
    createJsonLogger({ level: config.logLevel, secrets: config.secrets, fields: { pid: process.pid } })
  // Asked for on the first secret stored or read, so a generated key file appears only when needed.
  const secretKey = () =>
    loadSecretKey({
      dataDir: config.dataDir,
      logger,
      configuredKey: config.secretKey,
    })
  // NEO4J_URI moves runs, events and every record beside them to Neo4j; otherwise DATABASE_URL holds them.
  const store = config.neo4j
    ? await createNeo4jRunStore({ ...config.neo4j, secretKey })
    : await createSqlRunStore({ url: config.databaseUrl, logger, secretKey })
  // With Redis, a worker on another machine publishes what this process's SSE streams show live.
  const bus = config.redisUrl
    ? createRedisEventBus({ url: config.redisUrl, prefix: config.queuePrefix, logger })
    : createMemoryEventBus({ logger })

  const { sqliteConnection } = store as { sqliteConnection?: EmbeddedJobQueueOptions["connection"] }
  let queue: JobQueue | undefined
  if (overrides.queue !== false)
    queue = createJobQueue(config, logger, sqlitePathOf(config.databaseUrl) ? sqliteConnection : undefined)

  const token = config.github.token
  // A GitHub App mints a token per repository (installation tokens live an hour): asked for on every call
  // and every push, so a long run never pushes with an expired one.
  const appTokens = config.github.app
    ? createInstallationTokens({
        appId: config.github.app.id,
        privateKey: config.github.app.privateKey,
        baseUrl: config.github.apiUrl,
        fetch: overrides.fetch,
      })
    : undefined
  const githubAuth = appTokens ? appTokens.tokenFor : token
  const octokit = githubAuth
    ? createOctokitGitHub({
        auth: githubAuth,
        baseUrl: config.github.apiUrl,
        fetch: overrides.fetch,
        logger,
      })
    : undefined
  const github = overrides.github ?? octokit ?? unconfiguredGitHub()
  const commitChecks = overrides.commitChecks === null ? undefined : (overrides.commitChecks ?? octokit)
  const workspace =
    overrides.workspace ??
    createGitCliWorkspace({
      dataDir: config.dataDir,
      keepFailedMs: config.keepFailedCheckoutMs,
      authHeader: async (cloneUrl) =>
        appTokens
          ? gitAuthHeader(await appTokens.tokenFor(repoOfCloneUrl(cloneUrl)))
          : token
            ? gitAuthHeader(token)
            : undefined,
      logger,
    })
  const model =
    overrides.model === null
      ? undefined
      : (overrides.model ??
        (config.llm.apiKey || config.llm.provider === "openai-compatible"
          ? createModelHandle({
              provider: config.llm.provider,
              model: config.llm.model,
              baseURL: config.llm.baseUrl,
              apiKey: config.llm.apiKey,
              reasoningEffort: config.llm.reasoningEffort,
              thinkingBudgetTokens: config.llm.thinkingBudgetTokens,
              openaiApi: config.llm.openaiApi,
              modelTable: config.llm.modelTable,
              allowUnpriced: config.llm.allowUnpriced,
              fetch: overrides.fetch,
            })
          : undefined))

  const clock = overrides.clock ?? { now: () => new Date() }
  const runLink = config.publicUrl ? (id: string) => `${config.publicUrl}/api/jobs/${id}` : undefined
  const checkRuns = commitChecks
    ? createCheckRunReporter({
        checks: commitChecks,
        store,
        logger,
        mode: config.github.app ? "check-run" : "status",
        runUrl: runLink,
      })
    : undefined
  const ciRuns = overrides.ciRuns === null ? undefined : (overrides.ciRuns ?? octokit)
  const reviewThreads = overrides.reviewThreads === null ? undefined : (overrides.reviewThreads ?? octokit)
  const reviewReplies = reviewThreads
    ? createReviewReplies({ threads: reviewThreads, store, logger })
    : undefined
  const runPlaces = createRunPlaces({ queue, store })
  const queuedComments = createQueuedComments({
    github,
    store,
    places: runPlaces,
    logger,
    runUrl: runLink,
    ...(overrides.queuedCommentEditMs !== undefined ? { editMs: overrides.queuedCommentEditMs } : {}),
  })
  const observers = [checkRuns, reviewReplies, queuedComments].filter((o) => o !== undefined)
  const baseJournal = createRunJournal({ store, bus, logger })
  const journal = observers.length > 0 ? observedJournal(baseJournal, ...observers) : baseJournal
  let sandboxReady: Promise<Sandbox> | undefined
  const sandbox = () => {
    sandboxReady ??= overrides.sandbox
      ? Promise.resolve(overrides.sandbox)
      : detectSandbox({
          preference: config.sandbox,
          // setup commands reach only these registries, through the worker's egress proxy
          setupEgress: config.setupEgress,
          logger,
        })
    return sandboxReady
  }
  const runUrl = config.publicUrl ? (id: string) => `${config.publicUrl}/runs/${id}` : undefined
  const spendingGuard = createSpendingGuard({
    runs: store,
    settings: store,
    limits: config.spending,
    now: () => clock.now(),
  })
  const resolveIssue = createResolveIssue({
    github,
    workspace,
    sandbox,
    model,
    planner: overrides.planner ?? runPlanningAgent,
    coder: overrides.coder ?? ((options) => runCodingAgent({ ...options, secrets: config.secrets })),
    runs: store,
    plans: store,
    logger,
    author: config.gitAuthor,
    limits: { ...config.agent, planSteps: config.maxPlanSteps },
    spending: spendingGuard,
    // each run's HOME and /tmp for its sandboxed commands, outside every checkout
    runDirs: createRunDirs({ baseDir: path.join(config.dataDir, "run-homes") }),
    runUrl,
  })
  const workflows: Workflows = {
    "resolve-issue": resolveIssue.resolve,
    "auto-resolve-issue": resolveIssue.autoResolve,
    "comment-on-issue": createCommentOnIssue({
      github,
      workspace,
      model,
      planner: overrides.planner ?? runPlanningAgent,
      logger,
      plans: store,
      maxSteps: config.maxPlanSteps,
      runUrl: config.publicUrl ? (id: string) => `${config.publicUrl}/runs/${id}` : undefined,
    }),
  }
  workflows["answer-question"] = createAnswerQuestion({
    github,
    workspace,
    model,
    answerer: overrides.answerer ?? runAnsweringAgent,
    logger,
    maxSteps: config.maxPlanSteps,
    runUrl: runLink,
  })
  const runner = createJobRunner({ store, journal, workflows, logger, clock })
  const requester = createWorkflowRequester({
    store,
    queue,
    journal,
    newId: randomUUID,
    logger,
    requireLiveWorker: overrides.requireLiveWorkers,
    runLimits: config.runLimits,
    preflight: (type) => {
      // the cost cap (default or set) cannot bind on a model without a price: refuse before storing
      if (model && !model.pricing && !model.allowUnpriced && COST_CAPPED.includes(type))
        throw new ConfigError(unpricedRefusal(model.modelId, config.agent.maxCostUsd))
    },
    spending: { guard: spendingGuard, action: config.spendLimitAction },
  })
  const cancelRun = createCancelRun({ store, queue, journal, clock })
  const jobTypes = Object.keys(workflows) as JobType[]
  const handleGitHubEvent = createHandleGitHubEvent({
    github,
    runs: store,
    deliveries: store,
    requester,
    cancelRun,
    plans: store,
    logger,
    threads: reviewThreads,
    ci: ciRuns,
    settings: store,
    queued: queuedComments,
  })

  const workers: JobWorker[] = []
  // processes that run workers also repair runs left without a job (docs/decisions/0003)
  let stopSweeper: (() => void) | undefined
  return {
    config,
    logger,
    store,
    bus,
    queue,
    requester,
    cancelRun,
    approvePlan: createApprovePlan({ plans: store, requester }),
    webhooks: {
      secret: config.github.webhookSecret,
      handle: handleGitHubEvent,
    },
    repoSettings: createRepoSettings({ store }),
    runner,
    checkRuns,
    runPlaces,
    queuedComments,
    reviewReplies,
    jobTypes,
    startWorkers(types, concurrency) {
      if (!queue) throw new ConfigError("this process was built without a queue")
      const started = types
        .filter((type) => jobTypes.includes(WORKER_TYPES[type]))
        .map((type) =>
          queue.process(WORKER_TYPES[type], runner, {
            concurrency: concurrency ?? config.concurrency[type],
            timeouts: config.timeouts[type],
          }),
        )
      workers.push(...started)
      stopSweeper ??= createRunSweeper({
        store,
        queue,
        journal,
        clock,
        logger,
        olderThanMs: config.pendingSweepMs,
        runLimits: config.runLimits,
      }).start(Math.max(1_000, Math.floor(config.pendingSweepMs / 2)))
      return started
    },
    createAuth: (announce) =>
      createApiAuth({
        store,
        configuredToken: config.apiToken,
        announce,
        newId: randomUUID,
      }),
    async close() {
      stopSweeper?.()
      await Promise.allSettled(workers.map((worker) => worker.close({ graceMs: config.shutdownGraceMs })))
      await checkRuns?.flush()
      await reviewReplies?.flush()
      await queuedComments.close()
      await queue?.close()
      await bus.close()
      await store.close()
    },
  }
}
