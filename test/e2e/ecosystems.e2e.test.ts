/**
 * Each ecosystem end to end, without a `.prwright.yml`: detected setup on the setup network
 * (packages from the real registry into the run's HOME: a venv, Go's module cache, ~/.cargo, ~/.m2,
 * npm's cache and node_modules), then baseline, the scripted agent's edits and test runs, and
 * verification all offline in the bwrap sandbox; the PR holds the fix and its new test, and shows
 * the test failing on the old code and passing on the change.
 */
import { execFileSync } from "node:child_process"
import { lookup } from "node:dns/promises"
import { existsSync } from "node:fs"
import { afterEach, describe, expect, it } from "vitest"
import { createBwrapSandbox } from "#adapters/sandbox/bwrap-sandbox.js"
import { SYSTEM_PATH } from "#adapters/sandbox/sandbox-limits.js"
import { DEFAULT_SETUP_ALLOW } from "#adapters/sandbox/setup-egress.js"
import { bwrapWorks } from "../support/bwrap.js"
import { ECOSYSTEM_ISSUE, ECOSYSTEMS, type EcosystemCase } from "../support/ecosystem-repos.js"
import { type Harness, startHarness } from "../support/resolve-harness.js"

/** A toolchain outside /usr (rustup's) must be mounted into the sandbox and put on its PATH. */
const RUST_TOOLCHAIN = "/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu"
const extraPaths = existsSync(RUST_TOOLCHAIN) ? [RUST_TOOLCHAIN] : []
const sandboxPath = [SYSTEM_PATH, ...extraPaths.map((dir) => `${dir}/bin`), "/usr/local/go/bin"].join(":")

const missing = (needs: string[]): string[] =>
  needs.filter((tool) => {
    try {
      execFileSync("bash", ["-c", `PATH=${sandboxPath} command -v ${tool}`], { stdio: "ignore" })
      return false
    } catch {
      return true
    }
  })

/**
 * Where the registries resolve to a non-public address (a CI egress gateway that answers for every
 * name, as on the machines these tests run on), the operator vouches for it with
 * PRWRIGHT_SETUP_ALLOW_NETWORKS; the test does the same with that address alone.
 */
const gatewayNetworks = async (): Promise<string[]> => {
  const networks = new Set<string>()
  for (const host of DEFAULT_SETUP_ALLOW) {
    try {
      for (const { address, family } of await lookup(host, { all: true })) {
        if (
          !/^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.|198\.(1[89])\.|192\.0\.2\.|198\.51\.100\.|203\.0\.113\.)/.test(
            address,
          )
        )
          continue
        networks.add(`${address}/${family === 6 ? 128 : 32}`)
      }
    } catch {}
  }
  return [...networks]
}

const probeFails = (probe: EcosystemCase["probe"]): string[] => {
  if (!probe) return []
  try {
    execFileSync("bash", ["-c", `PATH=${sandboxPath} ${probe.command}`], { stdio: "ignore" })
    return []
  } catch {
    return [probe.missing]
  }
}

for (const ecosystem of ECOSYSTEMS) {
  const absent = [
    ...missing(ecosystem.needs),
    ...(missing(ecosystem.needs).length === 0 ? probeFails(ecosystem.probe) : []),
  ]
  const skip = !bwrapWorks
    ? "bwrap does not work here"
    : absent.length > 0
      ? `${absent.join(", ")} not installed`
      : ""
  if (skip) {
    console.warn(`\n*** SKIPPED: ${ecosystem.name} end to end: ${skip} on this machine ***\n`)
  }
  describe.skipIf(Boolean(skip))(`ecosystem: ${ecosystem.name}`, () => {
    let harness: Harness | undefined
    afterEach(async () => {
      await harness?.close()
      harness = undefined
    })

    it("sets up on the setup network, fixes and verifies offline, and proves the fix in the PR", async () => {
      harness = await startHarness({
        files: ecosystem.files,
        issue: ECOSYSTEM_ISSUE,
        script: ecosystem.script,
        sandbox: createBwrapSandbox({
          extraReadOnlyPaths: extraPaths,
          path: sandboxPath,
          setupEgress: { allow: DEFAULT_SETUP_ALLOW, exemptNetworks: await gatewayNetworks() },
        }),
        env: { PRWRIGHT_SETUP_TIMEOUT_MS: "300000", PRWRIGHT_TEST_TIMEOUT_MS: "300000" },
      })
      const run = await harness.run("resolve-issue", {}, 600_000)
      const events = await harness.events(run.id)
      const tests = events.filter((e) => e.type === "test-result")
      const explain = `${run.error}\n${JSON.stringify(
        events
          .filter((e) => e.type === "log" || e.type === "test-result")
          .map((e) => [e.message ?? e.command, e.exitCode, String(e.output ?? "").slice(-1500)]),
        null,
        1,
      )}`
      expect(run.status, explain).toBe("completed")
      expect(harness.model.errors).toEqual([])
      expect(
        events.some((e) => e.type === "log" && /setup failed/.test(String(e.message))),
        explain,
      ).toBe(false)

      // every registry the toolchain asked for was on the egress allow-list
      expect(
        events.some((e) => e.type === "log" && /setup network refused/.test(String(e.message))),
        explain,
      ).toBe(false)

      // the agent's own test run, offline, passed after the fix
      const bashResults = events.filter((e) => e.type === "tool-result" && e.tool === "bash")
      expect(bashResults.length).toBeGreaterThan(0)

      // baseline green (the bug had no test yet), verification green, the proof run red
      expect(
        tests.map((t) => [t.phase, t.exitCode === 0]),
        explain,
      ).toEqual([
        ["baseline", true],
        ["verify", true],
        ["verify", false],
      ])

      const branch = run.artifacts.branchName!
      const diff = await harness.github.diff(harness.repo, "main", branch)
      expect([...diff.matchAll(/^diff --git a\/(\S+)/gm)].map((m) => m[1])).toEqual(ecosystem.changed)
      const pr = harness.github.pullRequests(harness.repo)[0]!
      expect(pr.draft).toBe(false)
      expect(pr.body).toContain("Proof of the fix")
      const body = pr.body ?? ""
      const row = body.split("\n").find((line) => ecosystem.proofTest.test(line))
      expect(row, body).toMatch(/❌ (fails|absent).*\| ✅ passes/)
    }, 620_000)
  })
}

export type { EcosystemCase }
