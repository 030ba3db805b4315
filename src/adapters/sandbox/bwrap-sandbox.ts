/**
 * The sandbox for repository commands: bubblewrap. The command sees the system read-only, its
 * checkout read-write (mounted at the same path, and its working directory), a private /tmp and a
 * private empty HOME, a minimal /proc and /dev, its own PID namespace (so no host process is
 * visible, and everything dies with it), no network unless the command asks (setup phase), no
 * capabilities, and an environment built from nothing. The real home (/root, /home) and /run are
 * not mounted at all; secret files under /etc are masked.
 */
import { existsSync, lstatSync, realpathSync, statSync } from "node:fs"
import type { Logger } from "#application/ports/logging.js"
import type { Sandbox, SandboxCommand } from "#application/ports/sandbox.js"
import { runInProcessGroup } from "./run-in-process-group.js"
import { checkSandboxCommand } from "./sandbox-command.js"
import {
  DEFAULT_SANDBOX_LIMITS,
  limitedBashArguments,
  type SandboxLimits,
  SYSTEM_PATH,
  sandboxEnvironment,
} from "./sandbox-limits.js"

export interface BwrapSandboxOptions {
  bwrapPath?: string
  logger?: Logger
  /** more host paths the commands may read (a toolchain under /opt, say), mounted at the same place */
  extraReadOnlyPaths?: string[]
  /** host files or directories under the mounted system to hide (added to DEFAULT_MASKED_PATHS) */
  maskedPaths?: string[]
  limits?: Partial<SandboxLimits>
  /**
   * Run in a new user namespace (default true). Without one, a worker running as root keeps uid 0
   * in the sandbox (still with every capability dropped); an ordinary user needs one for bwrap at all.
   */
  userNamespace?: boolean
  /** size of each tmpfs (/tmp, HOME); they live in memory (default 512 MiB) */
  tmpfsSizeBytes?: number
  /** PATH inside the sandbox (default: the system directories) */
  path?: string
  killGraceMs?: number
}

/** Files that hold host secrets and are readable by the file owner even without capabilities. */
export const DEFAULT_MASKED_PATHS = [
  "/etc/shadow",
  "/etc/shadow-",
  "/etc/gshadow",
  "/etc/gshadow-",
  "/etc/sudoers",
  "/etc/sudoers.d",
  "/etc/ssh",
  "/etc/ssl/private",
]

/** The HOME of sandboxed commands: an empty tmpfs, never the worker's home. */
export const SANDBOX_HOME = "/home/sandbox"

const SYSTEM_DIRECTORIES = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]

/** /bin, /lib … are symlinks into /usr on merged-/usr systems; mirror them as links, else bind them. */
const systemMounts = (): string[] => {
  const args: string[] = []
  for (const dir of SYSTEM_DIRECTORIES) {
    let link: string | undefined
    try {
      const stat = lstatSync(dir)
      if (stat.isSymbolicLink()) link = realpathSync(dir)
      else if (!stat.isDirectory()) continue
    } catch {
      continue
    }
    if (link === undefined) args.push("--ro-bind", dir, dir)
    else args.push("--symlink", link, dir)
  }
  return args
}

/** /etc/resolv.conf and /etc/hosts may point outside /etc (systemd-resolved): mount their targets too. */
const resolverMounts = (): string[] => {
  const args: string[] = []
  for (const file of ["/etc/resolv.conf", "/etc/hosts"]) {
    try {
      const target = realpathSync(file)
      if (!target.startsWith("/etc/") && !target.startsWith("/usr/")) args.push("--ro-bind", target, target)
    } catch {}
  }
  return args
}

const maskMounts = (paths: string[]): string[] => {
  const args: string[] = []
  for (const masked of paths) {
    if (!existsSync(masked)) continue
    if (statSync(masked).isDirectory()) args.push("--tmpfs", masked, "--remount-ro", masked)
    else args.push("--ro-bind", "/dev/null", masked)
  }
  return args
}

/**
 * A `git worktree` checkout keeps its metadata outside the checkout. What is mounted comes from the
 * workspace's records of the checkout (`command.mounts`), never from the `.git` file in the checkout,
 * which any earlier command could have rewritten to name `/` or the data dir.
 */
const recordedMounts = (command: SandboxCommand): string[] => [
  ...(command.mounts?.readOnly ?? []).flatMap((dir) => ["--ro-bind", dir, dir]),
  ...(command.mounts?.writable ?? []).flatMap((dir) => ["--bind", dir, dir]),
]

export const createBwrapSandbox = (options: BwrapSandboxOptions = {}): Sandbox => {
  const bwrap = options.bwrapPath ?? "bwrap"
  const limits = { ...DEFAULT_SANDBOX_LIMITS, ...options.limits }
  const tmpfsSize = String(Math.floor(options.tmpfsSizeBytes ?? 512 * 1024 ** 2))
  const masked = [...DEFAULT_MASKED_PATHS, ...(options.maskedPaths ?? [])]
  const userNamespace = options.userNamespace ?? true

  const bwrapArguments = (command: SandboxCommand, root: string): string[] => [
    "--unshare-all",
    ...(command.network === "setup" ? ["--share-net"] : []),
    ...(userNamespace ? ["--unshare-user", "--disable-userns"] : []),
    // bwrap started by root keeps every capability unless told otherwise (remount, mount, ptrace …)
    "--cap-drop",
    "ALL",
    "--die-with-parent",
    // no controlling terminal: a command cannot push keystrokes into the worker's tty (TIOCSTI)
    "--new-session",
    "--hostname",
    "sandbox",
    ...systemMounts(),
    "--ro-bind",
    "/etc",
    "/etc",
    ...maskMounts(masked),
    ...(command.network === "setup" ? resolverMounts() : []),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    // the run's persistent /tmp and HOME when the worker made them, else private tmpfs per command
    ...(command.tmp !== undefined
      ? ["--bind", command.tmp, "/tmp"]
      : ["--size", tmpfsSize, "--tmpfs", "/tmp"]),
    ...(command.home !== undefined
      ? ["--bind", command.home, SANDBOX_HOME]
      : ["--size", tmpfsSize, "--tmpfs", SANDBOX_HOME]),
    // after the tmpfs mounts, so that a path under /tmp is not hidden by them
    ...(options.extraReadOnlyPaths ?? []).flatMap((extra) => ["--ro-bind-try", extra, extra]),
    ...recordedMounts(command),
    // last, so a checkout under /tmp or /home is mounted over the tmpfs rather than hidden by it
    "--bind",
    root,
    root,
    // the sandbox's own root is a tmpfs holding the mount points: nothing to write there
    "--remount-ro",
    "/",
    "--chdir",
    root,
    "--",
    "/bin/bash",
    ...limitedBashArguments(command.command, limits),
  ]

  return {
    kind: "bwrap",
    async run(command) {
      checkSandboxCommand(command)
      const root = realpathSync(command.root)
      return runInProcessGroup({
        file: bwrap,
        args: bwrapArguments(command, root),
        // bwrap hands its own environment to the command; passing the clean one here (rather than
        // --clearenv + --setenv) also keeps the values out of the host's process list
        env: sandboxEnvironment({ path: options.path ?? SYSTEM_PATH, home: SANDBOX_HOME, env: command.env }),
        cwd: root,
        timeoutMs: command.timeoutMs,
        signal: command.signal,
        maxOutputBytes: command.maxOutputBytes,
        killGraceMs: options.killGraceMs,
        logger: options.logger,
      })
    },
  }
}
