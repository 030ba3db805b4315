// Over ~300 lines: cgroup v1 and v2 (and systemd delegation) layouts, detection and clean-up of one mechanism.
/**
 * Per-command cgroup limits: the one limit on processes and memory that binds a command running as
 * root (RLIMIT_NPROC does not bind uid 0, RLIMIT_DATA is per process). Each command gets its own
 * cgroup (pids, memory, cpu) below the worker's own cgroup; a small `sh` wrapper moves itself into
 * it and then execs bwrap, so every process of the command is born inside. Afterwards whatever is
 * left in it is killed and the cgroup removed. Works with cgroup v2 (controllers delegated to the
 * worker's cgroup) and v1 (a hierarchy per controller, as on these machines). The sandbox itself
 * never sees /sys/fs/cgroup.
 */
import { randomUUID } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs"
import path from "node:path"

export interface CgroupLimits {
  /** pids.max: tasks (processes and threads) of the whole command */
  processes: number
  /** memory.max / memory.limit_in_bytes of the whole command, swap included */
  memoryBytes: number
  /** CPU time as a number of cores (cpu.max / cfs quota); undefined: no quota */
  cpus?: number
}

export type CgroupSupport =
  | { usable: true; version: 1 | 2; detail: string; controllers: CgroupControllers }
  | { usable: false; detail: string }

interface CgroupControllers {
  version: 1 | 2
  /** controller → the directory under which per-command cgroups are made */
  bases: Partial<Record<"pids" | "memory" | "cpu", string>>
}

export interface CommandCgroup {
  /** the argv that runs `file args` inside the cgroup */
  wrap(file: string, args: string[]): { file: string; args: string[] }
  /** what the command ran into, for its output ("hit the process limit") */
  events(): { pidsLimitHit: boolean; oomKills: number }
  /** kills what is left and removes the cgroup */
  remove(): Promise<void>
}

const CONTROLLERS = ["pids", "memory", "cpu"] as const
const BASE_NAME = "prwright-sandbox"

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, "utf8")
  } catch {
    return undefined
  }
}

/** controller → path of this process's cgroup in that hierarchy ("" key: the v2 unified one) */
const ownCgroups = (procSelfCgroup: string): Map<string, string> => {
  const own = new Map<string, string>()
  for (const line of procSelfCgroup.split("\n")) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line)
    if (!match) continue
    for (const controller of (match[1] as string).split(",")) own.set(controller, match[2] as string)
  }
  return own
}

/**
 * Removes per-command cgroups a killed worker left behind: only empty ones (rmdir refuses a cgroup
 * that holds a process) made over a minute ago (never one a running command is about to join).
 */
const sweepLeftovers = (base: string) => {
  let names: string[]
  try {
    names = readdirSync(base).filter((name) => name.startsWith("cmd-"))
  } catch {
    return
  }
  for (const name of names) {
    try {
      const dir = path.join(base, name)
      if (Date.now() - statSync(dir).mtimeMs > 60_000) rmdirSync(dir)
    } catch {}
  }
}

const tryBase = (base: string, probe: (dir: string) => void): string | undefined => {
  const dir = path.join(base, `probe-${randomUUID().slice(0, 8)}`)
  try {
    mkdirSync(base, { recursive: true })
    mkdirSync(dir)
    try {
      probe(dir)
    } finally {
      rmdirSync(dir)
    }
    sweepLeftovers(base)
    return undefined
  } catch (error) {
    return `${base}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`
  }
}

const enableForChildren = (dir: string, wanted: readonly string[]) => {
  const enabled = (read(path.join(dir, "cgroup.subtree_control")) ?? "").trim().split(/\s+/)
  const missing = wanted.filter((c) => !enabled.includes(c))
  if (missing.length > 0)
    writeFileSync(path.join(dir, "cgroup.subtree_control"), missing.map((c) => `+${c}`).join(" "))
}

/**
 * Finds which cgroup controllers this worker may use for its commands, and says why not otherwise.
 * `root` and `procSelfCgroup` are for tests (a fake tree); by default the host's.
 */
