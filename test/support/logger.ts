import type { Logger } from "#application/ports/logging.js"

export interface CapturedLog {
  level: string
  message: string
  fields?: Record<string, unknown>
}

/** A Logger that keeps every line, so tests can assert on (and scan) what was logged. */
export const createCapturingLogger = (
  lines: CapturedLog[] = [],
  base: Record<string, unknown> = {},
): Logger & { lines: CapturedLog[] } => {
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push({ level, message, fields: { ...base, ...fields } })
  }
  return {
    lines,
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: (fields) => createCapturingLogger(lines, { ...base, ...fields }),
  }
}
