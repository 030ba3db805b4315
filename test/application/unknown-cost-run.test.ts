/**
 * A run whose model has no price: its model-call events say costKnown: false, its stored totals keep
 * the model's name (unknown cost), and the usage event and the PR/comment text say "unknown".
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { createMemoryEventBus } from "#adapters/events/memory-event-bus.js"
import { createSqlRunStore } from "#adapters/store/sql/sql-run-store.js"
import { sideCallEvent } from "#application/agent/step-events.js"
import { createCheckRunReporter } from "#application/check-runs.js"
import type { CheckRunUpdate, CommitChecks } from "#application/ports/commit-checks.js"
import type { ModelHandle } from "#application/ports/model.js"
import { createJobRunner } from "#application/run-job.js"
import { createRunJournal } from "#application/run-journal.js"
import { formatUsage } from "#application/workflows/pull-request-body.js"
import { createCapturingLogger } from "../support/logger.js"
import { anAttempt, aRun } from "../support/runs.js"

describe("a run on a model without a price", () => {
  it("records its cost as unknown, in events, totals and text", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "prwright-unpriced-run-"))
    const store = await createSqlRunStore({ url: `sqlite:${path.join(dir, "prwright.db")}` })
    try {
      const journal = createRunJournal({
        store,
        bus: createMemoryEventBus(),
        logger: createCapturingLogger(),
      })
      const unpriced = { modelId: "local-llama", provider: "openai-compatible" } as unknown as ModelHandle
      const priced = {
        modelId: "gpt-4o",
        provider: "openai",
        pricing: { inputPerMillion: 2.5, outputPerMillion: 10 },
      } as unknown as ModelHandle
      let text = ""
      const runner = createJobRunner({
        store,
        journal,
        logger: createCapturingLogger(),
        clock: { now: () => new Date() },
        workflows: {
          "comment-on-issue": async (context) => {
            await context.emit(
              sideCallEvent({ inputTokens: 1000, outputTokens: 10, costUsd: 0.01 }, priced, 5),
            )
            await context.emit(
              sideCallEvent({ inputTokens: 1000, outputTokens: 10, costUsd: 0 }, unpriced, 5),
            )
            text = formatUsage(context.usage())
            return { artifacts: {} }
          },
        },
      })
      const stored = aRun({ maxAttempts: 1 })
      const jobId = stored.id
      await store.createRun(stored)
      await runner(anAttempt(stored))
      const events = await store.listEvents(jobId)
      const calls = events.filter((e) => e.type === "model-call")
      expect(calls.map((c) => (c.type === "model-call" ? c.costKnown : "?"))).toEqual([undefined, false])
      const run = await store.getRun(jobId)
      expect(run?.usage).toEqual({
        inputTokens: 2000,
        outputTokens: 20,
        costUsd: 0.01,
        unpricedModel: "local-llama",
      })
      const usageEvent = events.find((e) => e.type === "usage")
      expect(usageEvent?.type === "usage" && usageEvent.usage.unpricedModel).toBe("local-llama")
      expect(text).toContain("cost: unknown (model local-llama has no price; set PRWRIGHT_MODEL_PRICES)")
    } finally {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it("the check run on the commit says the cost is unknown, with the fix", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "prwright-unpriced-check-"))
    const store = await createSqlRunStore({ url: `sqlite:${path.join(dir, "prwright.db")}` })
    try {
      const updates: CheckRunUpdate[] = []
      // the port's recorder: what would go to GitHub's checks API
      const checks: CommitChecks = {
        getBranchSha: async () => "abc123",
        createCheckRun: async (_repo, check) => {
          updates.push(check)
          return { id: 1 }
        },
        findCheckRun: async () => undefined,
        updateCheckRun: async (_repo, _id, update) => {
          updates.push(update)
        },
        setCommitStatus: async () => {},
      }
      const reporter = createCheckRunReporter({
        checks,
        store,
        logger: createCapturingLogger(),
        mode: "check-run",
      })
      const { id } = await store.createRun(
        aRun({ type: "auto-resolve-issue", issueNumber: 2, maxAttempts: 1 }),
      )
      await store.updateRun(id, {
        status: "completed",
        artifacts: { commitHash: "abc123", branchName: "prwright/issue-2-x" },
        usage: { inputTokens: 900, outputTokens: 40, costUsd: 0, unpricedModel: "local-llama" },
      })
      reporter.observe(id, [{ type: "status", status: "completed", attempt: 1 }])
      await reporter.flush()
      const summary = updates.at(-1)?.output.summary ?? ""
      expect(summary).toContain(
        "Cost so far: unknown (model local-llama has no price; set PRWRIGHT_MODEL_PRICES)",
      )
      expect(summary).not.toContain("$0.0000")
    } finally {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
