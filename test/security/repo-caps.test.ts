/**
 * Weakness 6, as the attack: a repository's `.prwright.yml` asks for 100,000 steps and $1,000. The
 * run's caps are min(operator, repository): the agent gets the operator's 3 steps and $0.50, and
 * the repository may still lower them. On the old code the repository's values won (and 100,000
 * failed validation outright).
 */
import { afterEach, describe, expect, it } from "vitest"
import { effectiveCaps } from "#application/workflows/run-budget.js"
import { bash, type Harness, startHarness } from "../support/resolve-harness.js"
import { SAMPLE_FILES, SAMPLE_ISSUE } from "../support/sample-repo.js"

describe("security: a repository cannot raise the operator's caps", () => {
  let harness: Harness | undefined
  afterEach(async () => {
    await harness?.close()
    harness = undefined
  })

  it("takes the lower of the operator's and the repository's caps", () => {
    expect(effectiveCaps({ maxSteps: 3, maxCostUsd: 0.5 }, { maxSteps: 100_000, maxCostUsd: 1000 })).toEqual({
      maxSteps: 3,
      maxCostUsd: 0.5,
    })
    expect(effectiveCaps({ maxSteps: 50, maxCostUsd: 5 }, { maxSteps: 10, maxCostUsd: 0.25 })).toEqual({
      maxSteps: 10,
      maxCostUsd: 0.25,
    })
    // no operator cost cap: the repository's own still applies (it only lowers "unlimited")
    expect(effectiveCaps({ maxSteps: 50 }, { maxCostUsd: 2 })).toEqual({ maxSteps: 50, maxCostUsd: 2 })
    expect(effectiveCaps({ maxSteps: 50 }, undefined)).toEqual({ maxSteps: 50 })
  })

  // 100000 / 1000 failed validation on the old code; 400 / 900 parsed there and raised the caps
  for (const [steps, cost] of [
    [100_000, 1000],
    [400, 900],
  ] as const) {
    it(`a .prwright.yml with maxSteps: ${steps} and maxCostUsd: ${cost} runs on the operator's 3 steps and $0.50`, async () => {
      harness = await startHarness({
        files: { ...SAMPLE_FILES, ".prwright.yml": `maxSteps: ${steps}\nmaxCostUsd: ${cost}\n` },
        issue: SAMPLE_ISSUE,
        script: [bash("echo 1"), bash("echo 2"), bash("echo 3"), bash("echo 4"), bash("echo 5")],
        // a priced model, so that the cost cap is enforced rather than refused
        env: {
          PRWRIGHT_MAX_STEPS: "3",
          PRWRIGHT_MAX_COST_USD: "0.5",
          PRWRIGHT_MODEL_PRICES: JSON.stringify({ scripted: { input: 0.5, output: 1.5 } }),
        },
      })
      const run = await harness.run("resolve-issue")
      expect(run.status).toBe("failed")
      expect(run.error).toMatch(/step limit/)
      expect(harness.coderCalls).toHaveLength(1)
      expect(harness.coderCalls[0]!.budget.maxSteps).toBe(3)
      expect(harness.coderCalls[0]!.budget.maxCostUsd).toBeLessThanOrEqual(0.5)
      // three model steps were played, not a fourth
      expect(harness.model.played).toBe(3)
    }, 120_000)
  }
})
