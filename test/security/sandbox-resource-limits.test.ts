/**
 * Weakness 8: no resource isolation as root. RLIMIT_NPROC does not bind uid 0 (the worker here runs
 * as root, and so does the sandbox's user namespace), and RLIMIT_DATA is per process. A repository's
 * fork bomb or a set of processes that together take too much memory must be bounded by the
 * command's own cgroup, quickly, leaving nothing running and the worker unharmed.
 */
import { randomUUID } from "node:crypto"
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createBwrapSandbox } from "#adapters/sandbox/bwrap-sandbox.js"
import { createCommandCgroup, detectCgroups } from "#adapters/sandbox/cgroups.js"
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

  /** a directory tree shaped like a cgroup mount (plain files: what prwright writes can be read back) */
  const fakeTree = (files: Record<string, string>) => {
    const root = realpathSync(mkdtempSync(path.join(tmpdir(), "prwright-fake-cgroup-")))
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
      writeFileSync(path.join(root, file), content)
    }
    return root
  }

  it("cgroup v2: enables pids, memory and cpu for its subtree and writes each command's limits", () => {
    const root = fakeTree({
      "worker.service/cgroup.controllers": "cpuset cpu io memory pids\n",
      "worker.service/cgroup.subtree_control": "",
      "cgroup.controllers": "cpuset cpu io memory pids\n",
    })
    try {
      const support = detectCgroups(root, "0::/worker.service\n")
      expect(support).toMatchObject({ usable: true, version: 2 })
      if (!support.usable) return
      expect(readFileSync(path.join(root, "worker.service/cgroup.subtree_control"), "utf8")).toBe(
        "+pids +memory +cpu",
      )
      const cgroup = createCommandCgroup(support, { processes: 100, memoryBytes: 1024 ** 3, cpus: 1.5 })
      const dir = path.join(root, "worker.service/prwright-sandbox")
      const [command] = onlyCommandDir(dir)
      const read = (file: string) => readFileSync(path.join(dir, command, file), "utf8")
      expect(read("pids.max")).toBe("100")
      expect(read("memory.max")).toBe(String(1024 ** 3))
      expect(read("cpu.max")).toBe("150000 100000")
      const wrapped = cgroup.wrap("bwrap", ["--version"])
      expect(wrapped.file).toBe("/bin/sh")
      expect(wrapped.args.slice(-2)).toEqual(["bwrap", "--version"])
      expect(wrapped.args[1]).toContain(`${path.join(dir, command)}/cgroup.procs`)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it("cgroup v1: one cgroup per controller below the worker's own, memory and swap limited together", () => {
    const root = fakeTree({
      "pids/cgroup.procs": "",
      "memory/cgroup.procs": "",
      "memory/svc/memory.memsw.limit_in_bytes": "",
      "cpu/cgroup.procs": "",
    })
    try {
      const support = detectCgroups(root, "8:pids:/\n4:memory:/svc\n1:cpu,cpuacct:/\n0::/\n")
      expect(support).toMatchObject({ usable: true, version: 1 })
      if (!support.usable) return
      createCommandCgroup(support, { processes: 64, memoryBytes: 256 * 1024 ** 2 })
      const [pids] = onlyCommandDir(path.join(root, "pids/prwright-sandbox"))
      const [memory] = onlyCommandDir(path.join(root, "memory/svc/prwright-sandbox"))
      expect(readFileSync(path.join(root, "pids/prwright-sandbox", pids, "pids.max"), "utf8")).toBe("64")
      const memoryDir = path.join(root, "memory/svc/prwright-sandbox", memory)
      expect(readFileSync(path.join(memoryDir, "memory.limit_in_bytes"), "utf8")).toBe(
        String(256 * 1024 ** 2),
      )
      // no CPU quota asked for: the cpu cgroup exists (the command's processes weigh as one) with no quota written
      expect(existsSync(path.join(root, "cpu/prwright-sandbox", pids))).toBe(true)
      expect(existsSync(path.join(root, "cpu/prwright-sandbox", pids, "cpu.cfs_quota_us"))).toBe(false)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it("cgroup v2 without delegated controllers: not usable, and says what to do", () => {
    const root = fakeTree({ "cgroup.controllers": "", "cgroup.subtree_control": "" })
    try {
      const support = detectCgroups(root, "0::/\n")
      expect(support.usable).toBe(false)
      expect(support.detail).toMatch(/no pids\/memory\/cpu controller is delegated/)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

/** the one per-command directory below `dir` */
const onlyCommandDir = (dir: string): [string] => {
  const entries = readdirSync(dir).filter((name) => name.startsWith("cmd-"))
  expect(entries).toHaveLength(1)
  return [entries[0] as string]
}
