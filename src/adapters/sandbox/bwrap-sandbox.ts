// Over ~300 lines: the whole mount and namespace table of the sandbox in one place, so the boundary can be reviewed at once.
/**
 * The sandbox for repository commands: bubblewrap. The command sees the system read-only (/usr and
 * the few /etc files toolchains need, never all of /etc), its checkout read-write (mounted at the
 * same path, and its working directory), the git metadata the workspace recorded read-only, a
 * private /tmp and a private empty HOME, a minimal /proc and /dev, its own user, PID, IPC, UTS and
 * network namespaces (no host process, no host socket, no route), no capabilities, and an
 * environment built from nothing. The real home (/root, /home) and /run are not mounted at all.
 * Where the host offers cgroups, each command gets its own (pids, memory, cpu). A setup command
 * (network "setup") reaches the allowed package registries through the host-side egress proxy
 * (setup-egress.ts), via a unix socket and a small relay on the sandbox's own loopback.
 * Nothing here reads a file a command could have written.
 */
import { existsSync, lstatSync, readdirSync, realpathSync, statSync } from "node:fs"
import path from "node:path"
import type { Logger } from "#application/ports/logging.js"
import type { Sandbox, SandboxCommand, SandboxResult } from "#application/ports/sandbox.js"
import { ValidationError } from "#domain/errors.js"
import { type CgroupSupport, type CommandCgroup, createCommandCgroup, detectCgroups } from "./cgroups.js"
import { runInProcessGroup } from "./run-in-process-group.js"
import { checkSandboxCommand } from "./sandbox-command.js"
import {
  DEFAULT_SANDBOX_LIMITS,
  limitedBashArguments,
  type SandboxLimits,
  SYSTEM_PATH,
  sandboxEnvironment,
} from "./sandbox-limits.js"
import {
  DEFAULT_SETUP_ALLOW,
  type SetupEgressOptions,
  type SetupEgressProxy,
  startSetupEgressProxy,
} from "./setup-egress.js"

export interface BwrapSandboxOptions {
  bwrapPath?: string | undefined
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
  /**
   * The setup phase's egress (network "setup"): which registries, and (tests only) a resolver.
   * Default: the common package registries (DEFAULT_SETUP_ALLOW).
   */
  setupEgress?: Omit<SetupEgressOptions, "logger">
  /**
   * Per-command cgroups: detected where the host offers them (default), `false` to do without, or a
   * detection result to use. Where none are usable, commands are bounded by rlimits only.
   */
  cgroups?: boolean | CgroupSupport
}

/** What this sandbox isolates, for `prwright doctor` and the start-up log. */
export interface SandboxIsolation {
  namespaces: string[]
  userNamespace: boolean
  cgroups: { usable: boolean; detail: string }
  setupEgress: string
  etc: string
}

/**
 * The /etc entries commands need (users and groups, name resolution, TLS roots, the dynamic linker,
 * time zone, MIME types, Debian's alternatives, language runtimes' own config): everything else in
 * /etc (ssh, shadow, postgresql, redis, the npmrc/pip.conf of the host that may hold credentials …)
 * is not mounted. A name ending in `*` matches entries that start with it. Add more with
 * `extraReadOnlyPaths` (e.g. /etc/pip.conf when the host's registry mirror is set there).
 */
export const SANDBOX_ETC_ENTRIES = [
  "passwd",
  "group",
  "hosts",
  "host.conf",
  "resolv.conf",
  "nsswitch.conf",
  "gai.conf",
  "networks",
  "protocols",
  "services",
  "ssl",
  "ca-certificates",
  "ca-certificates.conf",
  "pki",
  "crypto-policies",
  "alternatives",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "localtime",
  "timezone",
  "mime.types",
  "magic",
  "magic.mime",
  "os-release",
  "lsb-release",
  "debian_version",
  "locale.alias",
  "inputrc",
  "terminfo",
  "fonts",
  "java-*",
  "maven",
  "python3*",
  "perl",
]

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

