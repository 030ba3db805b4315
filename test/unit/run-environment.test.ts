import { describe, expect, it } from "vitest"
import type { RunDirs } from "#application/ports/run-dirs.js"
import type { Sandbox, SandboxCommand } from "#application/ports/sandbox.js"
import { runSandbox } from "#application/workflows/run-environment.js"

describe("the run's sandbox", () => {
  const seen: SandboxCommand[] = []
  const inner: Sandbox = {
    kind: "bwrap",
    run: async (command) => {
      seen.push(command)
      return {
        exitCode: 0,
        output: "",
        outputBytes: 0,
        truncated: false,
        timedOut: false,
        aborted: false,
        durationMs: 1,
      }
    },
  }
  const dirs = { home: "/data/run-homes/r1/home", tmp: "/data/run-homes/r1/tmp" } as RunDirs

  it("passes the run's HOME and /tmp on every command, with the tool environment first", async () => {
    const sandbox = runSandbox(inner, dirs)
    await sandbox.run({ command: "npm ci", root: "/c", network: "setup", timeoutMs: 1 })
    await sandbox.run({ command: "pytest", root: "/c", network: "none", timeoutMs: 1 })
    expect(seen.map((c) => [c.home, c.tmp])).toEqual([
      [dirs.home, dirs.tmp],
      [dirs.home, dirs.tmp],
    ])
    expect(seen[0]!.command).toMatch(/export VIRTUAL_ENV="\$HOME\/.venv"[\s\S]*\nnpm ci$/)
    // setup may download; the offline phases are told not to try
    expect(seen[0]!.command).not.toContain("GOPROXY=off")
    expect(seen[1]!.command).toContain("export GOPROXY=off CARGO_NET_OFFLINE=true PIP_NO_INDEX=1")
    expect(seen[1]!.command.endsWith("\npytest")).toBe(true)
  })

  it("without run dirs the sandbox keeps its per-command HOME", async () => {
    seen.length = 0
    await runSandbox(inner, undefined).run({ command: "true", root: "/c", network: "none", timeoutMs: 1 })
    expect(seen[0]!.home).toBeUndefined()
  })
})
