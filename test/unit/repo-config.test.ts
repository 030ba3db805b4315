import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import type { Checkout } from "#application/ports/workspace.js"
import { loadRepoConfig, parseRepoFileConfig } from "#application/repo-config.js"
import { ValidationError } from "#domain/errors.js"

let dir: string
const checkoutOf = async (files: Record<string, string>): Promise<Checkout> => {
  dir = await mkdtemp(path.join(tmpdir(), "repo-config-"))
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true })
    await writeFile(path.join(dir, name), content)
  }
  const unused = async (): Promise<never> => {
    throw new Error("not used in this test")
  }
  return {
    root: dir,
    mounts: { readOnly: [], writable: [] },
    headSha: "0".repeat(40),
    baseSha: "0".repeat(40),
    ref: "main",
    committedChanges: unused,
    stat: async (p) => {
      try {
        const s = await stat(path.join(dir, p))
        return { kind: s.isDirectory() ? "dir" : "file", size: s.size }
      } catch {
        return undefined
      }
    },
    readFile: (p) => readFile(path.join(dir, p), "utf8"),
    listDir: unused,
    search: unused,
    writeFile: unused,
    status: unused,
    diff: unused,
    commit: unused,
    push: unused,
    dispose: async () => {},
  }
}
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe("repository config", () => {
  it("detects npm ci with a lockfile and npm test when a test script exists", async () => {
    const config = await loadRepoConfig(
      await checkoutOf({
        "package.json": JSON.stringify({ scripts: { test: "vitest run" }, devDependencies: { vitest: "1" } }),
        "package-lock.json": "{}",
      }),
    )
    expect(config).toMatchObject({
      setup: "npm ci --no-audit --no-fund",
      test: "npm test",
      branchPrefix: "prwright/",
    })
    expect(config.source).toEqual({ setup: "detected", test: "detected" })
  })

  it("installs without writing a lockfile when there is none, and skips npm's placeholder test script", async () => {
    const config = await loadRepoConfig(
      await checkoutOf({
        "package.json": JSON.stringify({
          scripts: { test: 'echo "Error: no test specified" && exit 1' },
          dependencies: { x: "1" },
        }),
      }),
    )
    expect(config.setup).toBe("npm install --no-package-lock --no-audit --no-fund")
    expect(config.test).toBeUndefined()
  })

  it("detects python and make projects", async () => {
    const python = await loadRepoConfig(await checkoutOf({ "pyproject.toml": "[project]\nname='x'\n" }))
    // into a venv in the run's HOME, never the system Python (PEP 668)
    expect(python.setup).toContain('python3 -m venv "$VIRTUAL_ENV"')
    expect(python.setup).toContain("pip install -q -e .")
    expect(python.test).toBe("python -m pytest -q")
    expect(python.ecosystems).toEqual(["python"])
    expect(
      (await loadRepoConfig(await checkoutOf({ Makefile: "build:\n\ttrue\ntest:\n\ttrue\n" }))).test,
    ).toBe("make test")
  })

  it("detects Go, Rust, Maven and Ruby, with setup that fills the run's caches", async () => {
    const go = await loadRepoConfig(await checkoutOf({ "go.mod": "module x\n" }))
    expect(go).toMatchObject({ setup: "go mod download", test: "go test ./...", ecosystems: ["go"] })
    const rust = await loadRepoConfig(await checkoutOf({ "Cargo.toml": "[package]\nname='x'\n" }))
    expect(rust).toMatchObject({ setup: "cargo fetch", test: "cargo test", ecosystems: ["rust"] })
    const maven = await loadRepoConfig(await checkoutOf({ "pom.xml": "<project/>" }))
    expect(maven.setup).toContain("mvn -B -q dependency:go-offline")
    expect(maven.test).toBe("mvn -B -o -q test")
    const ruby = await loadRepoConfig(
      await checkoutOf({ Gemfile: "source 'https://rubygems.org'\n", "spec/a_spec.rb": "" }),
    )
    expect(ruby).toMatchObject({ setup: "bundle install", test: "bundle exec rspec", ecosystems: ["ruby"] })
  })

  it("accepts any positive maxSteps and maxCostUsd (the run applies the operator's when lower)", () => {
    expect(parseRepoFileConfig("maxSteps: 100000\nmaxCostUsd: 1000\n")).toEqual({
      maxSteps: 100000,
      maxCostUsd: 1000,
    })
    expect(() => parseRepoFileConfig("maxSteps: 0\n")).toThrow(/maxSteps/)
    expect(parseRepoFileConfig("fixCi: true\n")).toEqual({ fixCi: true })
    expect(() => parseRepoFileConfig("fixCi: sometimes\n")).toThrow(/fixCi/)
  })

  it(".prwright.yml wins over detection", async () => {
    const config = await loadRepoConfig(
      await checkoutOf({
        "package.json": JSON.stringify({ scripts: { test: "jest" } }),
        ".prwright.yml":
          "setup: make deps\ntest: make check\nbranchPrefix: bots/\nmaxSteps: 12\nmaxCostUsd: 0.5\n",
      }),
    )
    expect(config).toMatchObject({
      setup: "make deps",
      test: "make check",
      branchPrefix: "bots/",
      maxSteps: 12,
      maxCostUsd: 0.5,
    })
    expect(config.source).toEqual({ setup: ".prwright.yml", test: ".prwright.yml" })
  })

  it("names the bad key or value in .prwright.yml", () => {
    expect(() => parseRepoFileConfig("maxSteps: lots\n")).toThrow(/\.prwright\.yml maxSteps/)
    expect(() => parseRepoFileConfig("tests: npm test\n")).toThrow(ValidationError)
    expect(() => parseRepoFileConfig("tests: npm test\n")).toThrow(/allowed keys/)
    expect(() => parseRepoFileConfig("setup: [unclosed\n")).toThrow(/not valid YAML/)
  })
})
