/**
 * Redis with a password (default user) and an ACL user: every Redis client prwright makes (the BullMQ
 * queue and its workers, the cancel registry's subscriber, the event bus, doctor) authenticates with the
 * credentials in REDIS_URL, and the password shows up in no log line, error or doctor output. A real
 * redis-server is started on a free loopback port for this file and killed after it.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes, randomUUID } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createRedisEventBus } from "#adapters/events/redis-event-bus.js"
import { createJsonLogger } from "#adapters/log/json-logger.js"
import { createBullMqJobQueue } from "#adapters/queue/bullmq/bullmq-job-queue.js"
import type { JobQueue } from "#application/ports/job-queue.js"
import type { RunEvent } from "#domain/run-event.js"
import { runDoctor } from "#entrypoints/doctor.js"
import { loadConfig } from "#main/config.js"
import { jobRequest, waitFor } from "../contract/job-queue.contract.js"
import { freePort, redisAnswers, uniqueName } from "../support/services.js"

const DEFAULT_PASSWORD = `def-${randomBytes(8).toString("hex")}`
// characters that must be percent-encoded in a URL
const USER_PASSWORD = `u@s:e/r%${randomBytes(8).toString("hex")}`
const PASSWORDS = [DEFAULT_PASSWORD, USER_PASSWORD]

const hasRedisServer = await new Promise<boolean>((resolve) => {
  const probe = spawn("redis-server", ["--version"], { stdio: "ignore" })
  probe.once("error", () => resolve(false))
  probe.once("exit", (code) => resolve(code === 0))
})
if (!hasRedisServer) {
  if (process.env.REQUIRE_SERVICES === "1")
    throw new Error("redis-server is not installed (apt-get install redis-server)")
  console.warn("\n!!! SKIPPING the Redis credential suite: redis-server is not installed\n")
}

describe.skipIf(!hasRedisServer)("Redis credentials in REDIS_URL", () => {
  let server: ChildProcess
  let port: number
  const urls = {
    user: () => `redis://prw:${encodeURIComponent(USER_PASSWORD)}@127.0.0.1:${port}`,
    defaultUser: () => `redis://:${encodeURIComponent(DEFAULT_PASSWORD)}@127.0.0.1:${port}`,
    wrong: () => `redis://prw:${encodeURIComponent(`${USER_PASSWORD}-wrong`)}@127.0.0.1:${port}`,
    none: () => `redis://127.0.0.1:${port}`,
  }
  const logged: string[] = []
  const expectNoPassword = (text: string) => {
    for (const password of PASSWORDS) {
      expect(text).not.toContain(password)
      expect(text).not.toContain(encodeURIComponent(password))
    }
  }

  beforeAll(async () => {
    port = await freePort()
    server = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--requirepass",
        DEFAULT_PASSWORD,
        "--user",
        "prw",
        "on",
        `>${USER_PASSWORD}`,
        "~*",
        "&*",
        "+@all",
      ],
      { stdio: "ignore" },
    )
    await waitFor(() => redisAnswers({ port, password: DEFAULT_PASSWORD }), "redis-server to start", 10_000)
  })

  afterAll(async () => {
    if (server?.pid) process.kill(server.pid, "SIGKILL")
    // whatever any client logged in this file
    expectNoPassword(logged.join("\n"))
  })

  const loggerFor = (url: string) => {
    const config = loadConfig({ REDIS_URL: url }, "/tmp")
    return {
      config,
      logger: createJsonLogger({
        level: "debug",
        secrets: config.secrets,
        write: (line) => logged.push(line),
      }),
    }
  }

  it.each(["user", "defaultUser"] as const)(
    "the queue, its worker, the cancel registry and the event bus all authenticate (%s)",
    async (who) => {
      const { config, logger } = loggerFor(urls[who]())
      const prefix = uniqueName("creds")
      const queue: JobQueue = createBullMqJobQueue({
        connection: config.redisUrl as string,
        prefix,
        logger,
        cancelCheckMs: 100,
      })
      const bus = createRedisEventBus({ url: config.redisUrl as string, prefix, logger })
      try {
        // a job that waits until cancelled: proves the worker's and the cancel subscriber's connections
        const started: string[] = []
        const worker = queue.process(
          "comment-on-issue",
          async (job) => {
            started.push(job.jobId)
            await new Promise((resolve) => job.signal.addEventListener("abort", resolve, { once: true }))
            throw job.signal.reason
          },
          { concurrency: 1 },
        )
        const request = jobRequest()
        expect((await queue.enqueue(request)).created).toBe(true)
        await waitFor(() => started.includes(request.jobId), "the worker to start the job")
        expect(await queue.cancel(request.jobId)).toBe(true)
        await waitFor(
          async () => (await queue.getJob(request.jobId))?.state === "cancelled",
          "the job to be cancelled",
        )
        await worker.close()

        const runId = randomUUID()
        const received: RunEvent[] = []
        const unsubscribe = await bus.subscribe(runId, (event) => received.push(event))
        await bus.publish({ runId, seq: 1, at: new Date(), type: "progress", progress: 5, message: "hi" })
        await waitFor(() => received.length === 1, "the event to arrive")
        await unsubscribe()
      } finally {
        await bus.close()
        await queue.close()
      }
    },
  )

  it("a wrong or missing password fails with errors that name no credential", async () => {
    for (const url of [urls.wrong(), urls.none()]) {
      const { config, logger } = loggerFor(url)
      const queue = createBullMqJobQueue({
        connection: config.redisUrl as string,
        prefix: uniqueName("creds"),
        logger,
      })
      const failure = await Promise.race([
        queue.enqueue(jobRequest()).then(
          () => "enqueued",
          (error: Error) => error.message,
        ),
        new Promise<string>((resolve) => setTimeout(() => resolve("no answer"), 5_000)),
      ])
      expect(failure).not.toBe("enqueued")
      expectNoPassword(failure)
      await queue.close().catch(() => undefined)
    }
  })

  it("doctor checks the queue with the credentials and prints none of them", async () => {
    for (const [url, mark] of [
      [urls.user(), "✓"],
      [urls.wrong(), "✗"],
    ] as const) {
      const { config } = loggerFor(url)
      const lines: string[] = []
      await runDoctor(config, { write: (line) => lines.push(line) })
      const queueLine = lines.find((line) => line.includes(" queue "))
      expect(queueLine?.startsWith(mark)).toBe(true)
      expectNoPassword(lines.join("\n"))
    }
  }, 60_000)

  it("the log redactor removes the URL's password in any form", () => {
    const { config } = loggerFor(urls.user())
    const lines: string[] = []
    const logger = createJsonLogger({ secrets: config.secrets, write: (line) => lines.push(line) })
    logger.error(`could not reach ${urls.user()}`, { url: urls.defaultUser(), raw: USER_PASSWORD })
    expectNoPassword(lines.join("\n"))
    expect(lines.join("\n")).toContain("127.0.0.1")
  })
})
