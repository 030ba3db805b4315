import type { Logger } from "#application/ports/logging.js"
import { createScrubber } from "#domain/secret-scrubber.js"

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const
export type LogLevel = keyof typeof LEVELS

/** JSON lines on stderr (or `write`), one object per line, secrets scrubbed. */
export const createJsonLogger = (options: {
  level?: LogLevel
  secrets?: readonly string[]
  write?: (line: string) => void
  fields?: Record<string, unknown>
}): Logger => {
  const min = LEVELS[options.level ?? "info"]
  const redact = createScrubber(options.secrets ?? [])
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const make = (base: Record<string, unknown>): Logger => {
    const log = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
      if (LEVELS[level] < min) return
      const line = JSON.stringify(
        { time: new Date().toISOString(), level, msg: message, ...base, ...fields },
        (_k, v) =>
          v instanceof Error
            ? { name: v.name, message: v.message }
            : typeof v === "bigint"
              ? v.toString()
              : v,
      )
      write(redact(line))
    }
    return {
      debug: log("debug"),
      info: log("info"),
      warn: log("warn"),
      error: log("error"),
      child: (fields) => make({ ...base, ...fields }),
    }
  }
  return make(options.fields ?? {})
}
