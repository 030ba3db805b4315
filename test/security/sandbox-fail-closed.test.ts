/**
 * Weakness 4: fails open. Where bwrap cannot build a sandbox (Docker's default seccomp profile, a
 * sysctl, a missing binary), detection used to fall back to the process sandbox, whose commands read
 * the worker's environment through /proc/$PPID/environ. Now repository commands do not run at all
 * unless the operator chose PRWRIGHT_SANDBOX=process; that choice is warned about at start and on
 * every command. And a bwrap command cannot read any host process's environment.
 */
import { randomBytes } from "node:crypto"
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createBwrapSandbox } from "#adapters/sandbox/bwrap-sandbox.js"
import { detectSandbox } from "#adapters/sandbox/detect-sandbox.js"
import { ConfigError } from "#domain/errors.js"
import { sandboxChecks } from "#entrypoints/doctor.js"
import { createCapturingLogger } from "../support/logger.js"
import { bwrapWorks, SKIP_NO_BWRAP } from "./sandbox-support.js"

const SECRET = `ghp_failClosed${randomBytes(12).toString("hex")}`

describe("sandbox detection fails closed", () => {
  let dir: string
  beforeEach(() => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), "prwright-fail-closed-")))
  })
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  const fakeBwrap = (script: string) => {
    const file = path.join(dir, "bwrap")
    writeFileSync(file, `#!/bin/sh\n${script}\n`, { mode: 0o755 })
    return file
  }

  const refusals: Array<[string, () => string]> = [
    ["bwrap is missing", () => path.join(dir, "no-such-bwrap")],
    ["bwrap exits 1 on everything", () => fakeBwrap("exit 1")],
    [
      "bwrap runs but cannot create namespaces (Docker's default seccomp profile)",
      () =>
        fakeBwrap(
          '[ "$1" = --version ] && echo "bubblewrap 0.8.0" && exit 0\necho "bwrap: No permissions to create new namespace" >&2; exit 1',
        ),
    ],
  ]

  for (const [name, bwrapPath] of refusals) {
    it(`refuses to run repository commands when ${name}, naming PRWRIGHT_SANDBOX and the fix`, async () => {
      const logger = createCapturingLogger()
      const attempt = detectSandbox({ bwrapPath: bwrapPath(), logger })
      await expect(attempt).rejects.toBeInstanceOf(ConfigError)
      await expect(attempt).rejects.toThrow(/PRWRIGHT_SANDBOX=process/)
      await expect(attempt).rejects.toThrow(/bubblewrap/)
      // no silent downgrade: nothing says the process sandbox was chosen
      expect(logger.lines.some((line) => line.fields?.sandbox === "process")).toBe(false)
    })
  }

  it("runs without isolation only when the operator chose PRWRIGHT_SANDBOX=process, warning at start and on every command", async () => {
    const logger = createCapturingLogger()
    const chosen = await detectSandbox({
      preference: "process",
      bwrapPath: path.join(dir, "no-such-bwrap"),
      logger,
    })
    expect(chosen.kind).toBe("process")
    const warnings = () =>
      logger.lines.filter((line) => line.level === "warn" && /WITHOUT isolation/.test(line.message))
    expect(warnings()).toHaveLength(1)
    await chosen.run({ command: "true", root: dir, network: "none", timeoutMs: 5_000 })
    await chosen.run({ command: "true", root: dir, network: "none", timeoutMs: 5_000 })
    expect(warnings()).toHaveLength(3)
    expect(JSON.stringify(warnings())).toContain("PRWRIGHT_SANDBOX=process")
  })
})

describe("prwright doctor's sandbox lines", () => {
  const setupEgress = { allow: ["registry.npmjs.org"], exemptNetworks: [] }

  it.skipIf(!bwrapWorks)(
    "report the namespaces, the cgroups (or why none) and the setup egress mode",
    async () => {
      const checks = await sandboxChecks({ setupEgress })
      expect(checks.map((c) => c.name)).toEqual(["sandbox", "cgroups", "egress"])
      expect(checks[0]).toMatchObject({ ok: true })
      expect(checks[0]?.detail).toMatch(/^bubblewrap: (user, )?mount, pid, net, ipc, uts, cgroup namespaces/)
      expect(checks[1]?.detail).toMatch(/^cgroup v[12] \(.*pids.*\)|^no usable cgroups .*Delegate=yes/)
      expect(checks[1]?.ok).toBe(checks[1]?.detail.startsWith("cgroup") ? true : "warn")
      expect(checks[2]?.detail).toMatch(
        /only 1 allowed hosts through the host proxy .*loopback, private and link-local addresses refused/,
      )
    },
  )

  it("fail (not warn) without a working bwrap, and warn on every line when the operator chose the process sandbox", async () => {
    const broken = await sandboxChecks({ setupEgress }, { bwrapPath: "/nonexistent/bwrap" })
    expect(broken).toEqual([
      { name: "sandbox", ok: false, detail: expect.stringMatching(/PRWRIGHT_SANDBOX=process/) },
    ])
    const process = await sandboxChecks({ sandbox: "process", setupEgress })
    expect(process.map((c) => [c.name, c.ok])).toEqual([
      ["sandbox", "warn"],
      ["cgroups", "warn"],
      ["egress", "warn"],
    ])
    expect(process[0]?.detail).toMatch(/WITHOUT isolation/)
  })
})

describe.skipIf(!bwrapWorks)(`a bwrap command reads no host process's environment (${SKIP_NO_BWRAP})`, () => {
  let root: string
  let saved: string | undefined
  beforeEach(() => {
    root = realpathSync(mkdtempSync(path.join(tmpdir(), "prwright-environ-")))
    saved = process.env.GITHUB_TOKEN
    process.env.GITHUB_TOKEN = SECRET
  })
  afterEach(() => {
    rmSync(root, { recursive: true, force: true })
    if (saved === undefined) delete process.env.GITHUB_TOKEN
    else process.env.GITHUB_TOKEN = saved
  })

  it("/proc/$PPID/environ and every /proc/*/environ it can see hold no secret of the worker", async () => {
    const sandbox = await detectSandbox({})
    expect(sandbox.kind).toBe("bwrap")
    const result = await sandbox.run({
      command:
        'echo "ppid=$PPID"; for f in /proc/$PPID/environ /proc/1/environ /proc/[0-9]*/environ; do tr "\\0" "\\n" < "$f"; done 2>&1; grep -ls ghp_ /proc/*/cmdline /proc/*/environ; ls /proc | grep -c "^[0-9]"',
      root,
      network: "none",
      timeoutMs: 10_000,
    })
    expect(result.output).not.toContain(SECRET)
    expect(result.output).not.toContain("GITHUB_TOKEN")
    // its own PID namespace: only the sandbox's few processes are there to read
    expect(Number(result.output.trim().split("\n").pop())).toBeLessThan(10)
  })

  it("the same holds in the setup phase, where the egress relay runs beside the command", async () => {
    const result = await createBwrapSandbox().run({
      command: 'for f in /proc/[0-9]*/environ; do tr "\\0" "\\n" < "$f"; done 2>&1; true',
      root,
      network: "setup",
      timeoutMs: 10_000,
    })
    expect(result.output).not.toContain(SECRET)
    expect(result.output).not.toContain("GITHUB_TOKEN")
  })
})