/**
 * The chosen /etc entries of the host (a symlink such as resolv.conf → /run/… is followed by the
 * bind, so its content appears at the /etc path). Host files, listed when the sandbox is built.
 */
const etcPaths = (): string[] => {
  let names: string[]
  try {
    names = readdirSync("/etc")
  } catch {
    return []
  }
  return names
    .filter((name) =>
      SANDBOX_ETC_ENTRIES.some((entry) =>
        entry.endsWith("*") ? name.startsWith(entry.slice(0, -1)) : name === entry,
      ),
    )
    .sort()
    .map((name) => `/etc/${name}`)
}

const isUnder = (child: string, parent: string) => child === parent || child.startsWith(`${parent}/`)

/** masks only what lies inside something mounted: elsewhere the path is simply absent */
const maskMounts = (paths: string[], mounted: string[]): string[] => {
  const args: string[] = []
  for (const masked of paths) {
    if (!mounted.some((dir) => isUnder(masked, dir)) || !existsSync(masked)) continue
    if (statSync(masked).isDirectory()) args.push("--tmpfs", masked, "--remount-ro", masked)
    else args.push("--ro-bind", "/dev/null", masked)
  }
  return args
}

/** where the egress proxy's socket appears in the sandbox, and the relay's port on its loopback */
export const EGRESS_SOCKET = "/run/prwright/egress.sock"
export const EGRESS_RELAY_PORT = 3128

/** a TCP listener on the sandbox's loopback that hands each connection to the proxy's unix socket */
const RELAY_SCRIPT = [
  'const net = require("net")',
  `net.createServer((c) => { const u = net.connect(${JSON.stringify(EGRESS_SOCKET)}); const end = () => { c.destroy(); u.destroy() }; c.on("error", end); u.on("error", end); c.on("close", end); u.on("close", end); c.pipe(u); u.pipe(c) })`,
  `  .on("error", (e) => { console.error("prwright egress relay: " + e.message); process.exit(1) })`,
  `  .listen(${EGRESS_RELAY_PORT}, "127.0.0.1", () => console.log("ready"))`,
].join("\n")

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`

/** starts the relay and waits until it listens (or died): the command then finds its proxy ready */
const relayPrelude = (node: string): string[] => [
  `if ! read -r _ < <(exec -a prwright-egress-relay ${shellQuote(node)} -e ${shellQuote(RELAY_SCRIPT)}); then echo "prwright: the setup egress relay did not start: downloads will fail" >&2; fi`,
]

const PROXY_URL = `http://127.0.0.1:${EGRESS_RELAY_PORT}`
const JAVA_PROXY = `-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=${EGRESS_RELAY_PORT} -Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=${EGRESS_RELAY_PORT}`

/** the proxy settings the usual toolchains read (curl, npm, yarn, pip, cargo, go, git, Maven, Gradle) */
export const SETUP_PROXY_ENV: Record<string, string> = {
  HTTP_PROXY: PROXY_URL,
  HTTPS_PROXY: PROXY_URL,
  http_proxy: PROXY_URL,
  https_proxy: PROXY_URL,
  NO_PROXY: "localhost,127.0.0.1,::1",
  no_proxy: "localhost,127.0.0.1,::1",
  npm_config_proxy: PROXY_URL,
  npm_config_https_proxy: PROXY_URL,
  YARN_HTTP_PROXY: PROXY_URL,
  YARN_HTTPS_PROXY: PROXY_URL,
  PIP_PROXY: PROXY_URL,
  CARGO_HTTP_PROXY: PROXY_URL,
  MAVEN_OPTS: JAVA_PROXY,
  GRADLE_OPTS: JAVA_PROXY,
}

/**
 * A `git worktree` checkout keeps its metadata outside the checkout. What is mounted comes from the
 * workspace's records of the checkout (`command.mounts`), never from the `.git` file in the checkout,
 * which any earlier command could have rewritten to name `/` or the data dir.
 */
