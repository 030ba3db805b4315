/**
 * Weakness 8: no resource isolation as root. RLIMIT_NPROC does not bind uid 0 (the worker here runs
 * as root, and so does the sandbox's user namespace), and RLIMIT_DATA is per process. A repository's
 * fork bomb or a set of processes that together take too much memory must be bounded by the
 * command's own cgroup, quickly, leaving nothing running and the worker unharmed.
 */
import { randomUUID } from "node:crypto"
import { mkdtempSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createBwrapSandbox } from "#adapters/sandbox/bwrap-sandbox.js"
import { detectCgroups } from "#adapters/sandbox/cgroups.js"
import { markedPids, waitUntil } from "../contract/sandbox.contract.js"
import { bwrapWorks, SKIP_NO_BWRAP } from "./sandbox-support.js"

const cgroups = detectCgroups()

describe.skipIf(!bwrapWorks || !cgroups.usable)(
  `per-command cgroups bound fork and memory bombs (${!bwrapWorks ? SKIP_NO_BWRAP : `SKIPPED: ${cgroups.detail}`})`,
  () => {
    let root: string
    const markers: string[] = []
    beforeEach(() => {
      root = realpathSync(mkdtempSync(path.join(tmpdir(), "prwright-bomb-")))
    })
    afterEach(() => {
      rmSync(root, { recursive: true, force: true })
      for (const pid of markers.splice(0).flatMap(markedPids)) {
        try {
          process.kill(pid, "SIGKILL")
        } catch {}
      }
    })

    it("a fork bomb stays under pids.max, ends with the command, and the worker keeps answering", async () => {
      const marker = `prwright-forkbomb-${randomUUID()}`
      markers.push(marker)
      // RLIMIT_NPROC far above the cgroup's limit: only the cgroup can stop it (and root ignores NPROC anyway)
      const sandbox = createBwrapSandbox({ limits: { processes: 64, cpuSeconds: 30 } })
      let peak = 0
      let ticks = 0
      const sampler = setInterval(() => {
        ticks += 1
        peak = Math.max(peak, markedPids(marker).length)
      }, 50)
      const started = Date.now()
      try {
        const result = await sandbox.run({
          // every process of the bomb carries the marker as argv[0]: forks keep it
          command: `exec -a ${marker} bash -c ':(){ :|:& };:; sleep 4'`,
          root,
          network: "none",
          timeoutMs: 6_000,
        })
        expect(Date.now() - started).toBeLessThan(12_000)
        expect(result.output).toContain("reached the sandbox's process limit (64)")
      } finally {
        clearInterval(sampler)
      }
      // the sampler kept running while the bomb went off: the worker's event loop was not starved
      expect(ticks).toBeGreaterThan(20)
      expect(peak).toBeGreaterThan(10)
      expect(peak).toBeLessThanOrEqual(64)
      await waitUntil(() => markedPids(marker).length === 0, "the bomb's processes to be gone", 5_000)
    })

    it("processes that each stay under RLIMIT_DATA but together exceed memory.max are killed at the cgroup limit", async () => {
      const sandbox = createBwrapSandbox({ limits: { memoryBytes: 256 * 1024 ** 2 } })
      // four processes of ~120 MiB each: every one is under the 256 MiB per-process limit, together ~480 MiB
      const hog = `python3 -c 'import time; b = bytearray(120 * 1024 * 1024); b[::4096] = b"x" * len(b[::4096]); time.sleep(3); print("survived")'`
      const result = await sandbox.run({
        command: `for i in 1 2 3 4; do ${hog} & done; wait; echo done`,
        root,
        network: "none",
        timeoutMs: 20_000,
      })
      expect(result.timedOut).toBe(false)
      const survivors = result.output.match(/^survived$/gm)?.length ?? 0
      expect(survivors).toBeLessThan(4)
      expect(result.output).toContain("killed at the sandbox's memory limit (256 MiB)")
      // the worker is fine
      expect(process.memoryUsage().rss).toBeLessThan(2 * 1024 ** 3)
    })

    it("a command cannot leave its cgroup: /sys/fs/cgroup is not in the sandbox", async () => {
      const sandbox = createBwrapSandbox()
      const result = await sandbox.run({
        command: "ls /sys/fs/cgroup 2>&1 | head -1; cat /proc/self/cgroup | grep pids",
        root,
        network: "none",
        timeoutMs: 10_000,
      })
      expect(result.output).toMatch(/No such file or directory/)
      // its own cgroup namespace: it sees itself at the root of its cgroup
      expect(result.output).toContain("pids:/\n")
    })
  },
)

describe("cgroup detection", () => {
  it("says why when a host offers no cgroups", () => {
    const none = detectCgroups(path.join(tmpdir(), `prwright-no-cgroups-${randomUUID()}`))
    expect(none.usable).toBe(false)
    expect(none.detail).toMatch(/no usable cgroups/)
    expect(none.detail).toMatch(/Delegate=yes/)
  })
})
