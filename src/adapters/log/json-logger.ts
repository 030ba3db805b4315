import type { Logger } from "#application/ports/logging.js"

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const
export type LogLevel = keyof typeof LEVELS

/**
 * Removes every known secret value (and anything shaped like a credential header) from a text.
 * Used for log lines and for error messages that came from outside (git stderr, HTTP bodies).
 */
export const createRedactor = (secrets: readonly string[]): ((text: string) => string) => {
  const values = [...new Set(secrets.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length)
  const encoded = values.flatMap((s) => [Buffer.from(s).toString("base64"), encodeURIComponent(s)])
  const all = [...values, ...encoded.filter((e) => !values.includes(e))]
  return (text) => {
    let out = text
    for (const secret of all) if (out.includes(secret)) out = out.split(secret).join("[redacted]")
    return (
      out
        .replace(/(authorization["']?\s*[:=]\s*["']?)(basic|bearer|token)\s+[^\s"',}]+/gi, "$1$2 [redacted]")
        // credentials in any URL (https://user:token@…, redis://:password@…, postgres://user:pw@…)
        .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]*:[^/\s@]+@/gi, "$1[redacted]@")
    )
  }
}

/** JSON lines on stderr (or `write`), one object per line, secrets scrubbed. */
export const createJsonLogger = (options: {
  level?: LogLevel
  secrets?: readonly string[]
  write?: (line: string) => void
  fields?: Record<string, unknown>
}): Logger => {
  const min = LEVELS[options.level ?? "info"]
  const redact = createRedactor(options.secrets ?? [])
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
