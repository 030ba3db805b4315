/**
 * How a store's own failures reach the job: anything that is not already a typed error (a refused or
 * dropped connection, a timeout, a failed statement) becomes a retryable "unavailable" error, so the
 * queue retries the attempt instead of the run going on with events silently lost.
 */
import { errorMessage, PrwrightError, RetryableError } from "#domain/errors.js"

const redact = (text: string): string => text.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, "$1***@")

export const toStoreError = (operation: string, error: unknown, fix: string): PrwrightError =>
  error instanceof PrwrightError
    ? error
    : new RetryableError(
        `the run store failed during ${operation} (${redact(errorMessage(error))}): ${fix}; the attempt is retried`,
        { cause: error },
      )

/**
 * A connection that was there and went away (PostgreSQL restarted or a backend terminated, a proxy or
 * NAT dropping it, Neo4j's session expiring): the pool hands out a fresh one on the next call.
 */
export const isConnectionLost = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code
  if (
    typeof code === "string" &&
    /^(57P0[123]|08000|08003|08006|ECONNRESET|EPIPE|SessionExpired|ServiceUnavailable)$/.test(code)
  )
    return true
  return /Connection terminated|terminating connection|server closed the connection|Client has encountered a connection error|Connection is closed|socket hang up|ECONNRESET|EPIPE/i.test(
    errorMessage(error),
  )
}

/**
 * Wraps every async method of `target` (but those in `except`) in place with toStoreError. A call
 * that failed because its connection was lost is tried again on a fresh connection (up to 3 times,
 * as several pooled connections may have been cut at once) before the failure reaches the API (a 503)
 * or the job (a retried attempt): a restarted database or a reaped connection costs nothing.
 */
export const guardStoreMethods = <T extends object>(
  target: T,
  options: { except: string[]; fix: string },
): T => {
  for (const [name, method] of Object.entries(target)) {
    if (typeof method !== "function" || options.except.includes(name)) continue
    const original = method as (...args: unknown[]) => Promise<unknown>
    Object.assign(target, {
      [name]: async (...args: unknown[]) => {
        try {
          return await original.apply(target, args)
        } catch (error) {
          let last = error
          // The pool drops a connection once it fails; others terminated with it are noticed (and
          // dropped) as their sockets report it, which the short pause leaves time for.
          for (let retry = 1; retry <= 3 && isConnectionLost(last); retry++) {
            await new Promise((resolve) => setTimeout(resolve, 50 * retry))
            try {
              return await original.apply(target, args)
            } catch (again) {
              last = again
            }
          }
          throw toStoreError(name, last, options.fix)
        }
      },
    })
  }
  return target
}
