/**
 * The run's HOME and /tmp on the host. Sandboxed commands write there, so the host reads back only
 * a regular file directly in /tmp: a symlink to a host secret, a FIFO (which would block a read
 * forever) or a directory is not read; read-only directories (Go's module cache) are removed too.
 */
import { execFileSync } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { createRunDirs } from "#adapters/scratch/run-dirs.js"

const base = mkdtempSync(path.join(tmpdir(), "run-dirs-"))
afterAll(() => rmSync(base, { recursive: true, force: true }))

describe("run dirs", () => {
  it("makes a private HOME and /tmp per run and removes them, read-only directories included", async () => {
    const dirs = await createRunDirs({ baseDir: base })("run/1 x")
    expect(existsSync(dirs.home) && existsSync(dirs.tmp)).toBe(true)
    expect(path.dirname(dirs.home)).toBe(path.dirname(dirs.tmp))
    const locked = path.join(dirs.home, "go/pkg/mod/example.com@v1")
    mkdirSync(locked, { recursive: true })
    writeFileSync(path.join(locked, "a.go"), "package a\n")
    chmodSync(locked, 0o555)
    await dirs.dispose()
    expect(existsSync(path.dirname(dirs.home))).toBe(false)
  })

  it("removes what a dead worker left behind, once it is older than any run", async () => {
    const stale = await createRunDirs({ baseDir: base })("dead-run")
    const day = 24 * 3600_000
    await createRunDirs({ baseDir: base, now: () => Date.now() + day })("next-run")
    expect(existsSync(stale.home)).toBe(true)
    const later = await createRunDirs({ baseDir: base, now: () => Date.now() + 3 * day })("later-run")
    expect(existsSync(stale.home)).toBe(false)
    await later.dispose()
  })

  it("reads back a regular file in /tmp, and nothing a command could have planted instead", async () => {
    const dirs = await createRunDirs({ baseDir: base })("run-2")
    const secret = path.join(base, "secret.txt")
    writeFileSync(secret, "host secret")
    writeFileSync(path.join(dirs.tmp, "report.xml"), "<testsuites/>")
    symlinkSync(secret, path.join(dirs.tmp, "link.xml"))
    execFileSync("mkfifo", [path.join(dirs.tmp, "fifo.xml")])
    mkdirSync(path.join(dirs.tmp, "dir.xml"))
    writeFileSync(path.join(dirs.tmp, "big.xml"), "x".repeat(2000))
    expect(await dirs.readTmpFile("report.xml", 1000)).toBe("<testsuites/>")
    expect(await dirs.readTmpFile("link.xml", 1000)).toBeUndefined()
    expect(await dirs.readTmpFile("fifo.xml", 1000)).toBeUndefined()
    expect(await dirs.readTmpFile("dir.xml", 1000)).toBeUndefined()
    expect(await dirs.readTmpFile("big.xml", 1000)).toBeUndefined()
    expect(await dirs.readTmpFile("missing.xml", 1000)).toBeUndefined()
    await expect(dirs.readTmpFile("../secret.txt", 1000)).rejects.toThrow(/plain name/)
    await dirs.removeTmpFile("link.xml")
    expect(existsSync(secret)).toBe(true)
    await dirs.dispose()
  })
})
