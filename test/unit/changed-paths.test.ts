import { describe, expect, it } from "vitest"
import { changedPaths } from "#application/changed-paths.js"
import type { FileChange } from "#application/ports/workspace.js"

const status = (...paths: string[]): FileChange[] =>
  paths.map((path) => ({ path, kind: "modified" as const }))

describe("changedPaths: what a run would commit", () => {
  it("keeps every changed path but what setup left behind, unless the model edited it", () => {
    const residue = new Set(["package-lock.json", "dist/index.js"])
    expect(
      changedPaths(
        status("src/a.js", "package-lock.json", "dist/index.js", "new.txt"),
        ["package-lock.json"],
        residue,
      ),
    ).toEqual(["new.txt", "package-lock.json", "src/a.js"])
  })

  it("drops an edited path that no longer differs from HEAD, and sorts without repeats", () => {
    expect(changedPaths(status("b.js", "a.js"), ["reverted.js", "a.js", "a.js"])).toEqual(["a.js", "b.js"])
    expect(changedPaths([], ["reverted.js"])).toEqual([])
  })
})
