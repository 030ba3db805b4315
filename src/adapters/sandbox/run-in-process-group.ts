/**
 * Starts one sandboxed command as the leader of its own process group and owns its end: the
 * wall-clock timeout, the abort signal, the kill of the whole group (SIGTERM, then SIGKILL after a
 * short grace) and the head+tail output. Both sandbox adapters build their argv and run it here.
 */
import { spawn } from "node:child_process"
import type { Logger } from "#application/ports/logging.js"
import type { SandboxResult } from "#application/ports/sandbox.js"
import { ConfigError, PrwrightError } from "#domain/errors.js"
import { createOutputBuffer } from "./output-buffer.js"

export interface ProcessGroupRun {
  file: string
  args: string[]
  env: Record<string, string>
  cwd: string
  timeoutMs: number
  signal?: AbortSignal | undefined
  maxOutputBytes?: number | undefined
  /** time between SIGTERM and SIGKILL (default 500 ms) */
  killGraceMs?: number | undefined
  logger?: Logger | undefined
}

/** how long to wait for the pipes to drain after the group is gone; a process that escaped it may hold them */
const DRAIN_MS = 250

export const runInProcessGroup = (run: ProcessGroupRun): Promise<SandboxResult> => {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  const output = createOutputBuffer(run.maxOutputBytes)
  const grace = run.killGraceMs ?? 500

  if (run.signal?.aborted) {
    return Promise.resolve({
      exitCode: null,
      output: "",
      outputBytes: 0,
      truncated: false,
      timedOut: false,
      aborted: true,
      durationMs: 0,
    })
  }

  return new Promise<SandboxResult>((resolve, reject) => {
    // detached: the child leads a new process group, so one kill(-pid) reaches every descendant
    // that did not leave the group on purpose (setsid); bwrap's PID namespace closes that gap.
    const child = spawn(run.file, run.args, {
      cwd: run.cwd,
      env: run.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    })
    const pid = child.pid
    let timedOut = false
    let aborted = false
    let terminating = false
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
    let settled = false
    const timers: NodeJS.Timeout[] = []

    const killGroup = (signal: NodeJS.Signals) => {
      if (pid === undefined) return
      try {
        process.kill(-pid, signal)
      } catch (error) {
        // ESRCH: the whole group is already gone
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") {
          run.logger?.warn("could not signal the sandboxed process group", {
            pid,
            signal,
            error: String(error),
          })
        }
      }
    }

    const finish = () => {
      if (settled) return
      settled = true
      for (const timer of timers) clearTimeout(timer)
      run.signal?.removeEventListener("abort", onAbort)
      child.stdout?.destroy()
      child.stderr?.destroy()
      const rendered = output.render()
      resolve({
        exitCode: exit?.code ?? null,
        ...(exit?.signal ? { signal: exit.signal } : {}),
        output: rendered.output,
        outputBytes: output.totalBytes,
        truncated: rendered.truncated,
        timedOut,
        aborted,
        durationMs: elapsed(),
      })
    }

    const terminate = () => {
      if (terminating) return
      terminating = true
      killGroup("SIGTERM")
      timers.push(setTimeout(() => killGroup("SIGKILL"), grace))
      // a process stuck in the kernel may never report its exit: do not hang the run on it
      timers.push(setTimeout(finish, grace + 1_000))
    }

    const onAbort = () => {
      if (exit !== undefined) return
      aborted = true
      terminate()
    }

    child.stdout?.on("data", (chunk: Buffer) => output.push(chunk))
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk))

    child.once("error", (error: NodeJS.ErrnoException) => {
      if (settled) return
      settled = true
      for (const timer of timers) clearTimeout(timer)
      run.signal?.removeEventListener("abort", onAbort)
      killGroup("SIGKILL")
      if (error.code === "ENOENT") {
        reject(
          new ConfigError(
            `could not start ${run.file} in ${run.cwd}: ${error.message}. Check that the program is installed and the working directory exists.`,
          ),
        )
      } else {
        reject(
          new PrwrightError("internal", `could not start a sandboxed command: ${error.message}`, {
            cause: error,
          }),
        )
      }
    })

    child.once("exit", (code, signal) => {
      exit = { code, signal }
      // the command is over: whatever it left running in its group goes with it
      killGroup("SIGKILL")
      timers.push(setTimeout(finish, DRAIN_MS))
    })
    child.once("close", finish)

    timers.push(
      setTimeout(() => {
        if (exit !== undefined) return
        timedOut = true
        terminate()
      }, run.timeoutMs),
    )
    run.signal?.addEventListener("abort", onAbort, { once: true })
  })
}
