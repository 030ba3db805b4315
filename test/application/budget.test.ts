import { describe, expect, it } from "vitest"
import { createBudgetTracker } from "#application/agent/budget.js"
import { createRepeatGuard } from "#application/agent/repeat-guard.js"

const clock = (start = 1_000_000) => {
  let time = start
  return { now: () => time, advance: (ms: number) => (time += ms) }
}
const step = (inputTokens: number, outputTokens: number, costUsd = 0) => ({
  inputTokens,
  outputTokens,
  costUsd,
})

describe("createBudgetTracker", () => {
  it("counts steps, tokens and cost from each step's usage and names the first exhausted limit", () => {
    const { now } = clock()
    const tracker = createBudgetTracker({ maxSteps: 3, maxInputTokens: 2500, maxCostUsd: 1 }, now)
    tracker.recordStep(step(1000, 50, 0.25))
    expect(tracker.exceeded()).toBeUndefined()
    tracker.recordStep(step(1000, 50, 0.25))
    expect(tracker.usage).toEqual({ inputTokens: 2000, outputTokens: 100, costUsd: 0.5 })
    expect(tracker.steps).toBe(2)
    expect(tracker.exceeded()).toBeUndefined()
    tracker.recordStep(step(600, 50, 0.25))
    // steps and input tokens are both used up; steps is named first
    expect(tracker.exceeded()).toEqual({ limit: "steps", detail: "step limit: used all 3 of maxSteps 3" })
  })

  it.each([
    [
      { maxInputTokens: 1500 },
      step(1600, 1),
      "inputTokens",
      "input token limit: used 1600 of maxInputTokens 1500",
    ],
    [
      { maxOutputTokens: 100 },
      step(1, 120),
      "outputTokens",
      "output token limit: used 120 of maxOutputTokens 100",
    ],
    [{ maxCostUsd: 0.01 }, step(1, 1, 0.0123), "costUsd", "cost limit: spent $0.0123 of maxCostUsd $0.0100"],
  ] as const)("stops on %o with the figures in the detail", (limits, usage, limit, detail) => {
    const tracker = createBudgetTracker({ maxSteps: 10, ...limits }, clock().now)
    expect(tracker.exceeded()).toBeUndefined()
    tracker.recordStep(usage)
    expect(tracker.exceeded()).toEqual({ limit, detail })
  })

  it("measures wall-clock from the start and idle from the last step, not while a tool runs", () => {
    const { now, advance } = clock()
    const tracker = createBudgetTracker({ maxSteps: 10, wallClockMs: 20_000, idleMs: 3_000 }, now)
    expect(tracker.msUntilTimeLimit()).toBe(3_000)
    advance(2_000)
    tracker.recordStep(step(1, 1))
    expect(tracker.msUntilTimeLimit()).toBe(3_000)
    tracker.toolStarted()
    advance(5_000) // a long command: not idle
    expect(tracker.exceeded()).toBeUndefined()
    tracker.toolFinished()
    expect(tracker.msUntilTimeLimit()).toBe(3_000)
    advance(2_999)
    expect(tracker.exceeded()).toBeUndefined()
    advance(1)
    expect(tracker.exceeded()).toEqual({
      limit: "idle",
      detail: "idle limit: the model finished no step for 3.0 s (idleMs 3.0 s)",
    })
    tracker.recordStep(step(1, 1))
    expect(tracker.msUntilTimeLimit()).toBe(3_000)
    advance(10_000)
    expect(tracker.msUntilTimeLimit()).toBe(0)
    expect(tracker.exceeded()).toEqual({
      limit: "wallClock",
      detail: "wall-clock limit: ran 20.0 s of wallClockMs 20.0 s",
    })
  })

  it("warns once per limit when it passes 80%, and describes what may be spent", () => {
    const tracker = createBudgetTracker({ maxSteps: 10, maxCostUsd: 1, wallClockMs: 600_000 }, clock().now)
    expect(tracker.warning(7)).toBeUndefined()
    expect(tracker.warning(8)).toMatch(/^Budget warning: this is step 8 of 10\. .*call submit soon/)
    expect(tracker.warning(9)).toBeUndefined()
    tracker.recordStep(step(1, 1, 0.85))
    expect(tracker.warning(9)).toContain("$0.8500 of $1.0000 spent")
    expect(tracker.describe()).toBe(
      "- at most 10 steps (model turns)\n- at most $1.0000 of model usage\n- at most 10 minutes of wall-clock time, commands included",
    )
    expect(() => createBudgetTracker({ maxSteps: 0 })).toThrow(/maxSteps must be a positive integer/)
  })
})

describe("createRepeatGuard", () => {
  it("nudges at the 3rd identical call and stops at the 5th, whatever the key order", () => {
    const guard = createRepeatGuard()
    const verdicts = [
      guard.record("bash", { command: "ls", timeout_seconds: 5 }),
      guard.record("bash", { timeout_seconds: 5, command: "ls" }),
      guard.record("search", { pattern: "x" }),
      guard.record("bash", { command: "ls", timeout_seconds: 5 }),
      guard.record("bash", { command: "ls", timeout_seconds: 5 }),
      guard.record("bash", { command: "ls", timeout_seconds: 5 }),
    ].map((v) => `${v.count}:${v.action}`)
    expect(verdicts).toEqual(["1:run", "2:run", "1:run", "3:nudge", "4:nudge", "5:stop"])
  })

  it("forgets calls after a reset (a file changed) and beyond its window", () => {
    const guard = createRepeatGuard({ window: 4 })
    guard.record("bash", { command: "npm test" })
    guard.record("bash", { command: "npm test" })
    guard.reset()
    expect(guard.record("bash", { command: "npm test" })).toEqual({ count: 1, action: "run" })
    for (const pattern of ["a", "b", "c", "d"]) guard.record("search", { pattern })
    expect(guard.record("bash", { command: "npm test" })).toEqual({ count: 1, action: "run" })
  })
})
