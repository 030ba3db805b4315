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

/** Wraps every async method of `target` (but those in `except`) in place with toStoreError. */
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
          throw toStoreError(name, error, options.fix)
        }
      },
    })
  }
  return target
}
