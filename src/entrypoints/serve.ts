import { serve as serveHttp } from "@hono/node-server"
import type { WorkerType } from "#domain/workflow-run.js"
import type { Config } from "#main/config.js"
import { type ContainerOverrides, createContainer } from "#main/container.js"
import { createHttpApp } from "./http/app.js"
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
  const container = await createContainer(config, options.overrides)
  const { logger } = container
  const auth = await container.createAuth((token) => {
    // Printed to the terminal once, on purpose not through the logger: it is a secret.
    process.stdout.write(
      `\nNo PRWRIGHT_API_TOKEN is set, so an API token was generated. It is shown only this once:\n\n    ${token}\n\nUse it as "Authorization: Bearer <token>" (export PRWRIGHT_API_TOKEN=<token> for the CLI).\n\n`,
    )
  })
  const app = createHttpApp({
    requester: container.requester,
    cancelRun: container.cancelRun,
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
      ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    },
    readiness: async () => {
      const checks: Record<string, { ok: boolean; detail?: string }> = {}
      try {
        await container.store.listRuns({ limit: 1 })
        checks.store = { ok: true }
      } catch (error) {
        checks.store = { ok: false, detail: String(error) }
      }
      return checks
    },
  })
  if (options.workers)
    container.startWorkers(options.workerTypes ?? ["comment", "auto-resolve", "resolve", "ask"])

  const server = await new Promise<ReturnType<typeof serveHttp>>((resolve, reject) => {
    const s = serveHttp({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s))
    s.once("error", reject)
  })
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
      await container.close()
    })()
    return closing
  }
  return { url, close }
}

export const runServe = async (config: Config, options: { workers: boolean }): Promise<void> => {
  const server = await startServer(config, options)
  onShutdown(() => server.close())
}
