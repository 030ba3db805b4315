/**
 * Weakness 3, parking: a disposed run's tree is parked for reuse, and parking used to rewrite `<tree>/.git`
 * with a plain writeFile. A sandboxed command that replaced `.git` with a symlink made the worker write
 * `gitdir: …` into whatever host file the link named (the key file, the database, `/etc/…` as root).
 */
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type CheckoutFixture, startCheckoutFixture } from "./checkout-fixture.js"

describe("attack: a symlinked .git clobbers a host file when the tree is parked or reused", () => {
  let fx: CheckoutFixture

  beforeAll(async () => {
    fx = await startCheckoutFixture({ "README.md": "# target\n", "src/a.ts": "export const a = 1\n" })
  })
  afterAll(async () => fx?.close())

  it("parking a tree whose .git is a symlink to a host file leaves that file untouched", async () => {
    const co = await fx.checkout("park-symlink", "prwright/park-symlink")
    // what a repository command in the sandbox can do: the checkout is writable
    await rm(path.join(co.root, ".git"))
    await symlink(fx.secretFile, path.join(co.root, ".git"))
    await co.dispose()
    expect(await readFile(fx.secretFile, "utf8")).toBe(`${fx.secret}\n`)

    // the parked tree is reused by the next checkout: still a working, ordinary checkout
    const next = await fx.checkout("park-symlink-next")
    expect(await readFile(fx.secretFile, "utf8")).toBe(`${fx.secret}\n`)
    expect(await next.readFile("README.md")).toBe("# target\n")
    expect(await next.status()).toEqual([])
    await next.dispose()
  })

  it("a .git symlink to a directory, a .git directory and a dangling .git link are all replaced, never followed", async () => {
    const victimDir = path.join(fx.outside, "victim-dir")
    await mkdir(victimDir)
    await writeFile(path.join(victimDir, "keep"), "keep\n")
    const dangling = path.join(fx.outside, "created-by-follow")

    const a = await fx.checkout("park-dir-link")
    await rm(path.join(a.root, ".git"))
    await symlink(victimDir, path.join(a.root, ".git"))
    await a.dispose()

    const b = await fx.checkout("park-dangling-link")
    await rm(path.join(b.root, ".git"))
    await symlink(dangling, path.join(b.root, ".git"))
    await b.dispose()

    const c = await fx.checkout("park-git-dir")
    await rm(path.join(c.root, ".git"))
    await mkdir(path.join(c.root, ".git", "hooks"), { recursive: true })
    await writeFile(path.join(c.root, ".git", "config"), "[core]\n\tfsmonitor = touch /tmp/never\n")
    await c.dispose()

    expect(await readFile(path.join(victimDir, "keep"), "utf8")).toBe("keep\n")
    await expect(readFile(dangling)).rejects.toMatchObject({ code: "ENOENT" })
    expect(await readFile(fx.secretFile, "utf8")).toBe(`${fx.secret}\n`)

    // all three parked trees come back as clean checkouts (or fresh ones): nothing the sandbox left survives
    for (const id of ["reuse-1", "reuse-2", "reuse-3"]) {
      const co = await fx.checkout(id)
      expect(await co.status()).toEqual([])
      expect((await readFile(path.join(co.root, ".git"), "utf8")).startsWith("gitdir: ")).toBe(true)
      await co.dispose()
    }
    expect(await readFile(path.join(victimDir, "keep"), "utf8")).toBe("keep\n")
    await expect(readFile(dangling)).rejects.toMatchObject({ code: "ENOENT" })
  })
})
