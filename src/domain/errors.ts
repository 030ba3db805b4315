/**
 * Typed errors. Each kind has a stable `name` and `code`; the HTTP edge maps `code` to a status.
 * Messages say what went wrong and how to fix it, and never carry a secret.
 */
export type ErrorCode =
  | "invalid_input"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "too_large"
  | "rate_limited"
  | "unavailable"
  | "config"
  | "cancelled"
  | "internal"

export class PrwrightError extends Error {
  readonly code: ErrorCode
  /** false: retrying cannot help (bad input, no access, cancelled). */
  readonly retryable: boolean
  readonly details?: unknown

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryable?: boolean; details?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = "PrwrightError"
    this.code = code
    this.retryable = options.retryable ?? false
    this.details = options.details
  }
}

export interface FieldIssue {
  /** dotted path of the offending field, e.g. `options.priority` */
  field: string
  message: string
}

export class ValidationError extends PrwrightError {
  readonly issues: FieldIssue[]
  constructor(message: string, issues: FieldIssue[] = []) {
    super("invalid_input", message, { details: { issues } })
    this.name = "ValidationError"
    this.issues = issues
  }
}

export class NotFoundError extends PrwrightError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("not_found", message, options)
    this.name = "NotFoundError"
  }
}

export class ConflictError extends PrwrightError {
  constructor(message: string) {
    super("conflict", message)
    this.name = "ConflictError"
  }
}

export class ConfigError extends PrwrightError {
  constructor(message: string) {
    super("config", message)
    this.name = "ConfigError"
  }
}

/** A job that fails with this is not retried: the same input would fail the same way. */
export class NonRetryableError extends PrwrightError {
  constructor(message: string, options: { cause?: unknown; code?: ErrorCode } = {}) {
    super(options.code ?? "internal", message, { cause: options.cause, retryable: false })
    this.name = "NonRetryableError"
  }
}

/** A passing fault (network, 5xx, rate limit): the queue retries with backoff. */
export class RetryableError extends PrwrightError {
  constructor(message: string, options: { cause?: unknown; code?: ErrorCode } = {}) {
    super(options.code ?? "unavailable", message, { cause: options.cause, retryable: true })
    this.name = "RetryableError"
  }
}

/** GitHub refused or could not find something the run needs; `retryable` follows the HTTP status. */
export class GitHubError extends PrwrightError {
  readonly status: number | undefined
  constructor(
    message: string,
    options: { status?: number | undefined; cause?: unknown; retryable?: boolean | undefined },
  ) {
    const status = options.status
    const code: ErrorCode =
      status === 401
        ? "unauthorized"
        : status === 403
          ? "forbidden"
          : status === 404
            ? "not_found"
            : status === 429
              ? "rate_limited"
              : "unavailable"
    super(code, message, {
      cause: options.cause,
      retryable: options.retryable ?? (status === undefined || status === 429 || status >= 500),
    })
    this.name = "GitHubError"
    this.status = status
  }
}

export class CancelledError extends PrwrightError {
  constructor(message = "the run was cancelled") {
    super("cancelled", message, { retryable: false })
    this.name = "CancelledError"
  }
}

export const isRetryable = (error: unknown): boolean =>
  error instanceof PrwrightError ? error.retryable : true

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error)
