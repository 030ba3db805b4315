/**
 * HEAD's version of a file rebuilt from `git diff HEAD` and the current content, against real git
 * diffs: edits in the middle and at both ends, several hunks, a missing final newline on either
 * side, added, deleted and emptied files. Verification and the proof of a fix depend on it.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { contentAtHead } from "#application/workflows/paths-at-head.js"
import { removesLines } from "#application/workflows/verify-change.js"

const dir = mkdtempSync(path.join(tmpdir(), "paths-at-head-"))
const git = (...args: string[]) =>
  execFileSync("git", ["-c", "user.email=t@e", "-c", "user.name=t", ...args], { cwd: dir }).toString()
git("init", "-q")
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
/** Commits `before`, writes `after` (undefined: deleted), and rebuilds `before` from the diff. */
const roundTrip = (before: string | undefined, after: string | undefined) => {
  const file = `f${n++}.txt`
  const full = path.join(dir, file)
  if (before !== undefined) {
    writeFileSync(full, before)
    git("add", file)
    git("commit", "-qm", file)
  }
  if (after === undefined) unlinkSync(full)
  else writeFileSync(full, after)
  git("add", "-N", file)
  const diff = git("diff", "--no-color", "--no-renames", "HEAD", "--", file)
  return { rebuilt: contentAtHead(diff, after).content, diff }
}

const lines = (count: number, prefix = "line") =>
  `${Array.from({ length: count }, (_, i) => `${prefix} ${i + 1}`).join("\n")}\n`

describe("contentAtHead", () => {
  const cases: Array<[string, string | undefined, string | undefined]> = [
    ["an edit in the middle", lines(20), lines(20).replace("line 10\n", "changed 10\nextra\n")],
    [
      "edits in two far-apart hunks",
      lines(40),
      lines(40).replace("line 2\n", "two\n").replace("line 38\n", ""),
    ],
    [
      "an edit of the first and last lines",
      lines(5),
      lines(5).replace("line 1\n", "first\n").replace("line 5\n", "last\n"),
    ],
    ["lines appended", lines(5), `${lines(5)}more\nand more\n`],
    ["the final newline removed", lines(5), lines(5).slice(0, -1)],
    ["the final newline added", lines(5).slice(0, -1), lines(5)],
    ["last line changed, no newline on either side", "a\nb", "a\nc"],
    ["a new file", undefined, "new\n"],
    ["a deleted file", lines(3), undefined],
    ["a file emptied", lines(3), ""],
    ["an empty file filled", "", lines(3)],
  ]
  for (const [name, before, after] of cases) {
    it(`rebuilds HEAD's version after ${name}`, () => {
      const { rebuilt, diff } = roundTrip(before, after)
      expect(rebuilt, diff).toBe(before)
    })
  }

  it("refuses a binary diff", () => {
    expect(() => contentAtHead("diff --git a/x b/x\nBinary files a/x and b/x differ\n", "x")).toThrow(
      /binary/,
    )
  })

  it("tells additions from edits of existing lines", () => {
    expect(removesLines(roundTrip(lines(5), `${lines(5)}added\n`).diff)).toBe(false)
    expect(removesLines(roundTrip(lines(5), lines(5).replace("line 3", "three")).diff)).toBe(true)
  })
})
