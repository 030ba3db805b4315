/**
 * `prwright demo`, browserless, end to end: no key, no network (the child gets no GitHub or LLM
 * variables), a plan and a pull request on the stand-in GitHub, printed with where to look.
 * The CLI is the built one (bin/prwright.js → dist/), as after `npm ci` (which builds in "prepare").
 * After the runs it keeps serving and opens the UI on the finished run: a stand-in `xdg-open` on PATH
 * records what it was asked to open, and the printed run URL is fetched (it serves the UI).
 */
import { execFile, spawn } from "node:child_process"
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
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
    // a stand-in browser opener: it only writes down the URL it was given
    const bin = await mkdtemp(path.join(tmpdir(), "prwright-demo-opener-"))
    const opened = path.join(bin, "opened.txt")
    await writeFile(path.join(bin, "xdg-open"), `#!/bin/sh\necho "$@" >> "${opened}"\n`)
    await chmod(path.join(bin, "xdg-open"), 0o755)
    const started = Date.now()
    const child = spawn(process.execPath, [path.join(ROOT, "bin/prwright.js"), "demo"], {
      cwd: ROOT,
      env: {
        PATH: `${bin}${path.delimiter}${process.env.PATH ?? "/usr/bin:/bin"}`,
        HOME: process.env.HOME ?? "/tmp",
      },
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
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve))
    let gone = false
    void exited.then(() => {
      gone = true
    })
    // it keeps serving after the runs: wait for that, then look at the UI it points to
    while (!/Serving on /.test(out) && !gone) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(gone, `${out}\n${err}`).toBe(false)
    expect(Date.now() - started).toBeLessThan(120_000)
    const runUrl = /The finished run in the web UI: (http:\/\/127\.0\.0\.1:\d+\/runs\/\S+)/.exec(out)?.[1]
    expect(runUrl, out).toBeDefined()
    expect(out).toContain("opened with xdg-open")
    const page = await fetch(runUrl!)
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toMatch(/text\/html/)
    expect(await page.text()).toMatch(/<div id="root">|<script type="module"/)
    // the opener ran detached: give it a moment to write
    for (let i = 0; i < 50 && !(await readFile(opened, "utf8").catch(() => "")); i++)
      await new Promise((resolve) => setTimeout(resolve, 100))
    expect((await readFile(opened, "utf8")).trim()).toBe(runUrl)
    child.kill("SIGTERM")
    const code = await exited
    await rm(bin, { recursive: true, force: true })
    expect(code, `${out}\n${err}`).toBe(0)
    expect(out).toMatch(/1\. prwright plan demo\/mathlib#1 --wait/)
    expect(out).toMatch(/● completed/)
    expect(out).toMatch(/verifying/)
    expect(out).toMatch(/tests after: npm test → 0 failed, 3 passed/)
    expect(out).toMatch(/the pull request +#\d+ "Make clamp\(\) respect the upper bound"/)
    expect(out).toContain("+  return Math.min(high, Math.max(low, value))")
    expect(out).toMatch(/The demo worked/)
    // human output on stdout only: no JSON log line mixed into it
    expect(out.split("\n").filter((line) => line.startsWith('{"'))).toEqual([])
  }, 180_000)
})
