/**
 * `prwright demo`, browserless, end to end: no key, no network (the child gets no GitHub or LLM
 * variables), a plan and a pull request on the stand-in GitHub, printed with where to look.
 * The CLI is the built one (bin/prwright.js → dist/), as after `npm ci` (which builds in "prepare").
 */
import { execFile, spawn } from "node:child_process"
import path from "node:path"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"

const ROOT = path.resolve(import.meta.dirname, "../..")

describe("prwright demo", () => {
  it("plans and resolves the sample issue with a PR, with no keys and no network, in under two minutes", async () => {
    // what `npm ci` leaves: the "prepare" script builds dist/ when it is missing or stale
    await promisify(execFile)(process.execPath, [path.join(ROOT, "scripts/build-if-needed.js")], {
      cwd: ROOT,
    })
    const started = Date.now()
    const child = spawn(process.execPath, [path.join(ROOT, "bin/prwright.js"), "demo", "--no-keep"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" },
      stdio: ["ignore", "pipe", "pipe"],
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString()
    })
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve))
    expect(code, `${out}\n${err}`).toBe(0)
    expect(Date.now() - started).toBeLessThan(120_000)
    expect(out).toMatch(/1\. prwright plan demo\/mathlib#1 --wait/)
    expect(out).toMatch(/● completed/)
    expect(out).toMatch(/verifying: npm test/)
    expect(out).toMatch(/the pull request +#\d+ "Make clamp\(\) respect the upper bound"/)
    expect(out).toContain("+  return Math.min(high, Math.max(low, value))")
    expect(out).toMatch(/The demo worked/)
    // human output on stdout only: no JSON log line mixed into it
    expect(out.split("\n").filter((line) => line.startsWith('{"'))).toEqual([])
  }, 180_000)
})
