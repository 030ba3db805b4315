/**
 * A Sandbox for agent tests: `bash -c` in the checkout, in its own process group (killed whole on
 * timeout or abort), with a near-empty environment like the real adapters. Not a security boundary;
 * the bwrap and process adapters have their own suites. `env` replaces the environment, e.g. to
 * play a leaky sandbox in a secret-masking test.
 */
import { spawn } from "node:child_process"
import type { Sandbox, SandboxCommand, SandboxResult } from "#application/ports/sandbox.js"

const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024

const headAndTail = (output: Buffer, max: number): { text: string; truncated: boolean } => {
  if (output.length <= max) return { text: output.toString("utf8"), truncated: false }
  const half = Math.floor(max / 2)
  const cut = output.length - 2 * half
  return {
    text: `${output.subarray(0, half).toString("utf8")}\n[… ${cut} bytes of ${output.length} cut from the middle of the output …]\n${output.subarray(output.length - half).toString("utf8")}`,
    truncated: true,
  }
}

export const createShellSandbox = (
  options: { env?: NodeJS.ProcessEnv } = {},
): Sandbox & { runs: SandboxCommand[] } => {
  const runs: SandboxCommand[] = []
  return {
    kind: "process",
    runs,
    run: (command) =>
      new Promise<SandboxResult>((resolve, reject) => {
        runs.push(command)
        const started = Date.now()
        const child = spawn("bash", ["-c", command.command], {
          cwd: command.root,
          detached: true,
          stdio: ["ignore", "pipe", "pipe"],
          env: options.env ?? {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            HOME: command.root,
            LANG: "C.UTF-8",
            ...command.env,
          },
        })
        const chunks: Buffer[] = []
        child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk))
        child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk))
        let timedOut = false
        let aborted = false
        const killGroup = () => {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL")
          } catch {
            // already gone
          }
        }
        const timer = setTimeout(() => {
          timedOut = true
          killGroup()
        }, command.timeoutMs)
        const onAbort = () => {
          aborted = true
          killGroup()
        }
        if (command.signal?.aborted) onAbort()
        command.signal?.addEventListener("abort", onAbort, { once: true })
        child.on("error", (error) => {
          clearTimeout(timer)
          reject(error)
        })
        child.on("close", (code, signal) => {
          clearTimeout(timer)
          command.signal?.removeEventListener("abort", onAbort)
          const output = Buffer.concat(chunks)
          const { text, truncated } = headAndTail(output, command.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES)
          resolve({
            exitCode: code,
            ...(signal ? { signal } : {}),
            output: text,
            outputBytes: output.length,
            truncated,
            timedOut,
            aborted,
            durationMs: Date.now() - started,
          })
        })
      }),
  }
}
