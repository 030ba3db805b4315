/**
 * The fallback sandbox: NOT A SECURITY BOUNDARY. A command runs as the worker's own user, in the
 * checkout, with full access to the filesystem and the network. What it does give: an environment
 * built from nothing (no token, no LLM key), a fresh HOME and TMPDIR per command (so ~/.gitconfig,
 * ~/.npmrc and their credentials are not picked up by accident), resource limits, a wall-clock
 * timeout, and a kill of the whole process group. A command that calls `setsid` escapes the kill.
 * Use it only where bubblewrap cannot run, and only on repositories you trust.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import type { Logger } from "#application/ports/logging.js"
import type { Sandbox } from "#application/ports/sandbox.js"
import { runInProcessGroup } from "./run-in-process-group.js"
import { checkSandboxCommand } from "./sandbox-command.js"
import {
  DEFAULT_SANDBOX_LIMITS,
  limitedBashArguments,
  type SandboxLimits,
  sandboxEnvironment,
} from "./sandbox-limits.js"

export const PROCESS_WARNING =
  "repository commands run WITHOUT isolation (PRWRIGHT_SANDBOX=process): they can read the worker's files and environment and reach every local service and the network. Install bubblewrap (apt-get install bubblewrap) and unset PRWRIGHT_SANDBOX for a real sandbox."

export interface ProcessSandboxOptions {
  logger?: Logger
  limits?: Partial<SandboxLimits>
  /** PATH of the commands (default: the worker's PATH, which is not a secret and finds its tools) */
  path?: string
  /** where the per-command HOME and TMPDIR are made (default: the OS temp dir) */
  scratchDir?: string
  killGraceMs?: number
}

export const createProcessSandbox = (options: ProcessSandboxOptions = {}): Sandbox => {
  const limits = { ...DEFAULT_SANDBOX_LIMITS, ...options.limits }
  const commandPath = options.path ?? process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"
  return {
    kind: "process",
    async run(command) {
      checkSandboxCommand(command)
      // on every command, not only at start: an operator must not forget this is running
      options.logger?.warn(PROCESS_WARNING, { sandbox: "process" })
      const scratch = mkdtempSync(path.join(options.scratchDir ?? tmpdir(), "prwright-sandbox-"))
      const home = path.join(scratch, "home")
      const tmp = path.join(scratch, "tmp")
      mkdirSync(home)
      mkdirSync(tmp)
      try {
        return await runInProcessGroup({
          file: "/bin/bash",
          args: limitedBashArguments(command.command, limits),
          env: sandboxEnvironment({ path: commandPath, home, tmpdir: tmp, env: command.env }),
          cwd: command.root,
          timeoutMs: command.timeoutMs,
          signal: command.signal,
          maxOutputBytes: command.maxOutputBytes,
          killGraceMs: options.killGraceMs,
          logger: options.logger,
        })
      } finally {
        try {
          rmSync(scratch, { recursive: true, force: true })
        } catch (error) {
          options.logger?.warn("could not remove a sandbox scratch directory", {
            scratch,
            error: String(error),
          })
        }
      }
    },
  }
}
