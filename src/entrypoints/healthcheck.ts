/**
 * `prwright healthcheck`: the image's Docker HEALTHCHECK, for every role one image plays. It looks at
 * the prwright process it checks (default PID 1, a container's main process) to learn its role:
 * - `serve` (API, with or without in-process workers): `GET /healthz` on its port answers 200;
 * - `worker`: its own heartbeat (`host:pid:…`, written every 5 s) is fresh in the queue (Redis or the
 *   embedded SQLite table), so a worker whose process lives but whose queue connection or timer died
 *   is reported unhealthy too.
 * Exit 0 healthy, 1 not, with one line saying which and why.
 */
import { readFile } from "node:fs/promises"
import { hostname } from "node:os"
import type { JobQueue } from "#application/ports/job-queue.js"
import { silentLogger } from "#application/ports/logging.js"
import { errorMessage } from "#domain/errors.js"
import type { JobType } from "#domain/workflow-run.js"
import type { Config } from "#main/config.js"

export type HealthRole = { kind: "serve"; port?: number } | { kind: "worker" }

/** The role of a prwright command line (argv as /proc/PID/cmdline lists it); undefined: not prwright's. */
export const roleOf = (args: string[]): HealthRole | undefined => {
  const script = args.findIndex((arg) => /(?:prwright(?:\.js)?|cli\.[jt]s)$/.test(arg))
  if (script < 0) return undefined
  const rest = args.slice(script + 1)
  const command = rest[0]
  if (command === "serve" || command === "start" || command === "demo") {
    const portAt = rest.findIndex((arg) => arg === "--port" || arg.startsWith("--port="))
    const raw =
      portAt < 0 ? undefined : rest[portAt]!.includes("=") ? rest[portAt]!.split("=")[1] : rest[portAt + 1]
    const port = raw === undefined ? undefined : Number(raw)
    return { kind: "serve", ...(port !== undefined && Number.isInteger(port) && port > 0 ? { port } : {}) }
  }
  if (command === "worker") return { kind: "worker" }
  return undefined
}

export interface HealthResult {
  healthy: boolean
  message: string
}

/** serve: its /healthz answers 200 within timeoutMs */
export const checkServe = async (url: string, timeoutMs = 3_000): Promise<HealthResult> => {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) })
    await response.body?.cancel()
    return response.ok
      ? { healthy: true, message: `healthy: serve answers ${url}/healthz` }
      : { healthy: false, message: `unhealthy: ${url}/healthz answered ${response.status}` }
  } catch (error) {
    return { healthy: false, message: `unhealthy: ${url}/healthz did not answer (${errorMessage(error)})` }
  }
}

/** worker: some heartbeat of this host's process `pid` is fresh in the queue */
export const checkWorker = async (
  queue: Pick<JobQueue, "liveWorkerIds">,
  process: { host: string; pid: number },
): Promise<HealthResult> => {
  if (!queue.liveWorkerIds)
    return { healthy: false, message: "unhealthy: this queue cannot list its workers" }
  let beats: Array<{ id: string; type: JobType }>
  try {
    beats = await queue.liveWorkerIds()
  } catch (error) {
    return { healthy: false, message: `unhealthy: the queue did not answer (${errorMessage(error)})` }
  }
  const own = beats.filter((beat) => beat.id.startsWith(`${process.host}:${process.pid}:`))
  if (own.length === 0)
    return {
      healthy: false,
      message: `unhealthy: no fresh heartbeat from worker process ${process.pid} on ${process.host} in the queue (it stopped taking jobs, or cannot reach the queue)`,
    }
  const types = [...new Set(own.map((beat) => beat.type))].sort()
  return { healthy: true, message: `healthy: worker process ${process.pid} beats for ${types.join(", ")}` }
}

export const runHealthcheck = async (
  config: Config,
  options: {
    pid: number
    /** the command line of the process (default: read from /proc/PID/cmdline) */
    args?: string[]
    host?: string
    write?: (line: string) => void
  },
): Promise<number> => {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`))
  let args = options.args
  if (!args) {
    try {
      args = (await readFile(`/proc/${options.pid}/cmdline`, "utf8")).split("\0").filter(Boolean)
    } catch (error) {
      write(`unhealthy: cannot read the command line of process ${options.pid} (${errorMessage(error)})`)
      return 1
    }
  }
  const role = roleOf(args)
  if (!role) {
    write(
      `unhealthy: process ${options.pid} is not \`prwright serve\` or \`prwright worker\` (${args.join(" ")}); pass --pid`,
    )
    return 1
  }
  let result: HealthResult
  if (role.kind === "serve") {
    result = await checkServe(`http://127.0.0.1:${role.port ?? config.port}`)
  } else {
    const { createJobQueue } = await import("#main/container.js")
    const queue = createJobQueue(config, silentLogger)
    try {
      result = await checkWorker(queue, { host: options.host ?? hostname(), pid: options.pid })
    } finally {
      await queue.close().catch(() => {})
    }
  }
  write(result.message)
  return result.healthy ? 0 : 1
}
