import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createMemoryEventBus } from "#adapters/events/memory-event-bus.js"
import { createSqlRunStore } from "#adapters/store/sql/sql-run-store.js"
import type { RunStore } from "#application/ports/run-store.js"
import { createRunJournal, type RunJournal } from "#application/run-journal.js"
import { ValidationError } from "#domain/errors.js"
import type { RunEvent, RunEventData } from "#domain/run-event.js"
import { createCapturingLogger } from "../support/logger.js"

// The journal is where run events are validated (stores keep what they are given): these checks
// used to run inside every store adapter. A real SQLite store and the in-memory bus stand behind it.
let dir: string
let store: RunStore
let journal: RunJournal
const live: RunEvent[] = []

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "run-journal-"))
  store = await createSqlRunStore({ url: `sqlite:${path.join(dir, "prwright.db")}` })
  const bus = createMemoryEventBus()
  journal = createRunJournal({ store, bus, logger: createCapturingLogger() })
  await store.createRun({
    id: "strict",
    type: "comment-on-issue",
    repoFullName: "acme/widgets",
    issueNumber: 1,
    priority: "normal",
    input: {},
    trigger: { source: "api" },
    maxAttempts: 3,
  })
  live.length = 0
  await bus.subscribe("strict", (event) => live.push(event))
})
afterEach(async () => {
  await store.close()
  await rm(dir, { recursive: true, force: true })
})

const refused = async (events: unknown[]) => {
  const error = await journal.record("strict", events as RunEventData[]).then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(ValidationError)
  return error as ValidationError
}

describe("run journal", () => {
  it("stores, then publishes, events in order with their seq", async () => {
    const stored = await journal.record("strict", [
      { type: "plan", plan: "v1" },
      { type: "progress", progress: 10 },
    ])
    expect(stored.map((event) => [event.seq, event.type])).toEqual([
      [1, "plan"],
      [2, "progress"],
    ])
    expect(live).toEqual(stored)
    expect(await store.listEvents("strict")).toEqual(stored)
  })

  it("refuses invalid events with the field and the reason, storing and publishing nothing, keeping seq", async () => {
    await journal.record("strict", [{ type: "plan", plan: "v1" }])

    const negative = await refused([
      { type: "log", level: "info", message: "fine" },
      { type: "model-call", model: "m", inputTokens: -1, outputTokens: 2, costUsd: 0, latencyMs: 5 },
    ])
    expect(negative.issues.map((issue) => issue.field)).toEqual(["events.1.inputTokens"])
    expect(negative.message).toMatch(/event 1 \(model-call\).*inputTokens/)

    const huge = await refused([
      {
        type: "tool-result",
        toolCallId: "t1",
        tool: "bash",
        output: "x".repeat(70_000),
        bytes: 70_000,
        truncated: false,
      },
    ])
    expect(huge.issues[0]?.field).toBe("events.0.output")
    expect(huge.issues[0]?.message).toMatch(/70000 bytes, more than 65536.*truncated: true/)

    const missing = await refused([{ type: "status", attempt: 1 }])
    expect(missing.issues.map((issue) => issue.field)).toEqual(["events.0.status"])
    const extra = await refused([{ type: "plan", plan: "p", secret: "nope" }])
    expect(extra.issues[0]?.field).toBe("events.0")
    expect(extra.message).toContain("secret")
    const unknownType = await refused([{ type: "plan", plan: "ok" }, { type: "telepathy" }])
    expect(unknownType.issues).toEqual([{ field: "events.1.type", message: "unknown event type" }])
    await refused([{ type: "test-result", phase: "later", command: "npm test", exitCode: 0 }])

    expect((await store.listEvents("strict")).map((event) => event.seq)).toEqual([1])
    expect(live.map((event) => event.seq)).toEqual([1])
    expect((await journal.record("strict", [{ type: "plan", plan: "v2" }]))[0]?.seq).toBe(2)
  })

  it("does not wait for live delivery: a stuck or failing bus neither holds nor fails the recording", async () => {
    const logger = createCapturingLogger()
    const sent: number[] = []
    const stuck = createRunJournal({
      store,
      logger,
      bus: {
        // a bus that takes each event in order but never answers (Redis away), then fails the second
        publish: (event) => {
          sent.push(event.seq)
          return event.seq === 2 ? Promise.reject(new Error("redis is away")) : new Promise(() => {})
        },
        subscribe: async () => async () => {},
        close: async () => {},
      },
    })
    const stored = await stuck.record("strict", [
      { type: "progress", progress: 1 },
      { type: "progress", progress: 2 },
      { type: "progress", progress: 3 },
    ])
    expect(stored.map((event) => event.seq)).toEqual([1, 2, 3])
    expect(sent).toEqual([1, 2, 3])
    await new Promise((resolve) => setImmediate(resolve))
    expect(logger.lines).toEqual([
      expect.objectContaining({
        level: "warn",
        message: "live event publish failed",
        fields: expect.objectContaining({ seq: 2 }),
      }),
    ])
    // the store has every event for a subscriber that missed them live
    expect((await store.listEvents("strict")).map((event) => event.seq)).toEqual([1, 2, 3])
  })
})
