/**
 * What every sandbox adapter shares about the command it starts: resource limits set by `ulimit`
 * in a small bash prologue (bash is needed anyway, and this keeps `prlimit` optional), and the
 * environment, built from nothing so that no token or key of the worker can reach a command.
 */

export interface SandboxLimits {
  /** RLIMIT_CPU: CPU seconds per process; a backstop behind the wall-clock timeout */
  cpuSeconds: number
  /**
   * RLIMIT_DATA: heap and other private writable memory per process. Not RLIMIT_AS: V8 and
   * WebAssembly reserve many GiB of address space they never touch, and Node tools fail under it.
   */
  memoryBytes: number
  /** RLIMIT_FSIZE: the largest file a command may write */
  fileSizeBytes: number
  /**
   * RLIMIT_NPROC: processes of the same user. The kernel does not enforce it for a worker running
   * as root (uid 0 is exempt, even inside a user namespace): run the worker as an ordinary user.
   */
  processes: number
  /**
   * Cores of CPU time the whole command may use at once (a cgroup CPU quota, where cgroups are
   * usable); unset: no quota, and all the command's processes share one CPU weight.
   */
  cpus?: number
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  cpuSeconds: 900,
  memoryBytes: 4 * 1024 ** 3,
  fileSizeBytes: 1024 ** 3,
  processes: 1024,
}

/** PATH inside bwrap: only system directories are mounted there. */
export const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/**
 * The whole environment of a sandboxed command: these few variables and the caller's `env`.
 * Nothing is copied from `process.env`, so GITHUB_TOKEN, LLM keys, DATABASE_URL … never get in.
 */
export const sandboxEnvironment = (options: {
  path: string
  home: string
  tmpdir?: string
  env?: Record<string, string> | undefined
}): Record<string, string> => ({
  PATH: options.path,
  HOME: options.home,
  ...(options.tmpdir === undefined ? {} : { TMPDIR: options.tmpdir }),
  LANG: "C.UTF-8",
  TERM: "dumb",
  CI: "true",
  ...options.env,
})

const positiveInteger = (value: number, name: string): number => {
  if (!Number.isFinite(value) || value < 1) {
    throw new RangeError(`sandbox limit ${name} must be a positive number, got ${value}`)
  }
  return Math.floor(value)
}

/**
 * `bash -c <script> prwright-sandbox <command>`: set the limits, send stderr into stdout (one pipe
 * keeps the two interleaved in the order they were written), run the `prelude` lines, then run the
 * command in a fresh bash.
 * A limit already tighter on this host (a lower hard limit) is left as it is.
 */
export const limitedBashArguments = (
  command: string,
  limits: SandboxLimits,
  prelude: string[] = [],
): string[] => {
  const cpu = positiveInteger(limits.cpuSeconds, "cpuSeconds")
  const dataKib = positiveInteger(limits.memoryBytes / 1024, "memoryBytes")
  const fileKib = positiveInteger(limits.fileSizeBytes / 1024, "fileSizeBytes")
  const processes = positiveInteger(limits.processes, "processes")
  const script = [
    'limit() { hard=$(ulimit -H "$1"); if [ "$hard" = unlimited ] || [ "$hard" -gt "$2" ]; then ulimit "$1" "$2" || exit 126; fi; }',
    `limit -t ${cpu}`,
    `limit -d ${dataKib}`,
    // bash counts -f in 1024-byte blocks
    `limit -f ${fileKib}`,
    `limit -u ${processes}`,
    // a crashing tool must not drop a core file (memory contents) into the checkout
    "ulimit -c 0",
    "exec 2>&1",
    // what the sandbox starts beside the command (the setup egress relay), under the same limits
    ...prelude,
    'exec /bin/bash -c "$1"',
  ].join("\n")
  return ["-c", script, "prwright-sandbox", command]
}
