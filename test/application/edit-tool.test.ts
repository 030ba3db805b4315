import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeEach, describe, expect, it } from "vitest"
import { createEditor, type EditInput, type Editor } from "#application/agent/edit-tool.js"
import type { Checkout } from "#application/ports/workspace.js"
import { createTempCheckout } from "../doubles/temp-checkout.js"

const MATH = [
  "export function add(a, b) {",
  "  return Math.abs(a) + Math.abs(b)",
  "}",
  "",
  "export function sub(a, b) {",
  "  return Math.abs(a) - Math.abs(b)",
  "}",
  "",
].join("\n")

let workDir: string
let repo: string
let checkout: Checkout
let editor: Editor

const tempDirs: string[] = []
afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })))
})

beforeEach(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "prwright-edit-"))
  tempDirs.push(workDir)
  repo = path.join(workDir, "repo")
  await mkdir(path.join(workDir, "outside"), { recursive: true })
  await writeFile(path.join(workDir, "outside", "secret.txt"), "TOP-SECRET\n")
  await mkdir(repo)
  checkout = await createTempCheckout(repo, { "src/math.js": MATH, "README.md": "# calc\n" })
  await symlink(path.join(workDir, "outside"), path.join(repo, "link"))
  await symlink(path.join(workDir, "outside", "secret.txt"), path.join(repo, "evil.txt"))
  editor = createEditor({ checkout, removeFile: (file) => unlink(path.join(checkout.root, file)) })
})

const run = (input: Omit<EditInput, "path"> & { path: string }) => editor.run(input as EditInput)
const failure = (input: Omit<EditInput, "path"> & { path: string }) =>
  run(input).then(
    () => {
      throw new Error("expected the edit to fail")
    },
    (error: unknown) => (error as Error).message,
  )
const onDisk = (file: string) => readFile(path.join(repo, file), "utf8")

describe("str_replace", () => {
  it("replaces the one match and shows a numbered snippet around it", async () => {
    const result = await run({
      command: "str_replace",
      path: "./src/math.js",
      old_str: "  return Math.abs(a) + Math.abs(b)",
      new_str: "  return a + b",
    })
    expect(result.changed).toBe(true)
    expect(await onDisk("src/math.js")).toBe(MATH.replace("Math.abs(a) + Math.abs(b)", "a + b"))
    expect(result.output).toContain("Edited src/math.js")
    expect(result.output).toContain("     2\t  return a + b")
    expect(result.output).toContain("     1\texport function add(a, b) {")
    expect(result.output).toContain("     6\t  return Math.abs(a) - Math.abs(b)")
    expect(editor.editedPaths()).toEqual(["src/math.js"])
  })

  it("refuses zero matches, pointing at whitespace, and finds the lines when only indentation differs", async () => {
    const none = await failure({
      command: "str_replace",
      path: "src/math.js",
      old_str: "return a * b",
      new_str: "x",
    })
    expect(none).toContain("No match found for old_str in src/math.js")
    expect(none).toMatch(/whitespace and indentation.*view the file/)

    const indented = await failure({
      command: "str_replace",
      path: "src/math.js",
      old_str: "export function sub(a, b) {\nreturn Math.abs(a) - Math.abs(b)",
      new_str: "x",
    })
    expect(indented).toContain("matches lines 5-6 if whitespace at the start and end of lines is ignored")
    expect(await onDisk("src/math.js")).toBe(MATH)
    expect(editor.editedPaths()).toEqual([])
  })

  it("refuses two matches and says where they are", async () => {
    const message = await failure({
      command: "str_replace",
      path: "src/math.js",
      old_str: "Math.abs(a)",
      new_str: "a",
    })
    expect(message).toContain("old_str was found 2 times in src/math.js (lines 2, 6)")
    expect(message).toContain("Include more surrounding lines")
    expect(await onDisk("src/math.js")).toBe(MATH)
  })

  it("deletes old_str when new_str is omitted, and says what a missing parameter is", async () => {
    await run({
      command: "str_replace",
      path: "src/math.js",
      old_str: "\nexport function sub(a, b) {\n  return Math.abs(a) - Math.abs(b)\n}\n",
    })
    expect(await onDisk("src/math.js")).toBe(
      "export function add(a, b) {\n  return Math.abs(a) + Math.abs(b)\n}\n",
    )
    expect(await failure({ command: "str_replace", path: "src/math.js" })).toBe(
      "str_replace needs the old_str parameter",
    )
    expect(await failure({ command: "insert", path: "src/math.js", new_str: "x" })).toBe(
      "insert needs the insert_line parameter",
    )
  })
})

