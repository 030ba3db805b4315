import { randomUUID } from "node:crypto"
import path from "node:path"
import { createMemoryEventBus } from "#adapters/events/memory-event-bus.js"
import { createGitCliWorkspace } from "#adapters/git/git-cli-workspace.js"
import { createOctokitGitHub, gitAuthHeader } from "#adapters/github/octokit-github.js"
import { createJsonLogger } from "#adapters/log/json-logger.js"
import { createModelHandle } from "#adapters/model/ai-sdk-model.js"
import { createBullMqJobQueue } from "#adapters/queue/bullmq/bullmq-job-queue.js"
import { createEmbeddedJobQueue } from "#adapters/queue/embedded/embedded-job-queue.js"
import { createSqlRunStore } from "#adapters/store/sql/sql-run-store.js"
import { runPlanningAgent } from "#application/agent/planning-agent.js"
import { createApiAuth } from "#application/api-auth.js"
import { createCancelRun } from "#application/cancel-run.js"
import type {
  ApiTokenStore,
  EventBus,
  GitHub,
  JobHandler,
  JobQueue,
  JobWorker,
  Logger,
  ModelHandle,
  RunStore,
  Workspace,
} from "#application/ports.js"
import { createWorkflowRequester, type WorkflowRequester } from "#application/request-workflow.js"
import { createJobRunner, type Workflows } from "#application/run-job.js"
import { createRunJournal } from "#application/run-journal.js"
import { createCommentOnIssue, type Planner } from "#application/workflows/comment-on-issue.js"
import { ConfigError } from "#domain/errors.js"
import type { JobType, WorkerType } from "#domain/workflow-run.js"
import { WORKER_TYPES } from "#domain/workflow-run.js"
import type { Config } from "./config.js"

export interface Container {
  config: Config
  logger: Logger
  store: RunStore & ApiTokenStore
  bus: EventBus
  /** undefined when built with `queue: false` (inline runs) */
  queue: JobQueue | undefined
  requester: WorkflowRequester
  cancelRun: ReturnType<typeof createCancelRun>
  runner: JobHandler
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
  workspace?: Workspace
  model?: ModelHandle | null
  planner?: Planner
  fetch?: typeof fetch
  queue?: false
}

/** Fails every GitHub call with the fix, so the service still starts without a token. */
const unconfiguredGitHub = (): GitHub => {
  const fail = async (): Promise<never> => {
    throw new ConfigError(
      "GITHUB_TOKEN is not set: create a token with contents:read and issues:write on the repository, set GITHUB_TOKEN, restart, then retry the job",
    )
  }
  return {
    getRepository: fail,
    getIssue: fail,
    createIssueComment: fail,
    updateIssueComment: fail,
    findPullRequest: fail,
    createPullRequest: fail,
    updatePullRequest: fail,
  }
}

const sqlitePathOf = (databaseUrl: string): string | undefined =>
  databaseUrl.startsWith("sqlite:") ? databaseUrl.slice("sqlite:".length) : undefined

/** The one composition root: picks adapters from the config and wires the use cases. */
export const createContainer = async (
  config: Config,
  overrides: ContainerOverrides = {},
): Promise<Container> => {
  const logger =
    overrides.logger ??
    createJsonLogger({ level: config.logLevel, secrets: config.secrets, fields: { pid: process.pid } })
  const store = await createSqlRunStore({ url: config.databaseUrl, logger })
  const bus = createMemoryEventBus({ logger })

  let queue: JobQueue | undefined
  if (overrides.queue !== false) {
    queue = config.redisUrl
      ? createBullMqJobQueue({
          connection: config.redisUrl,
          prefix: config.queuePrefix,
          backoffBaseMs: config.queueBackoffMs,
          logger,
        })
      : createEmbeddedJobQueue({
          // Same file as the run store when that is SQLite, so one file holds all state.
          databasePath: sqlitePathOf(config.databaseUrl) ?? path.join(config.dataDir, "queue.db"),
          backoffBaseMs: config.queueBackoffMs,
          logger,
        })
  }

  const token = config.github.token
  const github =
    overrides.github ??
    (token
      ? createOctokitGitHub({
          token,
          baseUrl: config.github.apiUrl,
          ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
        })
      : unconfiguredGitHub())
  const workspace =
    overrides.workspace ??
    createGitCliWorkspace({
      dataDir: config.dataDir,
      authHeader: async () => (token ? gitAuthHeader(token) : undefined),
      logger,
    })
  const model =
    overrides.model === null
      ? undefined
      : (overrides.model ??
        (config.llm.apiKey || config.llm.provider === "openai-compatible"
          ? createModelHandle({
              provider: config.llm.provider,
              ...(config.llm.model ? { model: config.llm.model } : {}),
              ...(config.llm.baseUrl ? { baseURL: config.llm.baseUrl } : {}),
              ...(config.llm.apiKey ? { apiKey: config.llm.apiKey } : {}),
              ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
            })
          : undefined))

  const clock = { now: () => new Date() }
  const journal = createRunJournal({ store, bus, logger })
  const workflows: Workflows = {
    "comment-on-issue": createCommentOnIssue({
      github,
      workspace,
      model,
      planner: overrides.planner ?? runPlanningAgent,
      logger,
      maxSteps: config.maxPlanSteps,
      ...(config.publicUrl ? { runUrl: (id: string) => `${config.publicUrl}/api/jobs/${id}` } : {}),
    }),
  }
  const runner = createJobRunner({ store, journal, workflows, logger, clock })
  const requester = createWorkflowRequester({
    store,
    ...(queue ? { queue } : {}),
    journal,
    newId: randomUUID,
    logger,
  })
  const cancelRun = createCancelRun({ store, ...(queue ? { queue } : {}), journal, clock })
  const jobTypes = Object.keys(workflows) as JobType[]

  const workers: JobWorker[] = []
  return {
    config,
    logger,
    store,
    bus,
    queue,
    requester,
    cancelRun,
    runner,
    jobTypes,
    startWorkers(types, concurrency) {
      if (!queue) throw new ConfigError("this process was built without a queue")
      const started = types
        .filter((type) => jobTypes.includes(WORKER_TYPES[type]))
        .map((type) =>
          queue.process(WORKER_TYPES[type], runner, { concurrency: concurrency ?? config.concurrency[type] }),
        )
      workers.push(...started)
      return started
    },
    createAuth: (announce) =>
      createApiAuth({
        store,
        ...(config.apiToken ? { configuredToken: config.apiToken } : {}),
        announce,
        newId: randomUUID,
      }),
    async close() {
      await Promise.allSettled(workers.map((worker) => worker.close({ graceMs: config.shutdownGraceMs })))
      await queue?.close()
      await bus.close()
      await store.close()
    },
  }
}
