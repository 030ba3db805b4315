/**
 * Weakness 3, reads and writes: files the host later reads or writes (the editor's view and edits, the
 * repository's configuration, diff and commit) where a sandboxed command planted symlinks — at the file,
 * at a parent directory, or swapped in after the path was checked.
 */
import { mkdir, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createPathGuard } from "#adapters/git/checkout-paths.js"
import { openForRead, writeConfined } from "#adapters/git/confined-fs.js"
import { viewPath } from "#application/agent/read-only-tools.js"
import type { Checkout } from "#application/ports/workspace.js"
import { loadRepoConfig } from "#application/repo-config.js"
import { ValidationError } from "#domain/errors.js"
import { type CheckoutFixture, startCheckoutFixture } from "./checkout-fixture.js"

describe("attack: symlinks planted in the checkout steer the host's reads and writes", () => {
  let fx: CheckoutFixture
  let co: Checkout

  beforeAll(async () => {
    fx = await startCheckoutFixture({
      "README.md": "# target\n",
      "docs/guide.md": "guide\n",
      "data/file.txt": "inside\n",
    })
    co = await fx.checkout("reads", "prwright/reads")
  })
  afterAll(async () => fx?.close())

  it("a file symlinked to a host secret is refused by view, read, the repository config and diff", async () => {
    await symlink(fx.secretFile, path.join(co.root, "notes.md"))
    await symlink(fx.secretFile, path.join(co.root, ".prwright.yml"))
    await expect(viewPath(co, "notes.md")).rejects.toBeInstanceOf(ValidationError)
    await expect(co.readFile("notes.md")).rejects.toThrow(/outside the repository/)
    const config = await loadRepoConfig(co).then(
      () => "loaded",
      (error: Error) => error.message,
    )
    expect(config).not.toContain(fx.secret)
    expect(config).toMatch(/outside the repository/)
    // git stores a symlink as its target's path: the diff never holds the host file's content
    const diff = await co.diff()
    expect(diff).toContain("notes.md")
    expect(diff).not.toContain(fx.secret)
    await rm(path.join(co.root, "notes.md"))
    await rm(path.join(co.root, ".prwright.yml"))
  })

  it("a parent directory symlinked outside is refused for reads and writes, and nothing lands outside", async () => {
    await rm(path.join(co.root, "docs"), { recursive: true })
    await symlink(fx.outside, path.join(co.root, "docs"))
    await expect(co.readFile("docs/secret.key")).rejects.toBeInstanceOf(ValidationError)
    await expect(co.writeFile("docs/planted.txt", "x")).rejects.toBeInstanceOf(ValidationError)
    await expect(co.writeFile("docs/secret.key", "clobbered")).rejects.toBeInstanceOf(ValidationError)
    await expect(co.search({ pattern: "host-secret", path: "docs", maxResults: 5 })).rejects.toBeInstanceOf(
      ValidationError,
    )
    expect((await readdir(fx.outside)).sort()).toEqual(["secret.key"])
    expect(await readFile(fx.secretFile, "utf8")).toBe(`${fx.secret}\n`)
    await rm(path.join(co.root, "docs"))
    await mkdir(path.join(co.root, "docs"))
  })

  it("a search of the whole tree never follows a symlink out of it", async () => {
    await symlink(fx.outside, path.join(co.root, "linked-dir"))
    await symlink(fx.secretFile, path.join(co.root, "linked-file"))
    const result = await co.search({ pattern: "host-secret", maxResults: 5 })
    expect(result.total).toBe(0)
    await rm(path.join(co.root, "linked-dir"))
    await rm(path.join(co.root, "linked-file"))
  })

  it("a symlink swapped in after the path check (file or parent) is refused on the open handle", async () => {
    const guard = createPathGuard(co.root)
    // the file itself, swapped between check and open: O_NOFOLLOW refuses it
    const file = await guard("data/file.txt")
    await rename(path.join(co.root, "data/file.txt"), path.join(co.root, "data/moved.txt"))
    await symlink(fx.secretFile, path.join(co.root, "data/file.txt"))
    await expect(openForRead({ root: co.root, real: file.real, input: "data/file.txt" })).rejects.toThrow(
      /symlink/,
    )
    await expect(
      writeConfined({ root: co.root, real: file.real, input: "data/file.txt" }, "clobbered"),
    ).rejects.toThrow(/symlink/)
    expect(await readFile(fx.secretFile, "utf8")).toBe(`${fx.secret}\n`)
    await rm(path.join(co.root, "data/file.txt"))
    await rename(path.join(co.root, "data/moved.txt"), path.join(co.root, "data/file.txt"))

    // the parent, swapped for a link to a host directory holding a file of the same name
    await writeFile(path.join(fx.outside, "file.txt"), "outside\n")
    const parentSwapped = await guard("data/file.txt")
    const created = await guard("data/new.txt")
    await rename(path.join(co.root, "data"), path.join(co.root, "data-moved"))
    await symlink(fx.outside, path.join(co.root, "data"))
    await expect(
      openForRead({ root: co.root, real: parentSwapped.real, input: "data/file.txt" }),
    ).rejects.toThrow(/outside the repository/)
    await expect(
      writeConfined({ root: co.root, real: parentSwapped.real, input: "data/file.txt" }, "clobbered"),
    ).rejects.toThrow(/outside the repository/)
    await expect(
      writeConfined({ root: co.root, real: created.real, input: "data/new.txt" }, "planted"),
    ).rejects.toThrow(/outside the repository/)
    expect(await readFile(path.join(fx.outside, "file.txt"), "utf8")).toBe("outside\n")
    expect((await readdir(fx.outside)).sort()).toEqual(["file.txt", "secret.key"])
    expect(await readFile(fx.secretFile, "utf8")).toBe(`${fx.secret}\n`)
    await rm(path.join(co.root, "data"))
    await rename(path.join(co.root, "data-moved"), path.join(co.root, "data"))
    await rm(path.join(fx.outside, "file.txt"))
  })

  it("the repository's configuration is read with a size cap, before any parsing", async () => {
    await writeFile(path.join(co.root, ".prwright.yml"), `# ${"x".repeat(100 * 1024)}\nsetup: echo hi\n`)
    await expect(loadRepoConfig(co)).rejects.toThrow(/at most 64 KiB/)
    await rm(path.join(co.root, ".prwright.yml"))
  })

  it("symlinks that stay inside the checkout still work for reads and edits", async () => {
    await symlink("README.md", path.join(co.root, "README-link.md"))
    expect(await co.readFile("README-link.md")).toBe("# target\n")
    await co.writeFile("README-link.md", "# edited through the link\n")
    expect(await co.readFile("README.md")).toBe("# edited through the link\n")
    await rm(path.join(co.root, "README-link.md"))
  })
})
