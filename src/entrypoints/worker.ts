import type { WorkerType } from "#domain/workflow-run.js"
import type { Config } from "#main/config.js"
import { createContainer } from "#main/container.js"
import { onShutdown } from "./shutdown.js"

/** `prwright worker`: takes jobs of the given types from the queue until SIGTERM. */
export const runWorker = async (config: Config, options: { types: WorkerType[]; concurrency?: number }) => {
  if (!config.redisUrl) {
    process.stderr.write(
      "note: REDIS_URL is not set, so this worker uses the embedded queue in the local database file; `prwright serve` already runs workers for it\n",
    )
  }
  const container = await createContainer(config)
  container.startWorkers(options.types, options.concurrency)
  container.logger.info("worker started", {
    types: options.types,
    queue: config.redisUrl ? "bullmq" : "embedded",
  })
  onShutdown(() => container.close(), config.shutdownGraceMs + 10_000)
}