export const detectCgroups = (
  root = "/sys/fs/cgroup",
  procSelfCgroup: string = read("/proc/self/cgroup") ?? "",
): CgroupSupport => {
  const own = ownCgroups(procSelfCgroup)
  const unified = existsSync(path.join(root, "cgroup.controllers"))
    ? root
    : existsSync(path.join(root, "unified", "cgroup.controllers"))
      ? path.join(root, "unified")
      : undefined
  const problems: string[] = []

  // v2: the worker's own cgroup must have the controllers enabled for its children
  if (unified !== undefined && own.has("")) {
    const mine = path.join(unified, own.get("") as string)
    const available = (read(path.join(mine, "cgroup.controllers")) ?? "").trim().split(/\s+/)
    const wanted = CONTROLLERS.filter((c) => available.includes(c))
    if (wanted.length > 0) {
      const base = path.join(mine, BASE_NAME)
      let problem: string | undefined
      try {
        // the worker's cgroup hands the controllers down, then prwright's own subtree does
        try {
          enableForChildren(mine, wanted)
        } catch (error) {
          // cgroup v2 refuses controllers below a cgroup that holds processes (a systemd service
          // with Delegate=yes holds the worker): move them into a leaf of their own first
          if ((error as NodeJS.ErrnoException).code !== "EBUSY" || mine === unified) throw error
          const leaf = path.join(mine, "prwright-worker")
          mkdirSync(leaf, { recursive: true })
          for (const pid of (read(path.join(mine, "cgroup.procs")) ?? "")
            .split("\n")
            .filter((p) => /^\d+$/.test(p))) {
            writeFileSync(path.join(leaf, "cgroup.procs"), pid)
          }
          enableForChildren(mine, wanted)
        }
      } catch (error) {
        problem = `${mine} cannot enable ${wanted.join(", ")} for its children (${(error as NodeJS.ErrnoException).code ?? String(error)}; a cgroup that holds processes cannot)`
      }
      problem ??= tryBase(base, () => enableForChildren(base, wanted))
      if (problem === undefined) {
        const bases = Object.fromEntries(wanted.map((c) => [c, base]))
        return {
          usable: true,
          version: 2,
          detail: `cgroup v2 (${wanted.join(", ")}) under ${base}`,
          controllers: { version: 2, bases },
        }
      }
      problems.push(`cgroup v2: ${problem}`)
    } else if (unified === root) {
      problems.push(
        `cgroup v2: no pids/memory/cpu controller is delegated to ${mine} (its cgroup.controllers lists "${available.join(" ")}")`,
      )
    }
  }

  // v1: one hierarchy per controller
  const bases: CgroupControllers["bases"] = {}
  for (const controller of CONTROLLERS) {
    const mount = path.join(root, controller)
    if (!existsSync(path.join(mount, "cgroup.procs"))) continue
    const base = path.join(mount, own.get(controller) ?? "/", BASE_NAME)
    const problem = tryBase(base, () => {})
    if (problem === undefined) bases[controller] = base
    else problems.push(`cgroup v1 ${controller}: ${problem}`)
  }
  if (bases.pids !== undefined && bases.memory !== undefined) {
    return {
      usable: true,
      version: 1,
      detail: `cgroup v1 (${Object.keys(bases).join(", ")}) under ${path.dirname(bases.pids)}/${BASE_NAME}`,
      controllers: { version: 1, bases },
    }
  }
  return {
    usable: false,
    detail:
      `no usable cgroups (${problems.join("; ") || `nothing mounted at ${root}`}): commands are bounded by rlimits only` +
      (process.getuid?.() === 0
        ? ", and RLIMIT_NPROC does not bind a worker running as root. "
        : " (RLIMIT_NPROC counts every process of the worker's user). ") +
      "Give the worker a cgroup it may write (a systemd service with Delegate=yes), or bound its whole container (docker-compose.yml: pids_limit, mem_limit, cpus)",
  }
}

const write = (dir: string, file: string, value: string) => writeFileSync(path.join(dir, file), value)

