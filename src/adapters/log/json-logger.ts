import { pino } from "pino"
import type { Logger } from "#application/ports/logging.js"
import { createScrubber } from "#domain/secret-scrubber.js"

export type LogLevel = "debug" | "info" | "warn" | "error"

/** Field names whose values are never logged, wherever a caller puts them (pino's redact paths). */
const SECRET_FIELDS = ["authorization", "password", "token", "apiKey", "secret", "privateKey", "cookie"]
const REDACT_PATHS = SECRET_FIELDS.flatMap((name) => [
  name,
  `*.${name}`,
  `*.headers.${name}`,
  `headers.${name}`,
])

/** Errors are logged as name and message: a stack is for debugging, not for every log line. */
const plain = (value: unknown): unknown =>
  value instanceof Error
    ? { name: value.name, message: value.message }
    : typeof value === "bigint"
      ? value.toString()
      : value

/**
 * JSON lines on stderr (or `write`) through pino: one object per line with `time`, `level` (a name),
 * `msg` and the fields. Secrets are removed twice: pino's `redact` drops fields named like credentials,
 * and the line as written goes through createScrubber (domain/secret-scrubber.ts) (every configured secret value and its encodings,
 * credential headers, passwords in URLs), the one scrubber logs and outside error texts share.
 */
export const createJsonLogger = (options: {
  level?: LogLevel
  secrets?: readonly string[]
  write?: (line: string) => void
  fields?: Record<string, unknown>
}): Logger => {
  const redact = createScrubber(options.secrets ?? [])
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const root = pino(
    {
      level: options.level ?? "info",
      base: options.fields ?? {},
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) =>
          Object.fromEntries(Object.entries(object).map(([key, value]) => [key, plain(value)])),
        bindings: (bindings) => bindings,
      },
    },
    { write: (line: string) => write(redact(line.endsWith("\n") ? line.slice(0, -1) : line)) },
  )
  const wrap = (logger: pino.Logger): Logger => {
    const log = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
      if (fields) logger[level](fields, message)
      else logger[level](message)
    }
    return {
      debug: log("debug"),
      info: log("info"),
      warn: log("warn"),
      error: log("error"),
      child: (fields) => wrap(logger.child(fields)),
    }
  }
  return wrap(root)
}
