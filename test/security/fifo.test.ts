/**
 * Weakness 7: a FIFO in the checkout. Opening one for reading blocks until a writer appears; done on a
 * libuv thread (fs.readFile, fs.open), four of them occupy the whole default pool, and every later file
 * and DNS call of the process (other runs, the HTTP server's own work) waits forever. The editor's `view`
 * and the `search` tool must refuse a FIFO at once, and the process must keep answering meanwhile.
 */
import { execFile } from "node:child_process"
import { lookup } from "node:dns/promises"
import { mkdir, readFile, rm } from "node:fs/promises"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { searchWithRipgrep } from "#adapters/git/checkout-search.js"
import { createEditor } from "#application/agent/edit-tool.js"
import { searchCheckout, viewPath } from "#application/agent/read-only-tools.js"
import type { Checkout } from "#application/ports/workspace.js"
import { loadRepoConfig } from "#application/repo-config.js"
import { type CheckoutFixture, startCheckoutFixture } from "./checkout-fixture.js"

const exec = promisify(execFile)
const FIFOS = ["pipe-1", "pipe-2", "nested/pipe-3", "README.md"]

/** settles with the outcome or "timeout": a blocked read must fail the test, not hang it */
const within = <T>(ms: number, work: Promise<T>): Promise<{ ok: T } | { error: Error } | "timeout"> =>
  Promise.race([
    work.then(
      (ok) => ({ ok }),
      (error: Error) => ({ error }),
    ),
    new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), ms).unref()),
  ])

describe("attack: FIFOs in the checkout stall the worker's file and DNS work", () => {
  let fx: CheckoutFixture
  let co: Checkout
  let server: Server
  let healthUrl: string

  beforeAll(async () => {
    fx = await startCheckoutFixture({
      "README.md": "# readme\n",
      "src/a.ts": "export const needle = 1\n",
      "package.json": '{"scripts":{"test":"vitest"}}\n',
    })
    co = await fx.checkout("fifo")
    // what a setup command or the model's bash can do in the writable checkout
    await mkdir(path.join(co.root, "nested"), { recursive: true })
    await rm(path.join(co.root, "README.md"))
    await exec(
      "mkfifo",
      FIFOS.map((f) => path.join(co.root, f)),
    )
    server = createServer((req, res) => {
      // a real handler touches the file system too
      void readFile(path.join(co.root, "src/a.ts"), "utf8").then((text) =>
        res.end(req.url === "/healthz" && text.includes("needle") ? "ok" : "no"),
      )
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    healthUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`
  })

  afterAll(async () => {
    // a reader blocked in open() is released by a writer opening and closing the FIFO (O_RDWR never
    // blocks); this runs in a child, because the pool threads it would need may be the blocked ones
    if (co)
      await exec("sh", ["-c", 'for f; do exec 3<>"$f"; exec 3>&-; done', "sh", ...FIFOS], {
        cwd: co.root,
      }).catch(() => undefined)
    server?.close()
    await fx?.close()
  })

  it("view, read, stat and search refuse each FIFO quickly while /healthz and dns keep answering", async () => {
    const editor = createEditor({ checkout: co, removeFile: async () => undefined })
    const attempts = FIFOS.flatMap(
      (fifo): Array<Promise<unknown>> => [
        viewPath(co, fifo),
        editor.run({ command: "view", path: fifo }),
        co.readFile(fifo),
        searchCheckout(co, { pattern: "x", path: fifo }),
        editor.run({ command: "str_replace", path: fifo, old_str: "a", new_str: "b" }),
        co.writeFile(fifo, "written\n"),
      ],
    )
    const outcomes = await Promise.all(attempts.map((attempt) => within(5_000, attempt)))
    for (const outcome of outcomes) {
      expect(outcome).not.toBe("timeout")
      expect(outcome).toHaveProperty("error")
      const { error } = outcome as { error: Error }
      expect(error.message).toMatch(/FIFO|regular files|does not exist/)
    }

    // the process still does file, DNS and HTTP work
    const health = await within(
      3_000,
      fetch(healthUrl).then((r) => r.text()),
    )
    expect(health).toEqual({ ok: "ok" })
    expect(await within(3_000, lookup("localhost"))).toHaveProperty("ok")
    expect(await within(3_000, readFile(path.join(co.root, "src/a.ts"), "utf8"))).toEqual({
      ok: "export const needle = 1\n",
    })
  })

  it("stat names a FIFO as such; listing skips it; a search of the whole tree still finds the regular files", async () => {
    await expect(co.stat("pipe-1")).rejects.toThrow(/FIFO/)
    const listing = await within(5_000, co.listDir(".", 2))
    expect(listing).toHaveProperty("ok")
    const paths = (listing as { ok: Array<{ path: string }> }).ok.map((e) => e.path)
    expect(paths).toContain("src/a.ts")
    for (const fifo of FIFOS) expect(paths).not.toContain(fifo)
    const found = await within(10_000, co.search({ pattern: "needle", maxResults: 10 }))
    expect(found).toEqual({
      ok: { matches: [{ path: "src/a.ts", line: 1, text: "export const needle = 1" }], total: 1 },
    })
  })

  it("a FIFO swapped in after the path check stops ripgrep by the time limit, not forever", async () => {
    // what search() checked was a file; the FIFO is what ripgrep then opens
    const outcome = await within(
      5_000,
      searchWithRipgrep({ cwd: co.root, pattern: "x", path: "pipe-1", maxResults: 5, timeoutMs: 500 }),
    )
    expect(outcome).not.toBe("timeout")
    expect((outcome as { error: Error }).error.message).toMatch(/took longer than/)
  })

  it("repository configuration read from a FIFO is refused, not waited for", async () => {
    await exec("mkfifo", [path.join(co.root, ".prwright.yml")])
    const outcome = await within(5_000, loadRepoConfig(co))
    expect(outcome).not.toBe("timeout")
    expect(outcome).toHaveProperty("error")
    await rm(path.join(co.root, ".prwright.yml"))
  })
})
