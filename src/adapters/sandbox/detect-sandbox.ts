/**
 * Chooses the sandbox for this host, failing closed: bubblewrap when it is installed and a trial
 * sandboxed `true` actually runs (namespaces can be disabled by a sysctl or a container's seccomp
 * profile even where the binary exists). Without a working bwrap, repository commands do not run:
 * detection throws a ConfigError naming the fix. Only an operator who sets PRWRIGHT_SANDBOX=process
 * gets the process sandbox (no isolation), warned about here and on every command.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import type { Logger } from "#application/ports/logging.js"
import type { Sandbox } from "#application/ports/sandbox.js"
import { ConfigError, errorMessage } from "#domain/errors.js"
import { type BwrapSandboxOptions, createBwrapSandbox, type SandboxIsolation } from "./bwrap-sandbox.js"
import { createProcessSandbox, PROCESS_WARNING, type ProcessSandboxOptions } from "./process-sandbox.js"

export interface DetectSandboxOptions extends BwrapSandboxOptions, ProcessSandboxOptions {
  /** PRWRIGHT_SANDBOX; unset means bwrap, and no repository command runs where it cannot */
  preference?: "bwrap" | "process" | "docker" | undefined
  logger?: Logger
}

/** The chosen sandbox and what it isolates (for `prwright doctor`). */
export type DetectedSandbox = Sandbox & { isolation: SandboxIsolation }

const PROCESS_ISOLATION: SandboxIsolation = {
  namespaces: [],
  userNamespace: false,
  cgroups: { usable: false, detail: "the process sandbox uses no cgroups (rlimits only)" },
  setupEgress: "setup shares the worker's whole network (process sandbox)",
  etc: "the whole host filesystem is readable (process sandbox)",
}

const bwrapVersion = (bwrapPath: string): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(bwrapPath, ["--version"], { timeout: 5_000, env: {} }, (error, stdout) => {
      if (error) reject(error)
      else resolve(stdout.trim())
    })
  })

/** runs `true` in the sandbox; returns why it failed, or undefined when it worked */
const trial = async (sandbox: Sandbox): Promise<string | undefined> => {
  const root = mkdtempSync(path.join(tmpdir(), "prwright-sandbox-trial-"))
  try {
    const result = await sandbox.run({ command: "true", root, network: "none", timeoutMs: 10_000 })
    if (result.exitCode === 0) return undefined
    return result.output.trim() || `exit code ${result.exitCode ?? result.signal}`
  } catch (error) {
    return errorMessage(error)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

const probeBwrap = async (
  options: DetectSandboxOptions,
): Promise<{ sandbox?: DetectedSandbox; problem: string }> => {
  const bwrapPath = options.bwrapPath ?? "bwrap"
  let version: string
  try {
    version = await bwrapVersion(bwrapPath)
  } catch (error) {
    return {
      problem: `bubblewrap could not be started as ${bwrapPath} (${errorMessage(error)}): install it with \`apt-get install bubblewrap\`, or point bwrapPath at it`,
    }
  }
  // A user namespace is the stronger setup; root can do without one (capabilities are still dropped).
  const setups =
    options.userNamespace !== undefined
      ? [options.userNamespace]
      : process.getuid?.() === 0
        ? [true, false]
        : [true]
  const failures: string[] = []
  for (const userNamespace of setups) {
    const sandbox = createBwrapSandbox({ ...options, userNamespace })
    const failure = await trial(sandbox)
    if (failure === undefined) {
      if (!userNamespace) {
        options.logger?.warn(
          "bwrap runs without a user namespace (they are unavailable here); capabilities are dropped",
          {
            version,
          },
        )
      }
      options.logger?.info("sandbox: bwrap", { version, userNamespace })
      return { sandbox, problem: "" }
    }
    failures.push(`${userNamespace ? "with" : "without"} a user namespace: ${failure}`)
  }
  return {
    problem:
      `${version} is installed but cannot build a sandbox here (${failures.join("; ")}). ` +
      "User namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0) " +
      "or a container's seccomp/AppArmor profile may forbid mount and clone: run the worker on a host or VM that allows them",
  }
}

export const detectSandbox = async (options: DetectSandboxOptions = {}): Promise<DetectedSandbox> => {
  const { preference, logger } = options
  if (preference === "docker") {
    throw new ConfigError(
      'PRWRIGHT_SANDBOX=docker is not supported yet: use "bwrap" (or "process" without isolation)',
    )
  }
  if (preference === "process") {
    logger?.warn(PROCESS_WARNING, { sandbox: "process", chosenBy: "PRWRIGHT_SANDBOX" })
    return Object.assign(createProcessSandbox(options), { isolation: PROCESS_ISOLATION })
  }
  const { sandbox, problem } = await probeBwrap(options)
  if (sandbox) return sandbox
  // fail closed: never a silent downgrade to running untrusted code without isolation
  throw new ConfigError(
    `${preference === "bwrap" ? "PRWRIGHT_SANDBOX=bwrap but " : "no sandbox for repository commands: "}${problem}. ` +
      "Repository commands will not run until bubblewrap works here (see docs/security.md for the container flags it needs); " +
      "only on a machine that runs nothing but repositories you trust, set PRWRIGHT_SANDBOX=process to run them without isolation",
  )
}
