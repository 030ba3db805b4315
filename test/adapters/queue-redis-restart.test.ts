/**
 * The BullMQ queue survives a Redis restart: a private redis-server with AOF on its own port is shut
 * down mid-run and started again on the same directory; no job is lost and the worker reconnects.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { Redis } from "ioredis"
import { afterAll, describe, expect, it } from "vitest"
import { createBullMqJobQueue } from "#adapters/queue/bullmq/bullmq-job-queue.js"
import { jobRequest, resultFor, sleep, waitFor } from "../contract/job-queue.contract.js"
import { freePort, redisAnswers, uniqueName } from "../support/services.js"

const redisServer = (() => {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" })
    return undefined
  } catch {
    return "redis-server is not on PATH (install Redis to run this test)"
  }
})()
if (redisServer) console.warn(`\n!!! SKIPPING the Redis restart test: ${redisServer}\n`)

const dir = mkdtempSync(path.join(tmpdir(), "prwright-redis-aof-"))
let server: ChildProcess | undefined

const startRedis = async (port: number): Promise<ChildProcess> => {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--appendonly", "yes", "--dir", dir, "--save", ""],
    { stdio: "ignore" },
  )
  await waitFor(() => redisAnswers({ port }), "redis-server to accept connections", 10_000)
  return child
}

afterAll(() => {
  server?.kill("SIGKILL")
  rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(redisServer !== undefined)(
  "BullMQ job queue across a Redis restart (own redis-server, AOF)",
  () => {
    it("loses no job: queued ones run after the restart and the worker reconnects", async () => {
      const port = await freePort()
      server = await startRedis(port)
      const queue = createBullMqJobQueue({
        connection: { host: "127.0.0.1", port },
        prefix: uniqueName("bullmq_restart"),
        backoffBaseMs: 5,
        lockDurationMs: 1_000,
        stalledIntervalMs: 300,
      })
      try {
        const before = Array.from({ length: 30 }, () => jobRequest())
        for (const request of before) await queue.enqueue(request)
        const done = new Set<string>()
        queue.process(
          "comment-on-issue",
          async (job) => {
            await sleep(25)
            done.add(job.jobId)
            return resultFor(job)
          },
          { concurrency: 2 },
        )
        await waitFor(() => done.size >= 4, "a few jobs to run before the restart")

        const admin = new Redis({ port, maxRetriesPerRequest: 0 })
        await admin.call("SHUTDOWN").catch(() => {}) // the server closes the connection as it exits
        admin.disconnect()
        await new Promise((resolve) => server!.once("exit", resolve))
        const ranBeforeRestart = done.size
        expect(ranBeforeRestart).toBeLessThan(before.length)

        // enqueued while Redis is down: held by the client and sent once it reconnects
        const during = Array.from({ length: 5 }, () => jobRequest())
        const pending = Promise.all(during.map((request) => queue.enqueue(request)))
        await sleep(300)
        server = await startRedis(port)
        await pending

        for (const request of [...before, ...during])
          await waitFor(
            async () => (await queue.getJob(request.jobId))?.state === "completed",
            `job ${request.jobId} to complete after the restart`,
            15_000,
          )
        expect(done.size).toBe(before.length + during.length)
      } finally {
        await queue.close()
        const admin = new Redis({ port, maxRetriesPerRequest: 0 })
        await admin.call("SHUTDOWN", "NOSAVE").catch(() => {})
        admin.disconnect()
      }
    })
  },
)
