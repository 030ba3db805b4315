import { serve as serveHttp } from "@hono/node-server"
import { ConfigError, errorMessage } from "#domain/errors.js"
import type { WorkerType } from "#domain/workflow-run.js"
import type { Config } from "#main/config.js"
import { type ContainerOverrides, createContainer } from "#main/container.js"
import { createHttpApp } from "./http/app.js"
import { createMetrics, watchDeployment } from "./http/metrics.js"
import { createReadiness } from "./http/readiness.js"
import { doctorChecks, githubWebUrl } from "./http/setup-checks.js"
import { onShutdown } from "./shutdown.js"
import { VERSION } from "./version.js"

export interface RunningServer {
  url: string
  close(): Promise<void>
}

/** `prwright serve`: API (+ UI later) and, unless disabled, the workers in this process. */
export const startServer = async (
  config: Config,
  options: { workers: boolean; workerTypes?: WorkerType[]; overrides?: ContainerOverrides },
): Promise<RunningServer> => {
  refuseUnavailableSandbox(config)
  const container = await createContainer(config, { requireLiveWorkers: true, ...options.overrides })
  const { logger } = container
  const auth = await container.createAuth((token) => {
    // Printed to the terminal once, on purpose not through the logger: it is a secret.
    process.stdout.write(
      `\nNo PRWRIGHT_API_TOKEN is set, so an API token was generated. It is shown only this once:\n\n    ${token}\n\nUse it as "Authorization: Bearer <token>" (export PRWRIGHT_API_TOKEN=<token> for the CLI).\nLost it? "prwright token rotate" prints a new one and retires this one.\n\n`,
    )
  })
  const metrics = createMetrics()
  const stopWatching = await watchDeployment(metrics, {
    bus: container.bus,
    store: container.store,
    queue: container.queue,
    logger,
  })
  const app = createHttpApp({
    metrics,
    requester: container.requester,
    cancelRun: container.cancelRun,
    runPlaces: container.runPlaces,
    webhooks: container.webhooks,
    repoSettings: container.repoSettings,
    store: container.store,
    bus: container.bus,
    auth,
    logger,
    workflows: container.jobTypes,
    version: VERSION,
    ui: {
      plans: container.store,
      approvePlan: container.approvePlan,
      setup: () => doctorChecks(config),
      githubWebUrl: githubWebUrl(config.github.apiUrl),
      webhookSecretSet: Boolean(config.github.webhookSecret),
      limits: { maxCostUsd: config.agent.maxCostUsd, maxSteps: config.agent.maxSteps },
      publicUrl: config.publicUrl,
    },
    readiness: createReadiness({
      store: container.store,
      queue: container.queue,
      jobTypes: container.jobTypes,
      storeSetting: config.neo4j ? "NEO4J_URI" : "DATABASE_URL",
      logger,
    }),
    metricsToken: config.metricsToken,
  })

  // Listen before any worker starts: a busy port must stop the process at once, not leave workers running.
  let server: ReturnType<typeof serveHttp>
  try {
    server = await new Promise<ReturnType<typeof serveHttp>>((resolve, reject) => {
      const s = serveHttp({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s))
      s.once("error", reject)
    })
  } catch (error) {
    await stopWatching()
    await container.close().catch(() => {})
    const code = (error as NodeJS.ErrnoException).code
    throw new ConfigError(
      code === "EADDRINUSE"
        ? `port ${config.port} on ${config.host} is already in use: stop the other process, or choose another port with PORT or --port (0 picks a free one)`
        : `cannot listen on ${config.host}:${config.port} (${errorMessage(error)}): check HOST and PORT`,
    )
  }
  if (options.workers)
    container.startWorkers(options.workerTypes ?? ["comment", "auto-resolve", "resolve", "ask"])
  const address = server.address()
  const port = typeof address === "object" && address ? address.port : config.port
  const url = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`
  logger.info("prwright is listening", {
    url,
    queue: config.redisUrl ? "bullmq" : "embedded",
    store: config.databaseUrl.split(":")[0],
    workers: options.workers,
  })

  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await stopWatching()
      await container.close()
    })()
    return closing
  }
  return { url, close }
}

/** The docker sandbox of INTERFACES.md does not exist yet: refuse it rather than run without one. */
export const refuseUnavailableSandbox = (config: Config) => {
  if (config.sandbox === "docker")
    throw new ConfigError(
      "PRWRIGHT_SANDBOX=docker is not available in this version: use bwrap (the default; install bubblewrap) or, only where repository code is trusted, process",
    )
}

export const runServe = async (config: Config, options: { workers: boolean }): Promise<void> => {
  const server = await startServer(config, options)
  onShutdown(() => server.close())
}
