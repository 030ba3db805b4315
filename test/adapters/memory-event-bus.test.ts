import { describe, expect, it } from "vitest"
import { createMemoryEventBus } from "#adapters/events/memory-event-bus.js"
import type { RunEvent } from "#domain/run-event.js"
import { createCapturingLogger } from "../support/logger.js"
import { logEvent } from "../support/runs.js"

const event = logEvent

describe("memory event bus", () => {
  it("delivers a run's events to its subscribers only, synchronously and in order", async () => {
    const bus = createMemoryEventBus()
    const a: number[] = []
    const b: number[] = []
    const other: number[] = []
    await bus.subscribe("run-a", (e) => a.push(e.seq))
    await bus.subscribe("run-a", (e) => b.push(e.seq))
    await bus.subscribe("run-b", (e) => other.push(e.seq))

    // Not awaited: delivery has already happened when publish returns its promise.
    void bus.publish(event("run-a", 1))
    expect(a).toEqual([1])
    for (const seq of [2, 3, 4]) await bus.publish(event("run-a", seq))
    await bus.publish(event("run-b", 1))
    expect(a).toEqual([1, 2, 3, 4])
    expect(b).toEqual([1, 2, 3, 4])
    expect(other).toEqual([1])
    await bus.close()
  })

  it("passes the event itself", async () => {
    const bus = createMemoryEventBus()
    const seen: RunEvent[] = []
    await bus.subscribe("r", (e) => seen.push(e))
    const sent = event("r", 7)
    await bus.publish(sent)
    expect(seen).toEqual([sent])
    await bus.close()
  })

  it("stops delivering after unsubscribe, leaving other subscriptions alone", async () => {
    const bus = createMemoryEventBus()
    const kept: number[] = []
    const dropped: number[] = []
    const same = (e: RunEvent) => dropped.push(e.seq)
    await bus.subscribe("r", (e) => kept.push(e.seq))
    const unsubscribe = await bus.subscribe("r", same)
    const second = await bus.subscribe("r", same) // the same function twice: two subscriptions
    await bus.publish(event("r", 1))
    await unsubscribe()
    await unsubscribe() // harmless twice
    await bus.publish(event("r", 2))
    await second()
    await bus.publish(event("r", 3))
    expect(kept).toEqual([1, 2, 3])
    expect(dropped).toEqual([1, 1, 2])
    await bus.close()
  })

  it("lets a listener unsubscribe itself while being delivered to", async () => {
    const bus = createMemoryEventBus()
    const seen: string[] = []
    let unsubscribe = async () => {}
    unsubscribe = await bus.subscribe("r", (e) => {
      seen.push(`once:${e.seq}`)
      void unsubscribe()
    })
    await bus.subscribe("r", (e) => seen.push(`always:${e.seq}`))
    await bus.publish(event("r", 1))
    await bus.publish(event("r", 2))
    expect(seen).toEqual(["once:1", "always:1", "always:2"])
    await bus.close()
  })

  it("keeps delivering to others when a listener throws, and logs it", async () => {
    const logger = createCapturingLogger()
    const bus = createMemoryEventBus({ logger })
    const seen: number[] = []
    await bus.subscribe("r", () => {
      throw new Error("socket closed")
    })
    await bus.subscribe("r", (e) => seen.push(e.seq))
    await expect(bus.publish(event("r", 1))).resolves.toBeUndefined()
    await bus.publish(event("r", 2))
    expect(seen).toEqual([1, 2])
    expect(logger.lines.filter((line) => line.level === "warn")).toHaveLength(2)
    expect(logger.lines[0]?.fields).toMatchObject({ runId: "r", seq: 1, error: "socket closed" })
    await bus.close()
  })

  it("drops every subscription on close", async () => {
    const bus = createMemoryEventBus()
    const seen: number[] = []
    const unsubscribe = await bus.subscribe("r", (e) => seen.push(e.seq))
    await bus.close()
    await bus.publish(event("r", 1))
    await unsubscribe()
    expect(seen).toEqual([])
    // still usable for new subscribers afterwards
    await bus.subscribe("r", (e) => seen.push(e.seq))
    await bus.publish(event("r", 2))
    expect(seen).toEqual([2])
  })
})
