/**
 * `npm run bench:sandbox`: what the sandbox's isolation costs per command.
 *
 *   node --conditions=prwright-source --import tsx bench/sandbox.ts [--json] [--runs N]
 *
 * Measured in the same run, each `true` in a fresh checkout directory, wall time from the worker:
 *   - baseline: `bash -c true` as a plain child process (what the process sandbox costs, roughly);
 *   - bwrap, no cgroups: the sandbox's namespaces and mounts;
 *   - bwrap + cgroups: plus a pids/memory/cpu cgroup made, joined and removed per command;
 *   - setup: plus the egress proxy (host) and its relay (in the sandbox, on node) started per command.
 * With --json the last line of stdout is one JSON object; progress goes to stderr.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { performance } from "node:perf_hooks"
import { parseArgs, promisify } from "node:util"
import { createBwrapSandbox } from "#adapters/sandbox/bwrap-sandbox.js"
import { detectCgroups } from "#adapters/sandbox/cgroups.js"
import type { SandboxNetwork } from "#application/ports/sandbox.js"

const TARGET_NONE_P50_MS = 150
const TARGET_SETUP_P50_MS = 400

const { values: args } = parseArgs({
  options: { json: { type: "boolean", default: false }, runs: { type: "string", default: "30" } },
})
const runs = Number(args.runs)
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer")
const log = (line: string) => process.stderr.write(`${line}\n`)
const root = mkdtempSync(path.join(os.tmpdir(), "prwright-bench-sandbox-"))
const run = promisify(execFile)

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

const measure = async (name: string, once: () => Promise<unknown>) => {
  await once()
  const times: number[] = []
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now()
    await once()
    times.push(performance.now() - started)
  }
  const result = { name, p50: percentile(times, 50), p90: percentile(times, 90) }
  log(`${name.padEnd(22)} p50 ${result.p50.toFixed(1)} ms  p90 ${result.p90.toFixed(1)} ms`)
  return result
}

try {
  const cgroups = detectCgroups()
  log(
    `cgroups: ${cgroups.detail}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  )
  const plain = createBwrapSandbox({ cgroups: false })
  const limited = createBwrapSandbox()
  const sandboxed = (sandbox: typeof plain, network: SandboxNetwork) => () =>
    sandbox.run({ command: "true", root, network, timeoutMs: 30_000 })
  const results = [
    await measure("baseline (bash)", () => run("/bin/bash", ["-c", "true"], { cwd: root })),
    await measure("bwrap, no cgroups", sandboxed(plain, "none")),
    ...(cgroups.usable ? [await measure("bwrap + cgroups", sandboxed(limited, "none"))] : []),
    await measure("setup (proxy + relay)", sandboxed(limited, "setup")),
  ]
  const none = results.find((r) => r.name.startsWith("bwrap + cgroups")) ?? results[1]
  const setup = results.at(-1)
  const met = {
    none: (none?.p50 ?? Number.POSITIVE_INFINITY) < TARGET_NONE_P50_MS,
    setup: (setup?.p50 ?? Number.POSITIVE_INFINITY) < TARGET_SETUP_P50_MS,
  }
  log(
    `targets: command p50 < ${TARGET_NONE_P50_MS} ms ${met.none ? "met" : "MISSED"}; setup command p50 < ${TARGET_SETUP_P50_MS} ms ${met.setup ? "met" : "MISSED"}`,
  )
  if (args.json) process.stdout.write(`${JSON.stringify({ runs, cgroups: cgroups.usable, results, met })}\n`)
} finally {
  rmSync(root, { recursive: true, force: true })
}