describe("insert, create and undo_edit", () => {
  it("inserts at the top, in the middle and at the end, and refuses a line past the end", async () => {
    await run({ command: "insert", path: "src/math.js", insert_line: 0, new_str: "// calc\n" })
    const middle = await run({
      command: "insert",
      path: "src/math.js",
      insert_line: 4,
      new_str: "// between\n// the two",
    })
    await run({ command: "insert", path: "src/math.js", insert_line: 10, new_str: "// end" })
    const lines = (await onDisk("src/math.js")).split("\n")
    expect(lines[0]).toBe("// calc")
    expect(lines.slice(3, 6)).toEqual(["}", "// between", "// the two"])
    expect(lines.slice(-2)).toEqual(["// end", ""])
    expect(middle.output).toContain("Inserted 2 line(s) into src/math.js after line 4")
    expect(middle.output).toContain("     5\t// between")
    expect(
      await failure({ command: "insert", path: "src/math.js", insert_line: 12, new_str: "x" }),
    ).toContain("insert_line 12 is outside src/math.js, which has 11 lines (use 0..11)")
  })

  it("creates new files, refuses to overwrite an existing one, and undoes edits in reverse order", async () => {
    const created = await run({
      command: "create",
      path: "src/util/format.js",
      file_text: "export const f = 1\n",
    })
    expect(created.output).toBe("Created src/util/format.js (1 lines).")
    expect(await failure({ command: "create", path: "README.md", file_text: "gone" })).toContain(
      "README.md already exists: create only makes new files",
    )
    expect(await onDisk("README.md")).toBe("# calc\n")

    await run({ command: "str_replace", path: "src/math.js", old_str: "add(a, b)", new_str: "plus(a, b)" })
    await run({ command: "str_replace", path: "src/math.js", old_str: "sub(a, b)", new_str: "minus(a, b)" })
    expect(editor.editedPaths()).toEqual(["src/math.js", "src/util/format.js"])

    const undone = await run({ command: "undo_edit", path: "src/math.js" })
    expect(undone.output).toContain("Undid the last edit of src/math.js")
    expect(await onDisk("src/math.js")).toBe(MATH.replace("add(a, b)", "plus(a, b)"))
    await run({ command: "undo_edit", path: "src/math.js" })
    expect(await onDisk("src/math.js")).toBe(MATH)
    expect(await failure({ command: "undo_edit", path: "src/math.js" })).toBe(
      "there is no edit of src/math.js in this run to undo",
    )

    const uncreated = await run({ command: "undo_edit", path: "src/util/format.js" })
    expect(uncreated.output).toContain("the file is removed")
    expect(await checkout.stat("src/util/format.js")).toBeUndefined()
    expect(editor.editedPaths()).toEqual([])
  })
})

describe("confinement", () => {
  it.each([
    ["create outside", { command: "create", path: "../outside/new.txt", file_text: "x" }],
    ["create absolute", { command: "create", path: "/tmp/prwright-escape.txt", file_text: "x" }],
    ["create through a symlinked directory", { command: "create", path: "link/new.txt", file_text: "x" }],
    [
      "edit through a symlinked file",
      { command: "str_replace", path: "evil.txt", old_str: "TOP", new_str: "x" },
    ],
    ["view through a symlinked directory", { command: "view", path: "link/secret.txt" }],
  ] as const)("refuses to %s", async (_, input) => {
    const message = await failure(input as unknown as EditInput)
    expect(message).toMatch(/outside the checkout|is absolute/)
    expect(message).not.toContain("TOP-SECRET")
    expect(await readFile(path.join(workDir, "outside", "secret.txt"), "utf8")).toBe("TOP-SECRET\n")
    await expect(readFile(path.join(workDir, "outside", "new.txt"), "utf8")).rejects.toThrow()
    expect(editor.editedPaths()).toEqual([])
  })
})
