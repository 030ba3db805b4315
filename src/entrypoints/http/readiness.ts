/**
 * GET /readyz: can this deployment serve a workflow request right now? The run store answers, the
 * queue answers, and every job type has a live worker somewhere (heartbeats, see
 * adapters/queue/worker-heartbeats.ts). /readyz is public (load balancers probe it), so a failing
 * check says which dependency and the fix in fixed words; the raw error, which names hosts, users and
 * driver internals, goes to the server log only.
 */
import type { JobQueue } from "#application/ports/job-queue.js"
import type { Logger } from "#application/ports/logging.js"
import type { RunStore } from "#application/ports/run-store.js"
import { errorMessage, PrwrightError } from "#domain/errors.js"
import { type JobType, WORKER_TYPES } from "#domain/workflow-run.js"

export interface ReadinessCheck {
  ok: boolean
  detail?: string
}

export type Readiness = () => Promise<Record<string, ReadinessCheck>>

const within = <T>(work: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PrwrightError("unavailable", `no answer within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

const workerTypeOf = (type: JobType) =>
  Object.entries(WORKER_TYPES).find(([, jobType]) => jobType === type)?.[0] ?? type

export const createReadiness = (deps: {
  store: RunStore
  queue?: JobQueue | undefined
  /** the job types this deployment offers; each needs a live worker */
  jobTypes: readonly JobType[]
  /** where the store lives, for the fix (default "DATABASE_URL") */
  storeSetting?: string
  logger: Logger
  timeoutMs?: number
}): Readiness => {
  const timeoutMs = deps.timeoutMs ?? 2_000
  const logger = deps.logger.child({ component: "readiness" })
  const storeSetting = deps.storeSetting ?? "DATABASE_URL"
  return async () => {
    const checks: Record<string, ReadinessCheck> = {}
    const probe = async (name: string, work: () => Promise<unknown>, fix: string) => {
      try {
        await within(work(), timeoutMs)
        checks[name] = { ok: true }
      } catch (error) {
        logger.warn("readiness check failed", { check: name, error: errorMessage(error) })
        checks[name] = { ok: false, detail: fix }
      }
    }
    const queue = deps.queue
    await Promise.all([
      probe(
        "store",
        () => deps.store.listRuns({ limit: 1 }),
        `the run store does not answer: check ${storeSetting} and that its database server is up`,
      ),
      queue?.ping
        ? probe(
            "queue",
            () => queue.ping?.(timeoutMs) ?? Promise.resolve(),
            "the job queue does not answer: check REDIS_URL and that Redis is up",
          )
        : Promise.resolve(),
    ])
    if (queue?.liveWorkers && checks.queue?.ok !== false) {
      let live: Partial<Record<JobType, number>> | undefined
      try {
        live = await within(queue.liveWorkers(), timeoutMs)
      } catch (error) {
        logger.warn("readiness check failed", { check: "workers", error: errorMessage(error) })
      }
      for (const type of deps.jobTypes) {
        const count = live?.[type] ?? 0
        checks[`workers:${type}`] =
          count > 0
            ? { ok: true, detail: `${count} live worker${count === 1 ? "" : "s"}` }
            : {
                ok: false,
                detail: `no live worker: start \`prwright worker --type ${workerTypeOf(type)}\` (or --type all)`,
              }
      }
    }
    return checks
  }
}