const limitsV1 = (dirs: CgroupControllers["bases"], limits: CgroupLimits) => {
  if (dirs.pids) write(dirs.pids, "pids.max", String(limits.processes))
  if (dirs.memory) {
    write(dirs.memory, "memory.limit_in_bytes", String(limits.memoryBytes))
    // swap counted too where the kernel accounts it (must come after limit_in_bytes)
    if (existsSync(path.join(dirs.memory, "memory.memsw.limit_in_bytes"))) {
      write(dirs.memory, "memory.memsw.limit_in_bytes", String(limits.memoryBytes))
    }
  }
  // the default weight: all the command's processes together weigh as one, however many it forks
  if (dirs.cpu) {
    if (limits.cpus !== undefined) {
      write(dirs.cpu, "cpu.cfs_period_us", "100000")
      write(dirs.cpu, "cpu.cfs_quota_us", String(Math.max(1_000, Math.round(limits.cpus * 100_000))))
    }
  }
}

const limitsV2 = (dir: string, available: CgroupControllers["bases"], limits: CgroupLimits) => {
  if (available.pids) write(dir, "pids.max", String(limits.processes))
  if (available.memory) {
    write(dir, "memory.max", String(limits.memoryBytes))
    if (existsSync(path.join(dir, "memory.swap.max"))) write(dir, "memory.swap.max", "0")
  }
  if (available.cpu && limits.cpus !== undefined) {
    write(dir, "cpu.max", `${Math.max(1_000, Math.round(limits.cpus * 100_000))} 100000`)
  }
}

const killAll = (dir: string): number => {
  const pids = (read(path.join(dir, "cgroup.procs")) ?? "")
    .split("\n")
    .filter((line) => /^\d+$/.test(line))
    .map(Number)
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {}
  }
  return pids.length
}

/** Makes one command's cgroup with its limits; throws when the host refuses (the command must not run unbounded). */
export const createCommandCgroup = (
  support: CgroupSupport & { usable: true },
  limits: CgroupLimits,
): CommandCgroup => {
  const { version, bases } = support.controllers
  const name = `cmd-${randomUUID()}`
  const dirs = [...new Set(Object.values(bases))].map((base) => path.join(base, name))
  const made: string[] = []
  try {
    for (const dir of dirs) {
      mkdirSync(dir)
      made.push(dir)
    }
    if (version === 2) limitsV2(dirs[0] as string, bases, limits)
    else
      limitsV1(
        Object.fromEntries(Object.entries(bases).map(([c, base]) => [c, path.join(base, name)])),
        limits,
      )
  } catch (error) {
    for (const dir of made) {
      try {
        rmdirSync(dir)
      } catch {}
    }
    throw error
  }
  const memoryDir = bases.memory === undefined ? undefined : path.join(bases.memory, name)
  const pidsDir = bases.pids === undefined ? undefined : path.join(bases.pids, name)

  return {
    wrap(file, args) {
      // paths we made ourselves (uuid names), quoted for sh; the shell joins each cgroup, then becomes `file`
      const joins = dirs.map((dir) => `echo $$ > '${dir}/cgroup.procs' || exit 125`).join("\n")
      return { file: "/bin/sh", args: ["-c", `${joins}\nexec "$@"`, "prwright-cgroup", file, ...args] }
    },
    events() {
      const pidsEvents = pidsDir ? (read(path.join(pidsDir, "pids.events")) ?? "") : ""
      const pidsLimitHit = /^max [1-9]/m.test(pidsEvents)
      let oomKills = 0
      if (memoryDir) {
        if (version === 2)
          oomKills = Number(
            /^oom_kill (\d+)/m.exec(read(path.join(memoryDir, "memory.events")) ?? "")?.[1] ?? 0,
          )
        else {
          const control = read(path.join(memoryDir, "memory.oom_control")) ?? ""
          oomKills = Number(/^oom_kill (\d+)/m.exec(control)?.[1] ?? 0)
        }
      }
      return { pidsLimitHit, oomKills }
    },
    async remove() {
      for (const dir of dirs) {
        if (version === 2 && existsSync(path.join(dir, "cgroup.kill"))) {
          try {
            write(dir, "cgroup.kill", "1")
          } catch {}
        }
        const deadline = Date.now() + 5_000
        for (;;) {
          killAll(dir)
          try {
            rmdirSync(dir)
            break
          } catch (error) {
            const code = (error as NodeJS.ErrnoException).code
            if (code === "ENOENT") break
            if (Date.now() > deadline) throw error
            await new Promise((resolve) => setTimeout(resolve, 20))
          }
        }
      }
    },
  }
}
