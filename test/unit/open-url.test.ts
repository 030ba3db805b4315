/** The demo's browser opener: used when present, never an error when absent. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { browserOpener, openUrl } from "#entrypoints/cli/open-url.js"

describe("openUrl", () => {
  it("finds xdg-open (Linux) or open (macOS) on PATH, and nothing on an empty PATH", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "prwright-opener-"))
    try {
      for (const name of ["xdg-open", "open"]) {
        writeFileSync(path.join(dir, name), "#!/bin/sh\nexit 0\n")
        chmodSync(path.join(dir, name), 0o755)
      }
      expect(browserOpener("linux", dir)?.command).toBe("xdg-open")
      expect(browserOpener("darwin", dir)?.command).toBe("open")
      expect(browserOpener("linux", "")).toBeUndefined()
      expect(openUrl("http://127.0.0.1:1/runs/x", { platform: "linux", envPath: dir })).toBe("xdg-open")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("never fails without an opener", () => {
    expect(openUrl("http://127.0.0.1:1/", { platform: "linux", envPath: "/nonexistent" })).toBeUndefined()
  })
})
