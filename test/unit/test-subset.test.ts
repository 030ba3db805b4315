import { describe, expect, it } from "vitest"
import type { RepoConfig } from "#application/repo-config.js"
import { reportingCommand } from "#application/workflows/test-reports.js"
import { subsetCommand } from "#application/workflows/test-subset.js"

const detected = (ecosystem: RepoConfig["ecosystems"][number], test: string) => ({
  test,
  ecosystems: [ecosystem],
  source: { setup: "detected", test: "detected" },
})

describe("the change's tests as a subset of the test command", () => {
  it("names files, packages, integration tests or classes per runner", () => {
    expect(subsetCommand(detected("python", "python -m pytest -q"), ["tests/test_a.py"], undefined)).toBe(
      "python -m pytest -q 'tests/test_a.py'",
    )
    expect(subsetCommand(detected("node", "npm test"), ["test/a.test.js"], "node --test")).toBe(
      "node --test 'test/a.test.js'",
    )
    expect(subsetCommand(detected("node", "npm test"), ["test/a.test.js"], "vitest run")).toBeUndefined()
    expect(subsetCommand(detected("go", "go test ./..."), ["a_test.go", "pkg/x/b_test.go"], undefined)).toBe(
      "go test '.' './pkg/x'",
    )
    expect(subsetCommand(detected("rust", "cargo test"), ["tests/caps.rs"], undefined)).toBe(
      "cargo test --test 'caps'",
    )
    expect(subsetCommand(detected("rust", "cargo test"), ["src/lib.rs"], undefined)).toBeUndefined()
    expect(
      subsetCommand(detected("maven", "mvn -B -o -q test"), ["src/test/java/com/x/ATest.java"], undefined),
    ).toBe("mvn -B -o -q test -Dsurefire.failIfNoSpecifiedTests=false -Dtest='ATest'")
  })

  it("never rewrites a repository's own test command, and quotes what it passes", () => {
    const own = { ...detected("python", "make check"), source: { setup: "none", test: ".prwright.yml" } }
    expect(subsetCommand(own, ["tests/test_a.py"], undefined)).toBeUndefined()
    expect(
      subsetCommand(detected("python", "python -m pytest -q"), ["tests/it's; rm -rf.py"], undefined),
    ).toBe(`python -m pytest -q 'tests/it'"'"'s; rm -rf.py'`)
  })

  it("asks go test for JSON only for plain package arguments", () => {
    expect(reportingCommand("go test ./...", ["go"])).toContain("go test -json ./... > /tmp/")
    expect(reportingCommand("go test '.' './pkg/x'", ["go"])).toContain("go test -json '.' './pkg/x' > /tmp/")
    expect(reportingCommand("go test ./... && echo done", ["go"])).not.toContain("-json")
  })
})
