import type { Config } from "#main/config.js"
import type { SetupCheck } from "./ui-schemas.js"

/**
 * The `prwright doctor` checks as data for the setup page: doctor prints one line per check
 * (`✓|!|✗ name detail`, secrets already redacted); each line becomes a check, and a line that does
 * not follow that shape is kept whole rather than dropped.
 */
export const doctorChecks = async (config: Config): Promise<SetupCheck[]> => {
  const { runDoctor } = await import("../doctor.js")
  const lines: string[] = []
  await runDoctor(config, { write: (line) => lines.push(line) })
  return lines.map((line) => {
    const match = /^(✓|!|✗)\s+(\S+)\s+(.*)$/s.exec(line)
    if (!match) return { name: "doctor", ok: "warn", detail: line }
    const ok = match[1] === "✓" ? "ok" : match[1] === "!" ? "warn" : "fail"
    return { name: match[2] ?? "", ok, detail: match[3] ?? "" }
  })
}

/** GitHub's web address for an API base URL: api.github.com → github.com, GHES …/api/v3 → its host. */
export const githubWebUrl = (apiUrl: string): string => {
  const url = new URL(apiUrl)
  if (url.hostname === "api.github.com") return "https://github.com"
  return `${url.origin}${url.pathname.replace(/\/api\/v3\/?$/, "").replace(/\/+$/, "")}`
}
