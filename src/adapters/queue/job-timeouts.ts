import type { JobHandler, JobTimeouts } from "#application/ports/job-queue.js"
import type { Logger } from "#application/ports/logging.js"
import { NonRetryableError, RetryableError } from "#domain/errors.js"

/** How long an aborted handler may take to stop before its attempt is given up on anyway. */
export const STOP_GRACE_MS = 2_000

const human = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1_000 === 0 ? `${ms / 1_000} s` : `${ms} ms`

/**
 * Bounds one attempt in time through the job's own AbortSignal, so both queue adapters enforce the
 * same limits the same way:
 * - wall clock: the attempt ran longer than `wallMs`. Not retried: the same work would hit the same
 *   limit again, and every try costs model tokens.
 * - idle: no `progress()` for `idleMs`. Retried while attempts remain: a hung connection or a stuck
 *   subprocess is usually a passing fault.
 * A handler that ignores its aborted signal is given STOP_GRACE_MS, then the attempt fails without it
 * (the handler is logged and left behind) so a worker slot is never held forever.
 */
export const withTimeouts = (
  handler: JobHandler,
  timeouts: JobTimeouts | undefined,
  logger: Logger,
): JobHandler => {
  const wallMs = positive(timeouts?.wallMs)
  const idleMs = positive(timeouts?.idleMs)
  if (wallMs === undefined && idleMs === undefined) return handler
  return async (job) => {
    const controller = new AbortController()
    let timedOut: Error | undefined
    let giveUp: ((error: Error) => void) | undefined
    const gaveUp = new Promise<never>((_resolve, reject) => {
      giveUp = reject
    })
    gaveUp.catch(() => {})
    let stopTimer: NodeJS.Timeout | undefined
    const expire = (error: Error) => {
      if (timedOut || job.signal.aborted) return
      timedOut = error
      controller.abort(error)
      stopTimer = setTimeout(() => {
        logger.warn("handler did not stop after its timeout; leaving it behind", { jobId: job.jobId })
        giveUp?.(error)
      }, STOP_GRACE_MS)
    }
    const wallTimer =
      wallMs === undefined
        ? undefined
        : setTimeout(
            () =>
              expire(
                new NonRetryableError(
                  `attempt ${job.attempt} of job ${job.jobId} timed out after ${human(wallMs)} (the wall-clock limit for ${job.type}): ` +
                    "raise the limit in the worker's configuration if such runs are expected to take longer",
                ),
              ),
            wallMs,
          )
    let idleTimer: NodeJS.Timeout | undefined
    const armIdle = () => {
      if (idleMs === undefined || timedOut) return
      clearTimeout(idleTimer)
      idleTimer = setTimeout(
        () =>
          expire(
            new RetryableError(
              `attempt ${job.attempt} of job ${job.jobId} timed out after ${human(idleMs)} without progress; it will be retried while attempts remain`,
            ),
          ),
        idleMs,
      )
    }
    armIdle()
    try {
      const result = await Promise.race([
        handler({
          ...job,
          signal: AbortSignal.any([job.signal, controller.signal]),
          async progress(percent, message) {
            armIdle()
            await job.progress(percent, message)
          },
        }),
        gaveUp,
      ])
      if (timedOut) throw timedOut
      return result
    } catch (error) {
      throw timedOut ?? error
    } finally {
      clearTimeout(wallTimer)
      clearTimeout(idleTimer)
      clearTimeout(stopTimer)
    }
  }
}

const positive = (value: number | undefined): number | undefined =>
  value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined
