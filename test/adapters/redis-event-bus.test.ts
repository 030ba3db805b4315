import { Redis } from "ioredis"
import { afterEach, describe, expect, it } from "vitest"
import { createRedisEventBus } from "#adapters/events/redis-event-bus.js"
import type { EventBus } from "#application/ports/event-bus.js"
import type { RunEvent } from "#domain/run-event.js"
import { createCapturingLogger } from "../support/logger.js"
import { logEvent } from "../support/runs.js"
import { service, uniqueName } from "../support/services.js"

const redis = await service("redis")

const event = logEvent

const waitUntil = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe.skipIf(!redis.available)("Redis event bus", () => {
  const opened: Array<{ close(): Promise<unknown> }> = []
  const admin = () => {
    const client = new Redis(redis.url)
    opened.push({ close: () => client.quit() })
    return client
  }
  const bus = (prefix: string, extra: Partial<Parameters<typeof createRedisEventBus>[0]> = {}): EventBus => {
    const created = createRedisEventBus({ url: redis.url, prefix, ...extra })
    opened.push(created)
    return created
  }
  const subscribers = async (client: Redis, channel: string) =>
    Number(((await client.pubsub("NUMSUB", channel)) as [string, number])[1])

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((item) => item.close()))
  })

  it("delivers what one process publishes to another process's subscribers, in order, per run", async () => {
    const prefix = uniqueName("bus")
    const worker = bus(prefix)
    const api = bus(prefix)
    const stranger = bus(uniqueName("other"))
    const seen: RunEvent[] = []
    const otherRun: number[] = []
    const otherPrefix: number[] = []
    await api.subscribe("run-a", (e) => seen.push(e))
    await api.subscribe("run-b", (e) => otherRun.push(e.seq))
    await stranger.subscribe("run-a", (e) => otherPrefix.push(e.seq))

    for (let seq = 1; seq <= 20; seq++) await worker.publish(event("run-a", seq))
    await worker.publish(event("run-b", 1))
    await waitUntil(() => seen.length === 20 && otherRun.length === 1, "20 events")
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(seen[4]).toEqual(event("run-a", 5))
    expect(seen[4]?.at).toBeInstanceOf(Date)
    expect(otherRun).toEqual([1])
    expect(otherPrefix).toEqual([])
  })

  it("holds one Redis subscription per run however many listeners, and drops it with the last", async () => {
    const prefix = uniqueName("bus")
    const channel = `${prefix}:run-events:r`
    const api = bus(prefix)
    const worker = bus(prefix)
    const client = admin()
    const a: number[] = []
    const b: number[] = []
    const same = (e: RunEvent) => b.push(e.seq)
    const [offA, offB, offB2] = await Promise.all([
      api.subscribe("r", (e) => a.push(e.seq)),
      api.subscribe("r", same),
      api.subscribe("r", same),
    ])
    expect(await subscribers(client, channel)).toBe(1)
    await worker.publish(event("r", 1))
    await waitUntil(() => a.length === 1 && b.length === 2, "first event")

    await offB()
    await offB() // idempotent: must not drop another listener's share
    await worker.publish(event("r", 2))
    await waitUntil(() => a.length === 2 && b.length === 3, "second event")
    expect(await subscribers(client, channel)).toBe(1)

    await offA()
    await offB2()
    expect(await subscribers(client, channel)).toBe(0)
    await worker.publish(event("r", 3))

    const again: number[] = []
    await api.subscribe("r", (e) => again.push(e.seq))
    expect(await subscribers(client, channel)).toBe(1)
    await worker.publish(event("r", 4))
    await waitUntil(() => again.length === 1, "event after resubscribing")
    expect(again).toEqual([4])
    expect(a).toEqual([1, 2])
    expect(b).toEqual([1, 1, 2])
  })

  it("resubscribes after its connection is killed and says so in the log", async () => {
    const prefix = uniqueName("bus")
    const logger = createCapturingLogger()
    const api = bus(prefix, { logger })
    const worker = bus(prefix)
    const client = admin()
    const seen: number[] = []
    await api.subscribe("r", (e) => seen.push(e.seq))

    const list = (await client.client("LIST")) as string
    const line = list.split("\n").find((l) => l.includes(` name=${prefix}:events-sub `))
    const id = line?.match(/^id=(\d+)/)?.[1]
    expect(id).toBeDefined()
    await client.client("KILL", "ID", id as string)

    await waitUntil(
      () => logger.lines.some((l) => l.message === "redis event bus reconnected"),
      "the reconnect log line",
    )
    await waitUntil(async () => (await subscribers(client, `${prefix}:run-events:r`)) === 1, "resubscribe")
    await worker.publish(event("r", 7))
    await waitUntil(() => seen.includes(7), "an event after the reconnect")
    expect(logger.lines.some((l) => l.level === "warn" && /connection error/.test(l.message))).toBe(true)
  })

  it("fails publish and subscribe fast, with the fix, when Redis is unreachable", async () => {
    const down = createRedisEventBus({
      url: "redis://127.0.0.1:1",
      prefix: uniqueName("down"),
      timeoutMs: 300,
    })
    try {
      const started = Date.now()
      await expect(down.publish(event("r", 1))).rejects.toThrow()
      await expect(down.subscribe("r", () => {})).rejects.toThrow(/REDIS_URL/)
      expect(Date.now() - started).toBeLessThan(3000)
    } finally {
      await down.close()
    }
  })
})