const recordedMounts = (command: SandboxCommand, real: Map<string, string>): string[] => [
  ...(command.mounts?.readOnly ?? []).flatMap((dir) => ["--ro-bind", real.get(dir) ?? dir, dir]),
  ...(command.mounts?.writable ?? []).flatMap((dir) => ["--bind", real.get(dir) ?? dir, dir]),
]

/**
 * Every host path bound into the sandbox besides the checkout (per-run HOME and /tmp, recorded git
 * metadata) must be the worker's own: an existing absolute directory that neither lies inside the
 * checkout nor resolves into it — there an earlier command could have put a symlink to `/` in its
 * place. Returns the real paths to bind (at the paths given).
 */
const checkHostPaths = (command: SandboxCommand, root: string): Map<string, string> => {
  const real = new Map<string, string>()
  const named: Array<[string, string | undefined]> = [
    ["home", command.home],
    ["tmp", command.tmp],
    ...(command.mounts?.readOnly ?? []).map((dir): [string, string] => ["mounts.readOnly", dir]),
    ...(command.mounts?.writable ?? []).map((dir): [string, string] => ["mounts.writable", dir]),
  ]
  for (const [field, hostPath] of named) {
    if (hostPath === undefined) continue
    let resolved: string | undefined
    try {
      if (path.isAbsolute(hostPath) && statSync(hostPath).isDirectory()) resolved = realpathSync(hostPath)
    } catch {}
    if (resolved === undefined || isUnder(path.resolve(hostPath), root) || isUnder(resolved, root)) {
      throw new ValidationError(
        `sandbox ${field} ${JSON.stringify(hostPath)} must be an existing directory the worker made outside the checkout (a path in or through the checkout could be a command's symlink)`,
        [{ field, message: "a directory of the worker's, outside the checkout" }],
      )
    }
    real.set(hostPath, resolved)
  }
  return real
}

export type BwrapSandbox = Sandbox & { readonly isolation: SandboxIsolation }

