import { describe, expect, it } from "vitest"
import { createScrubber } from "#domain/secret-scrubber.js"

describe("the secret scrubber", () => {
  const secret = "ghp_topSecret/123+"

  it("masks a secret in its raw, base64 and URL-encoded forms", () => {
    const scrub = createScrubber([secret])
    const text = scrub(
      `raw ${secret} b64 ${Buffer.from(secret).toString("base64")} uri ${encodeURIComponent(secret)}`,
    )
    expect(text).toBe("raw [redacted] b64 [redacted] uri [redacted]")
  })

  it("masks the longer of two overlapping secrets whole", () => {
    expect(createScrubber(["abcd", "abcdefgh"])("x abcdefgh y")).toBe("x [redacted] y")
  })

  it("masks credential shapes it was not told about: Authorization values and URL user info", () => {
    const scrub = createScrubber([])
    expect(scrub("Authorization: Bearer sk-unknown")).toBe("Authorization: Bearer [redacted]")
    expect(scrub('{"authorization":"token abc123"}')).toBe('{"authorization":"token [redacted]"}')
    expect(scrub("AUTHORIZATION: opaque-value")).toBe("AUTHORIZATION: [redacted]")
    expect(scrub("fetch https://x-access-token:abc@github.com/o/r")).toBe(
      "fetch https://[redacted]@github.com/o/r",
    )
    expect(scrub("https://tokenonly@github.com/o/r")).toBe("https://[redacted]@github.com/o/r")
  })

  it("leaves short values and, when asked, credential-shaped text alone", () => {
    expect(createScrubber(["abc"])("abc")).toBe("abc")
    const forModel = createScrubber(["short1", "longer-secret"], { minLength: 8, credentialShapes: false })
    expect(forModel("short1 https://u:p@host/x longer-secret")).toBe("short1 https://u:p@host/x [redacted]")
    expect(createScrubber([], { credentialShapes: false })("nothing to hide")).toBe("nothing to hide")
  })
})
