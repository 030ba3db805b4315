/**
 * `prwright healthcheck` (the image's HEALTHCHECK) against real processes: a `prwright worker` is
 * healthy while its own heartbeat is fresh in the queue; `prwright serve` while /healthz answers; a
 * process that is not prwright's, a dead one, or a worker whose beats stopped is unhealthy (exit 1).
 */
import { mkdtemp, rm } from "node:fs/promises"
import net from "node:net"
import { hostname, tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createEmbeddedJobQueue } from "#adapters/queue/embedded/embedded-job-queue.js"
import { checkWorker, roleOf } from "#entrypoints/healthcheck.js"
import { type PrwrightProcess, startPrwright } from "../support/prwright-process.js"

const freePort = async () => {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe("prwright healthcheck", () => {
  let dataDir: string
  let env: Record<string, string>
  const processes: PrwrightProcess[] = []
  const start = (args: string[]) => {
    const proc = startPrwright(args, env)
    processes.push(proc)
    return proc
  }
  const healthcheck = async (pid: number) => {
    const proc = start(["healthcheck", "--pid", String(pid)])
    const code = await proc.exited
    return { code, output: proc.output() }
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "prwright-healthcheck-"))
    env = {
      HOST: "127.0.0.1",
      PORT: String(await freePort()),
      PRWRIGHT_DATA_DIR: dataDir,
      PRWRIGHT_API_TOKEN: "prw_healthcheck_token_0123456",
    }
  })
  afterAll(async () => {
    await Promise.all(processes.map((proc) => proc.stop("SIGKILL")))
    await rm(dataDir, { recursive: true, force: true })
  })

  it("knows each role from the command line", () => {
    expect(roleOf(["node", "/app/bin/prwright.js", "serve", "--no-workers"])).toEqual({ kind: "serve" })
    expect(roleOf(["node", "bin/prwright.js", "serve", "--port", "8080"])).toEqual({
      kind: "serve",
      port: 8080,
    })
    expect(roleOf(["node", "bin/prwright.js", "worker", "--type", "resolve"])).toEqual({ kind: "worker" })
    expect(
      roleOf(["node", "--import", "tsx", "src/entrypoints/cli.ts", "worker", "--type", "comment"]),
    ).toEqual({ kind: "worker" })
    expect(roleOf(["redis-server", "--port", "6379"])).toBeUndefined()
    expect(roleOf(["node", "bin/prwright.js", "status", "x"])).toBeUndefined()
  })

  it("a live worker process is healthy; a process that is not prwright's is not", async () => {
    const worker = start(["worker", "--type", "comment"])
    await worker.waitFor(/worker started/, 60_000)
    const healthy = await healthcheck(worker.child.pid!)
    expect(healthy.code, healthy.output).toBe(0)
    expect(healthy.output).toMatch(
      new RegExp(`healthy: worker process ${worker.child.pid} beats for comment-on-issue`),
    )

    const stranger = await healthcheck(process.pid)
    expect(stranger.code).toBe(1)
    expect(stranger.output).toMatch(/is not `prwright serve` or `prwright worker`/)

    await worker.stop("SIGKILL")
    const gone = await healthcheck(worker.child.pid!)
    expect(gone.code).toBe(1)
    expect(gone.output).toMatch(/unhealthy/)
  }, 120_000)

  it("a worker whose heartbeats stopped is unhealthy (its process may still be alive)", async () => {
    const databasePath = path.join(dataDir, "stale.db")
    const past = { now: () => new Date(Date.now() - 60_000) }
    const stale = createEmbeddedJobQueue({ databasePath, clock: past })
    const reader = createEmbeddedJobQueue({ databasePath })
    try {
      const worker = stale.process("comment-on-issue", async () => ({}) as never, { concurrency: 1 })
      await new Promise((resolve) => setTimeout(resolve, 100))
      const result = await checkWorker(reader, { host: hostname(), pid: process.pid })
      expect(result.healthy).toBe(false)
      expect(result.message).toMatch(/no fresh heartbeat from worker process/)
      await worker.close()

      const fresh = createEmbeddedJobQueue({ databasePath })
      const live = fresh.process("comment-on-issue", async () => ({}) as never, { concurrency: 1 })
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect((await checkWorker(reader, { host: hostname(), pid: process.pid })).healthy).toBe(true)
      await live.close()
      await fresh.close()
    } finally {
      await stale.close()
      await reader.close()
    }
  })

  it("serve is healthy while /healthz answers, and unhealthy once it is gone", async () => {
    const server = start(["serve"])
    await server.waitFor(/listening/, 60_000)
    const healthy = await healthcheck(server.child.pid!)
    expect(healthy.code, healthy.output).toBe(0)
    expect(healthy.output).toMatch(/healthy: serve answers http:\/\/127\.0\.0\.1:\d+\/healthz/)
    await server.stop("SIGKILL")
    expect((await healthcheck(server.child.pid!)).code).toBe(1)
  }, 120_000)
})