export const createBwrapSandbox = (options: BwrapSandboxOptions = {}): BwrapSandbox => {
  const bwrap = options.bwrapPath ?? "bwrap"
  const limits = { ...DEFAULT_SANDBOX_LIMITS, ...options.limits }
  const tmpfsSize = String(Math.floor(options.tmpfsSizeBytes ?? 512 * 1024 ** 2))
  const masked = [...DEFAULT_MASKED_PATHS, ...(options.maskedPaths ?? [])]
  const userNamespace = options.userNamespace ?? true
  const egress = { allow: DEFAULT_SETUP_ALLOW, ...options.setupEgress }
  const etc = etcPaths()
  const extra = options.extraReadOnlyPaths ?? []
  const systemDirectories = SYSTEM_DIRECTORIES.filter((dir) => existsSync(dir))
  // the relay runs on the worker's own node; mount it where it is not under /usr already
  const node = realpathSync(process.execPath)
  const nodeMount = systemDirectories.some((dir) => isUnder(node, dir)) ? [] : ["--ro-bind", node, node]
  const cgroups: CgroupSupport =
    options.cgroups === false
      ? { usable: false, detail: "cgroups turned off for this sandbox" }
      : options.cgroups === true || options.cgroups === undefined
        ? detectCgroups()
        : options.cgroups

  const bwrapArgumentsFor = (
    command: SandboxCommand,
    root: string,
    real: Map<string, string>,
    proxy: SetupEgressProxy | undefined,
  ): string[] => [
    // every namespace, the network's included: a setup command's only way out is the egress socket
    "--unshare-all",
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
    ...etc.flatMap((entry) => ["--ro-bind-try", entry, entry]),
    // what `df` and friends read: the sandbox's own mounts, never a bind of the host's list
    "--symlink",
    "../proc/self/mounts",
    "/etc/mtab",
    ...maskMounts(masked, [...systemDirectories, ...etc, ...extra]),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    // the run's persistent /tmp and HOME when the worker made them, else private tmpfs per command
    ...(command.tmp !== undefined
      ? ["--bind", real.get(command.tmp) ?? command.tmp, "/tmp"]
      : ["--size", tmpfsSize, "--tmpfs", "/tmp"]),
    ...(command.home !== undefined
      ? ["--bind", real.get(command.home) ?? command.home, SANDBOX_HOME]
      : ["--size", tmpfsSize, "--tmpfs", SANDBOX_HOME]),
    // after the tmpfs mounts, so that a path under /tmp is not hidden by them
    ...extra.flatMap((extraPath) => ["--ro-bind-try", extraPath, extraPath]),
    // the setup phase's one way out: the host proxy's socket (connect() ignores read-only binds)
    ...(proxy ? [...nodeMount, "--bind", proxy.socketPath, EGRESS_SOCKET] : []),
    ...recordedMounts(command, real),
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
    ...limitedBashArguments(command.command, limits, proxy ? relayPrelude(node) : []),
  ]

  const isolation: SandboxIsolation = {
    namespaces: [...(userNamespace ? ["user"] : []), "mount", "pid", "net", "ipc", "uts", "cgroup"],
    userNamespace,
    cgroups: { usable: cgroups.usable, detail: cgroups.detail },
    setupEgress:
      egress.allow.length === 0
        ? "setup has no network (PRWRIGHT_SETUP_ALLOW=none)"
        : `setup reaches only ${egress.allow.includes("*") ? "public hosts" : `${egress.allow.length} allowed hosts`} through the host proxy (own network namespace; loopback, private and link-local addresses refused)`,
    etc: `${etc.length} /etc entries mounted (not /etc/shadow, /etc/ssh …)`,
  }

  /** a note for the model and the logs when the command ran into a cgroup limit */
  const limitNote = (cgroup: CommandCgroup | undefined): string => {
    if (!cgroup) return ""
    const hit = cgroup.events()
    const notes = [
      ...(hit.pidsLimitHit ? [`it reached the sandbox's process limit (${limits.processes})`] : []),
      ...(hit.oomKills > 0
        ? [
            `a process was killed at the sandbox's memory limit (${Math.round(limits.memoryBytes / 1024 ** 2)} MiB)`,
          ]
        : []),
    ]
    return notes.length > 0 ? `\n[prwright: ${notes.join("; ")}]\n` : ""
  }

  return Object.assign(
    {
      kind: "bwrap" as const,
      async run(command: SandboxCommand): Promise<SandboxResult> {
        checkSandboxCommand(command)
        const root = realpathSync(command.root)
        const real = checkHostPaths(command, root)
        const proxy: SetupEgressProxy | undefined =
          command.network === "setup"
            ? await startSetupEgressProxy({ ...egress, logger: options.logger })
            : undefined
        let cgroup: CommandCgroup | undefined
        try {
          if (cgroups.usable) cgroup = createCommandCgroup(cgroups, limits)
          const argv = bwrapArgumentsFor(command, root, real, proxy)
          const spawned = cgroup ? cgroup.wrap(bwrap, argv) : { file: bwrap, args: argv }
          const result = await runInProcessGroup({
            file: spawned.file,
            args: spawned.args,
            // bwrap hands its own environment to the command; passing the clean one here (rather than
            // --clearenv + --setenv) also keeps the values out of the host's process list
            env: sandboxEnvironment({
              path: options.path ?? SYSTEM_PATH,
              home: SANDBOX_HOME,
              env: { ...command.env, ...(proxy ? SETUP_PROXY_ENV : {}) },
            }),
            cwd: root,
            timeoutMs: command.timeoutMs,
            signal: command.signal,
            maxOutputBytes: command.maxOutputBytes,
            killGraceMs: options.killGraceMs,
            logger: options.logger,
          })
          const note = limitNote(cgroup)
          return {
            ...result,
            ...(note ? { output: result.output + note } : {}),
            refusedHosts: proxy?.refusedHosts(),
          }
        } finally {
          try {
            await cgroup?.remove()
          } catch (error) {
            options.logger?.warn("could not remove a sandbox cgroup", { error: String(error) })
          }
          await proxy?.close()
        }
      },
    },
    { isolation },
  )
}
