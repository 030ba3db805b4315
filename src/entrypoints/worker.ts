import { WORKER_TYPES, type WorkerType } from "#domain/workflow-run.js"
import type { Config } from "#main/config.js"
import { createContainer } from "#main/container.js"
import { refuseUnavailableSandbox } from "./serve.js"
import { onShutdown } from "./shutdown.js"

/** `prwright worker`: takes jobs of the given types from the queue until SIGTERM. */
export const runWorker = async (
  config: Config,
  options: { types: WorkerType[]; concurrency?: number | undefined },
) => {
  if (!config.redisUrl) {
    process.stderr.write(
      "note: REDIS_URL is not set, so this worker uses the embedded queue in the local database file; `prwright serve` already runs workers for it\n",
    )
  }
  refuseUnavailableSandbox(config)
  const container = await createContainer(config)
  container.startWorkers(options.types, options.concurrency)
  // "worker started" means "visible to readiness and enqueue": wait for the first heartbeat to land
  const deadline = Date.now() + 5_000
  const types = options.types.map((type) => WORKER_TYPES[type])
  while (container.queue?.liveWorkers && Date.now() < deadline) {
    const live = await container.queue.liveWorkers().catch(() => ({}) as Record<string, number>)
    if (types.every((type) => (live[type] ?? 0) > 0)) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  container.logger.info("worker started", {
    types: options.types,
    queue: config.redisUrl ? "bullmq" : "embedded",
  })
  onShutdown(() => container.close(), config.shutdownGraceMs + 10_000)
}
