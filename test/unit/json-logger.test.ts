import { describe, expect, it } from "vitest"
import { createJsonLogger } from "#adapters/log/json-logger.js"
import { createScrubber } from "#domain/secret-scrubber.js"

describe("json logger", () => {
  it("writes one JSON object per line with level, message and fields, filtered by level", () => {
    const lines: string[] = []
    const logger = createJsonLogger({ level: "info", write: (l) => lines.push(l) })
    logger.debug("hidden")
    logger.child({ jobId: "j1" }).info("started", { attempt: 2 })
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: "info",
      msg: "started",
      jobId: "j1",
      attempt: 2,
    })
  })

  it("scrubs secrets, their base64 and URL-encoded forms, and credential headers", () => {
    const secret = "ghp_topSecret/123+"
    const lines: string[] = []
    const logger = createJsonLogger({ secrets: [secret], write: (l) => lines.push(l) })
    logger.error(`git failed with ${secret}`, {
      header: `Authorization: Basic ${Buffer.from(`x-access-token:${secret}`).toString("base64")}`,
      basic: Buffer.from(secret).toString("base64"),
      url: `https://x:${encodeURIComponent(secret)}@github.com/o/r`,
      other: "Authorization: Bearer sk-unknown-to-the-logger",
    })
    const text = lines.join("\n")
    expect(text).not.toContain(secret)
    expect(text).not.toContain(Buffer.from(secret).toString("base64"))
    expect(text).not.toContain(encodeURIComponent(secret))
    expect(text).not.toContain("sk-unknown-to-the-logger")
    expect(text).toContain("[redacted]")
  })

  it("leaves text without secrets alone", () => {
    expect(createScrubber(["abcd1234"])("nothing to hide")).toBe("nothing to hide")
  })
})

describe("json logger on pino", () => {
  it("drops credential-named fields at any depth and logs errors without their stack", () => {
    const lines: string[] = []
    const logger = createJsonLogger({ write: (l) => lines.push(l), fields: { pid: 7 } })
    logger.child({ runId: "r1" }).warn("request failed", {
      headers: { authorization: "Bearer unknown-credential-123" },
      request: { password: "hunter2-unlisted" },
      token: "tok-unlisted-456",
      error: new Error("boom"),
    })
    expect(lines).toHaveLength(1)
    const line = lines[0] as string
    const entry = JSON.parse(line) as Record<string, unknown>
    expect(entry).toMatchObject({ level: "warn", msg: "request failed", pid: 7, runId: "r1" })
    expect(entry.error).toEqual({ name: "Error", message: "boom" })
    expect(typeof entry.time).toBe("string")
    for (const secret of ["unknown-credential-123", "hunter2-unlisted", "tok-unlisted-456"])
      expect(line).not.toContain(secret)
    expect(line).not.toContain("at ")
  })
})
