/**
 * The RunStore contract (+ ApiTokenStore, PlanStore, DeliveryStore, SecretStore, RepoSettingsStore):
 * every adapter runs this same suite, e.g.
 * `runRunStoreContract("sqlite", async ({ clock, secretKey }) => ({ store, cleanup }))`.
 * The clock is the test's, so ordering and timestamps are exact and deterministic.
 */
import { describe, expect, it } from "vitest"
import type { ApiTokenStore } from "#application/ports/api-token-store.js"
import type { Clock } from "#application/ports/clock.js"
import type { DeliveryStore } from "#application/ports/delivery-store.js"
import type { NewPlan, PlanStore } from "#application/ports/plan-store.js"
import type { RepoSettingsStore } from "#application/ports/repo-settings-store.js"
import type { NewRun, RunStore, SpendingSubject } from "#application/ports/run-store.js"
import type { SecretStore } from "#application/ports/secret-store.js"
import { ConflictError, NotFoundError, ValidationError } from "#domain/errors.js"
import type { RunEventData } from "#domain/run-event.js"
import { spentByListing } from "../support/spent-by-listing.js"

export interface ManualClock extends Clock {
  advance(ms: number): void
}

export const createManualClock = (start = Date.parse("2025-03-04T05:06:07.891Z")): ManualClock => {
  let now = start
  return {
    now: () => new Date(now),
    advance: (ms) => {
      now += ms
    },
  }
}

export type ContractStore = RunStore &
  ApiTokenStore &
  PlanStore &
  DeliveryStore &
  SecretStore &
  RepoSettingsStore

export interface RunStoreSubject {
  store: ContractStore
  cleanup(): Promise<void>
}

export interface RunStoreSubjectOptions {
  clock: Clock
  /** the key material for stored secrets */
  secretKey: () => Promise<string>
}

export const CONTRACT_SECRET_KEY = "contract-secret-key-0123456789abcdef"

const newRun = (id: string, overrides: Partial<NewRun> = {}): NewRun => ({
  id,
  type: "comment-on-issue",
  repoFullName: "acme/widgets",
  issueNumber: 7,
  priority: "normal",
  input: { issueNumber: 7, repoFullName: "acme/widgets", options: { nested: [1, "two", { three: true }] } },
  trigger: { source: "api", actor: "octocat" },
  maxAttempts: 3,
  ...overrides,
})

export const runRunStoreContract = (
  name: string,
  create: (options: RunStoreSubjectOptions) => Promise<RunStoreSubject>,
): void => {
  describe(`RunStore contract: ${name}`, () => {
    const withStore = async (
      test: (store: RunStoreSubject["store"], clock: ManualClock) => Promise<void>,
    ) => {
      const clock = createManualClock()
      const subject = await create({ clock, secretKey: async () => CONTRACT_SECRET_KEY })
      try {
        await test(subject.store, clock)
      } finally {
        await subject.cleanup()
      }
    }

    it("creates a pending run and reads every field back", () =>
      withStore(async (store, clock) => {
        const created = await store.createRun(newRun("run-1", { priority: "urgent" }))
        const createdAt = clock.now()
        expect(created).toEqual({
          id: "run-1",
          type: "comment-on-issue",
          status: "pending",
          repoFullName: "acme/widgets",
          issueNumber: 7,
          priority: "urgent",
          input: {
            issueNumber: 7,
            repoFullName: "acme/widgets",
            options: { nested: [1, "two", { three: true }] },
          },
          trigger: { source: "api", actor: "octocat" },
          attempts: 0,
          maxAttempts: 3,
          progress: 0,
          artifacts: {},
          usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
          createdAt,
          updatedAt: createdAt,
        })
        expect(await store.getRun("run-1")).toEqual(created)

        clock.advance(1234)
        const startedAt = new Date(clock.now().getTime() - 1)
        const finishedAt = clock.now()
        await store.updateRun("run-1", {
          status: "completed",
          attempts: 2,
          progress: 100,
          progressMessage: "done",
          artifacts: { planCommentId: 42, planCommentUrl: "https://github.test/c/42", filesChanged: 3 },
          usage: { inputTokens: 12_345_678, outputTokens: 9_876, costUsd: 1.234567 },
          summary: "the plan",
          error: "an earlier failure",
          startedAt,
          finishedAt,
        })
        const read = await store.getRun("run-1")
        expect(read).toEqual({
          ...created,
          status: "completed",
          attempts: 2,
          progress: 100,
          progressMessage: "done",
          artifacts: { planCommentId: 42, planCommentUrl: "https://github.test/c/42", filesChanged: 3 },
          usage: { inputTokens: 12_345_678, outputTokens: 9_876, costUsd: 1.234567 },
          summary: "the plan",
          error: "an earlier failure",
          startedAt,
          finishedAt,
          updatedAt: finishedAt,
        })
        expect(read?.createdAt).toBeInstanceOf(Date)
        expect(read?.startedAt?.getTime()).toBe(startedAt.getTime())
        expect(await store.getRun("missing")).toBeUndefined()
      }))

    it("refuses a second run with the same id and keeps the first", () =>
      withStore(async (store) => {
        await store.createRun(newRun("dup", { issueNumber: 1 }))
        await expect(store.createRun(newRun("dup", { issueNumber: 2 }))).rejects.toBeInstanceOf(ConflictError)
        expect((await store.getRun("dup"))?.issueNumber).toBe(1)
      }))

    it("merges artifacts, replaces other fields, clears with null and bumps updatedAt", () =>
      withStore(async (store, clock) => {
        await store.createRun(newRun("r"))
        clock.advance(10)
        await store.updateRun("r", { status: "running", artifacts: { planCommentId: 1, branchName: "b" } })
        clock.advance(10)
        const updated = await store.updateRun("r", {
          status: "failed",
          error: "boom",
          finishedAt: clock.now(),
          artifacts: { pullRequestNumber: 5, branchName: "b2" },
        })
        expect(updated.artifacts).toEqual({ planCommentId: 1, branchName: "b2", pullRequestNumber: 5 })
        expect(updated.status).toBe("failed")
        expect(updated.error).toBe("boom")
        expect(updated.finishedAt).toEqual(clock.now())
        expect(updated.updatedAt).toEqual(clock.now())
        expect(await store.getRun("r")).toEqual(updated)

        clock.advance(10)
        const cleared = await store.updateRun("r", { error: null, finishedAt: null, progressMessage: null })
        expect(cleared.error).toBeUndefined()
        expect(cleared.finishedAt).toBeUndefined()
        expect(cleared.status).toBe("failed")
        expect(cleared.artifacts).toEqual(updated.artifacts)
      }))

    it("keeps both artifacts when two merges race", () =>
      withStore(async (store) => {
        await store.createRun(newRun("race"))
        await Promise.all([
          store.updateRun("race", { artifacts: { planCommentId: 1 } }),
          store.updateRun("race", { artifacts: { branchName: "x" } }),
          store.updateRun("race", { artifacts: { commitHash: "abc" } }),
        ])
        expect((await store.getRun("race"))?.artifacts).toEqual({
          planCommentId: 1,
          branchName: "x",
          commitHash: "abc",
        })
      }))

    it("updates an active run only while it has not ended: a finished run is never overwritten", () =>
      withStore(async (store, clock) => {
        await store.createRun(newRun("once"))
        clock.advance(10)
        const running = await store.updateActiveRun("once", { status: "running", progress: 10 })
        expect(running?.status).toBe("running")
        expect(running?.progress).toBe(10)
        const cancelled = await store.updateActiveRun("once", {
          status: "cancelled",
          error: "cancelled by octocat",
          finishedAt: clock.now(),
        })
        expect(cancelled?.status).toBe("cancelled")
        clock.advance(10)
        // a late worker's outcome (and its artifacts) is refused: the run keeps the first ending
        expect(
          await store.updateActiveRun("once", {
            status: "completed",
            progress: 100,
            error: null,
            artifacts: { pullRequestNumber: 9 },
          }),
        ).toBeUndefined()
        const stored = await store.getRun("once")
        expect(stored?.status).toBe("cancelled")
        expect(stored?.error).toBe("cancelled by octocat")
        expect(stored?.progress).toBe(10)
        expect(stored?.artifacts).toEqual({})
        expect(stored).toEqual(cancelled)
        for (const status of ["completed", "failed"] as const) {
          await store.createRun(newRun(status))
          await store.updateActiveRun(status, { status })
          expect(await store.updateActiveRun(status, { status: "cancelled" })).toBeUndefined()
          expect((await store.getRun(status))?.status).toBe(status)
        }
        await expect(store.updateActiveRun("nope", { status: "running" })).rejects.toBeInstanceOf(
          NotFoundError,
        )
      }))

    it("keeps a total whose cost is unknown (a model without a price) as unknown", () =>
      withStore(async (store) => {
        await store.createRun(newRun("unpriced"))
        const usage = { inputTokens: 100, outputTokens: 5, costUsd: 0.01, unpricedModel: "local-llama" }
        expect((await store.updateRun("unpriced", { usage })).usage).toEqual(usage)
        expect((await store.getRun("unpriced"))?.usage).toEqual(usage)
        // a known total has no unpricedModel key at all
        const known = { inputTokens: 1, outputTokens: 1, costUsd: 0.5 }
        expect((await store.updateRun("unpriced", { usage: known })).usage).toEqual(known)
      }))

    it("lets exactly one of two racing endings win", () =>
      withStore(async (store) => {
        await store.createRun(newRun("race-end"))
        await store.updateActiveRun("race-end", { status: "running" })
        const [a, b] = await Promise.all([
          store.updateActiveRun("race-end", { status: "cancelled", error: "cancelled" }),
          store.updateActiveRun("race-end", { status: "completed", artifacts: { pullRequestNumber: 3 } }),
        ])
        expect([a, b].filter((r) => r !== undefined)).toHaveLength(1)
        const winner = (a ?? b)!
        expect(await store.getRun("race-end")).toEqual(winner)
      }))

    it("refuses to update an unknown run", () =>
      withStore(async (store) => {
        await expect(store.updateRun("nope", { status: "running" })).rejects.toBeInstanceOf(NotFoundError)
        await expect(store.updateRun("nope", { artifacts: { branchName: "x" } })).rejects.toBeInstanceOf(
          NotFoundError,
        )
      }))

    it("lists newest first with filters and pages through a cursor without gaps or duplicates", () =>
      withStore(async (store, clock) => {
        const specs: Array<[string, Partial<NewRun>]> = [
          ["a", { repoFullName: "acme/one", type: "comment-on-issue", issueNumber: 1 }],
          ["b", { repoFullName: "acme/two", type: "resolve-issue", issueNumber: 2 }],
          ["c", { repoFullName: "acme/one", type: "auto-resolve-issue", issueNumber: 1 }],
          ["d", { repoFullName: "acme/one", type: "comment-on-issue", issueNumber: 3 }],
          ["e", { repoFullName: "acme/two", type: "comment-on-issue", issueNumber: 2 }],
          ["f", { repoFullName: "acme/one", type: "resolve-issue", issueNumber: 1 }],
          ["g", { repoFullName: "acme/two", type: "auto-resolve-issue", issueNumber: 4 }],
        ]
        for (const [index, [id, overrides]] of specs.entries()) {
          // d, e and f share one millisecond: the id breaks the tie.
          if (index !== 4 && index !== 5) clock.advance(5)
          await store.createRun(newRun(id, overrides))
        }
        await store.updateRun("b", { status: "running" })
        await store.updateRun("f", { status: "running" })
        const newestFirst = ["g", "f", "e", "d", "c", "b", "a"]
        const ids = async (filter: Parameters<RunStore["listRuns"]>[0]) =>
          (await store.listRuns(filter)).runs.map((run) => run.id)

        const all = await store.listRuns({})
        expect(all.runs.map((run) => run.id)).toEqual(newestFirst)
        expect(all.nextCursor).toBeUndefined()

        const seen: string[] = []
        let cursor: string | undefined
        let pages = 0
        do {
          const page = await store.listRuns({ limit: 3, ...(cursor ? { cursor } : {}) })
          expect(page.runs.length).toBeLessThanOrEqual(3)
          seen.push(...page.runs.map((run) => run.id))
          cursor = page.nextCursor
          pages++
        } while (cursor && pages < 10)
        expect(seen).toEqual(newestFirst)
        expect(pages).toBe(3)

        // Exact page size: the last full page must not promise a next one.
        const exact = await store.listRuns({ limit: 7 })
        expect(exact.runs).toHaveLength(7)
        expect(exact.nextCursor).toBeUndefined()

        expect(await ids({ repoFullName: "acme/one" })).toEqual(["f", "d", "c", "a"])
        expect(await ids({ status: "running" })).toEqual(["f", "b"])
        expect(await ids({ type: "comment-on-issue" })).toEqual(["e", "d", "a"])
        expect(await ids({ repoFullName: "acme/one", issueNumber: 1 })).toEqual(["f", "c", "a"])
        expect(
          await ids({ repoFullName: "acme/two", status: "pending", type: "auto-resolve-issue" }),
        ).toEqual(["g"])
        expect(await ids({ repoFullName: "acme/none" })).toEqual([])
        // any of several statuses (the webhook intake's "active run of this issue" in one query)
        const active = { repoFullName: "acme/one", issueNumber: 1, statuses: ["pending", "running"] } as const
        expect(await ids(active)).toEqual(["f", "c", "a"])
        expect(await ids({ ...active, limit: 1 })).toEqual(["f"])
        expect(await ids({ ...active, statuses: ["pending"] })).toEqual(["c", "a"])
        expect(await ids({ statuses: ["running", "completed"] })).toEqual(["f", "b"])
        expect(await ids({ ...active, statuses: [] })).toEqual([])

        const firstFiltered = await store.listRuns({ repoFullName: "acme/one", limit: 2 })
        expect(firstFiltered.runs.map((run) => run.id)).toEqual(["f", "d"])
        const secondFiltered = await store.listRuns({
          repoFullName: "acme/one",
          limit: 2,
          cursor: firstFiltered.nextCursor,
        })
        expect(secondFiltered.runs.map((run) => run.id)).toEqual(["c", "a"])
        expect(secondFiltered.nextCursor).toBeUndefined()
      }))

    it("rejects a bad limit or cursor", () =>
      withStore(async (store) => {
        await expect(store.listRuns({ limit: 0 })).rejects.toBeInstanceOf(ValidationError)
        await expect(store.listRuns({ limit: 201 })).rejects.toBeInstanceOf(ValidationError)
        await expect(store.listRuns({ cursor: "not-a-cursor" })).rejects.toBeInstanceOf(ValidationError)
        expect((await store.listRuns({ limit: 200 })).runs).toEqual([])
      }))

    it("appends events with consecutive seq across calls and lists them in order", () =>
      withStore(async (store, clock) => {
        await store.createRun(newRun("ev"))
        const first = await store.appendEvents("ev", [
          { type: "status", status: "running", attempt: 1 },
          {
            type: "tool-call",
            toolCallId: "t1",
            tool: "bash",
            input: { command: "ls", nested: [1, { a: null }] },
          },
        ])
        expect(first.map((event) => event.seq)).toEqual([1, 2])
        expect(first[0]).toEqual({
          type: "status",
          status: "running",
          attempt: 1,
          runId: "ev",
          seq: 1,
          at: clock.now(),
        })
        clock.advance(50)
        const second = await store.appendEvents("ev", [
          { type: "usage", usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.0012 } },
        ])
        expect(second).toEqual([
          {
            type: "usage",
            usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.0012 },
            runId: "ev",
            seq: 3,
            at: clock.now(),
          },
        ])
        const listed = await store.listEvents("ev")
        expect(listed).toEqual([...first, ...second])
        expect(listed[1]).toMatchObject({ tool: "bash", input: { command: "ls", nested: [1, { a: null }] } })
        expect(listed[2]?.at).toBeInstanceOf(Date)

        // Another run has its own sequence.
        await store.createRun(newRun("ev2"))
        expect((await store.appendEvents("ev2", [{ type: "plan", plan: "# plan" }]))[0]?.seq).toBe(1)
        expect(await store.listEvents("ev")).toHaveLength(3)
      }))

    it("gives seq 1..N without gaps or duplicates to concurrent appenders", () =>
      withStore(async (store) => {
        await store.createRun(newRun("busy"))
        const batches = await Promise.all(
          Array.from({ length: 10 }, (_, call) =>
            store.appendEvents(
              "busy",
              Array.from(
                { length: 3 },
                (_, i): RunEventData => ({ type: "log", level: "info", message: `${call}.${i}` }),
              ),
            ),
          ),
        )
        for (const batch of batches) {
          const seqs = batch.map((event) => event.seq)
          // one call's events stay together, in the order given
          expect(seqs).toEqual([seqs[0], seqs[0]! + 1, seqs[0]! + 2])
        }
        const stored = await store.listEvents("busy")
        expect(stored.map((event) => event.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
        expect(new Set(stored.map((event) => (event as { message: string }).message)).size).toBe(30)
      }))

    it("stores awkward text exactly and appends a large batch in one call", () =>
      withStore(async (store) => {
        await store.createRun(newRun("text"))
        const awkward = [
          'quotes " and \' and backslash \\ and \\" mixed',
          "{braces},[brackets],commas, NULL",
          "NULL",
          "",
          "line\nbreak\ttab \u2028 unicode: żółw 🐢 \u00e9",
        ]
        const events = awkward.map((message): RunEventData => ({ type: "log", level: "warn", message }))
        const stored = await store.appendEvents("text", [
          ...events,
          { type: "tool-call", toolCallId: "NULL", tool: "{x}", input: { 'k"ey': ["\\", null, '"'] } },
        ])
        expect(
          stored.slice(0, awkward.length).map((event) => (event as { message: string }).message),
        ).toEqual(awkward)
        expect(await store.listEvents("text")).toEqual(stored)

        const batch = Array.from(
          { length: 1_234 },
          (_, i): RunEventData => ({ type: "progress", progress: i % 101 }),
        )
        const appended = await store.appendEvents("text", batch)
        expect(appended.map((event) => event.seq)).toEqual(batch.map((_, i) => awkward.length + 2 + i))
        const listed = await store.listEvents("text", { afterSeq: awkward.length + 1 })
        expect(listed).toEqual(appended)
        expect((listed.at(-1) as { progress: number }).progress).toBe(1_233 % 101)
      }))

    it("lists events after a seq, up to a limit", () =>
      withStore(async (store) => {
        await store.createRun(newRun("page"))
        await store.appendEvents(
          "page",
          Array.from({ length: 6 }, (_, i): RunEventData => ({ type: "progress", progress: i * 10 })),
        )
        expect((await store.listEvents("page", { afterSeq: 2 })).map((e) => e.seq)).toEqual([3, 4, 5, 6])
        expect((await store.listEvents("page", { afterSeq: 2, limit: 2 })).map((e) => e.seq)).toEqual([3, 4])
        expect((await store.listEvents("page", { limit: 1 })).map((e) => e.seq)).toEqual([1])
        expect(await store.listEvents("page", { afterSeq: 6 })).toEqual([])
        expect(await store.listEvents("unknown-run")).toEqual([])
      }))

    // event validation is the run journal's (test/application/run-journal.test.ts), not the store's
    it("refuses events for an unknown run, storing nothing", () =>
      withStore(async (store) => {
        await expect(store.appendEvents("ghost", [{ type: "plan", plan: "x" }])).rejects.toBeInstanceOf(
          NotFoundError,
        )
        await expect(store.appendEvents("ghost", [])).rejects.toBeInstanceOf(NotFoundError)
        await store.createRun(newRun("real"))
        expect(await store.listEvents("real")).toEqual([])
        expect(await store.appendEvents("real", [])).toEqual([])
        expect((await store.appendEvents("real", [{ type: "plan", plan: "ok" }]))[0]?.seq).toBe(1)
      }))

    it("stores API tokens by hash", () =>
      withStore(async (store) => {
        expect(await store.countApiTokens()).toBe(0)
        expect(await store.findApiTokenByHash("h1")).toBeUndefined()
        await store.addApiToken({ id: "tok-1", label: "first start", hash: "h1" })
        await store.addApiToken({ id: "tok-2", label: "ci", hash: "h2" })
        expect(await store.countApiTokens()).toBe(2)
        expect(await store.findApiTokenByHash("h2")).toEqual({ id: "tok-2", label: "ci" })
        expect(await store.findApiTokenByHash("H2")).toBeUndefined()
        await expect(store.addApiToken({ id: "tok-3", label: "again", hash: "h1" })).rejects.toBeInstanceOf(
          ConflictError,
        )
        expect(await store.countApiTokens()).toBe(2)
      }))

    it("replaces every stored API token with one (token rotate)", () =>
      withStore(async (store) => {
        await store.addApiToken({ id: "tok-1", label: "generated", hash: "h1" })
        await store.addApiToken({ id: "tok-2", label: "ci", hash: "h2" })
        await store.replaceApiTokens({ id: "tok-3", label: "rotated", hash: "h3" })
        expect(await store.countApiTokens()).toBe(1)
        expect(await store.findApiTokenByHash("h1")).toBeUndefined()
        expect(await store.findApiTokenByHash("h2")).toBeUndefined()
        expect(await store.findApiTokenByHash("h3")).toEqual({ id: "tok-3", label: "rotated" })
        // rotating onto a hash already stored is fine: the old row is gone first
        await store.replaceApiTokens({ id: "tok-4", label: "rotated", hash: "h3" })
        expect(await store.findApiTokenByHash("h3")).toEqual({ id: "tok-4", label: "rotated" })
        expect(await store.countApiTokens()).toBe(1)
      }))

    it("stores diffs, test results and budget events as given", () =>
      withStore(async (store) => {
        await store.createRun(newRun("kinds"))
        const events: RunEventData[] = [
          {
            type: "diff",
            diff: "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
            files: ["x"],
            truncated: false,
            bytes: 36,
          },
          {
            type: "test-result",
            phase: "baseline",
            command: "npm test",
            exitCode: 1,
            passed: 3,
            failed: 1,
            durationMs: 1234,
            output: "1 failing",
            bytes: 9,
          },
          {
            type: "test-result",
            phase: "verify",
            command: "npm test",
            exitCode: null,
            durationMs: 60_000,
            output: "…timed out",
            bytes: 123_456,
            truncated: true,
          },
          { type: "budget", resource: "costUsd", limit: 1.5, used: 1.51, message: "over budget" },
        ]
        const stored = await store.appendEvents("kinds", events)
        expect(stored.map(({ runId: _r, seq: _s, at: _a, ...data }) => data)).toEqual(events)
        expect(await store.listEvents("kinds")).toEqual(stored)
      }))

    it("sums what a repository's or an owner's runs cost since the month's and the day's start", () =>
      withStore(async (store, clock) => {
        const spend = async (iso: string, id: string, repoFullName: string, costUsd: number) => {
          clock.advance(Date.parse(iso) - clock.now().getTime())
          await store.createRun(newRun(id, { repoFullName }))
          await store.updateRun(id, {
            status: id === "failed" ? "failed" : "completed",
            usage: { inputTokens: 10, outputTokens: 1, costUsd },
          })
        }
        await spend("2025-02-28T23:59:59.999Z", "last-month", "acme/one", 64) // before the month
        await spend("2025-03-01T00:00:00.000Z", "month-start", "acme/one", 1)
        await spend("2025-03-03T23:59:59.999Z", "yesterday", "Acme/Two", 2)
        await spend("2025-03-04T00:00:00.000Z", "day-start", "acme/one", 4)
        await spend("2025-03-04T05:00:00.000Z", "failed", "ACME/two", 8) // any status counts
        await spend("2025-03-04T05:01:00.000Z", "other-owner", "other/one", 16)
        await spend("2025-03-04T05:02:00.000Z", "longer-owner", "acmecorp/one", 32)
        await store.createRun(newRun("no-cost-yet", { repoFullName: "acme/one" })) // pending, $0

        const since = {
          monthStart: new Date("2025-03-01T00:00:00Z"),
          dayStart: new Date("2025-03-04T00:00:00Z"),
        }
        const spent = (subject: SpendingSubject) => store.spentCost({ subject, ...since })
        // a repository: its exact name, as listRuns matches it
        expect(await spent({ repoFullName: "acme/one" })).toEqual({ dayUsd: 4, monthUsd: 5 })
        expect(await spent({ repoFullName: "Acme/Two" })).toEqual({ dayUsd: 0, monthUsd: 2 })
        expect(await spent({ repoFullName: "acme/none" })).toEqual({ dayUsd: 0, monthUsd: 0 })
        // an owner (installation): all its repositories, its name in any case, no other owner
        expect(await spent({ owner: "acme" })).toEqual({ dayUsd: 12, monthUsd: 15 })
        expect(await spent({ owner: "ACME" })).toEqual({ dayUsd: 12, monthUsd: 15 })
        expect(await spent({ owner: "other" })).toEqual({ dayUsd: 16, monthUsd: 16 })
        expect(await spent({ owner: "acmecorp" })).toEqual({ dayUsd: 32, monthUsd: 32 })
        expect(await spent({ owner: "acm" })).toEqual({ dayUsd: 0, monthUsd: 0 })
        // periods that start earlier take the older run in (creation time is all that decides)
        expect(
          await store.spentCost({
            subject: { owner: "acme" },
            monthStart: new Date("2025-02-01T00:00:00Z"),
            dayStart: new Date("2025-02-28T00:00:00Z"),
          }),
        ).toEqual({ dayUsd: 79, monthUsd: 79 })
        // and the same answers the spending guard once computed by paging through listRuns
        for (const subject of [
          { repoFullName: "acme/one" },
          { repoFullName: "Acme/Two" },
          { owner: "Acme" },
          { owner: "other" },
        ])
          expect(await spent(subject)).toEqual(await spentByListing(store, { subject, ...since }))
      }))
  })
}

/** Runs the RunStore contract and the record-store contracts against one adapter. */
export const runStoreContracts = (
  name: string,
  create: (options: RunStoreSubjectOptions) => Promise<RunStoreSubject>,
): void => {
  runRunStoreContract(name, create)
  runRecordStoresContract(name, create)
}

const newPlan = (id: string, overrides: Partial<NewPlan> = {}): NewPlan => ({
  id,
  repoFullName: "acme/widgets",
  issueNumber: 7,
  body: `plan ${id}`,
  ...overrides,
})

/** PlanStore, DeliveryStore, SecretStore and RepoSettingsStore. */
export const runRecordStoresContract = (
  name: string,
  create: (options: RunStoreSubjectOptions) => Promise<RunStoreSubject>,
): void => {
  describe(`record stores contract: ${name}`, () => {
    const withStore = async (test: (store: ContractStore, clock: ManualClock) => Promise<void>) => {
      const clock = createManualClock()
      const subject = await create({ clock, secretKey: async () => CONTRACT_SECRET_KEY })
      try {
        await test(subject.store, clock)
      } finally {
        await subject.cleanup()
      }
    }

    it("versions plans per issue, superseding earlier ones, and approves only the current one", () =>
      withStore(async (store, clock) => {
        expect(await store.latestPlan("acme/widgets", 7)).toBeUndefined()
        const v1 = await store.savePlan(newPlan("p1", { runId: "run-a", commentId: 2_200_000_001 }))
        expect(v1).toEqual({
          id: "p1",
          repoFullName: "acme/widgets",
          issueNumber: 7,
          version: 1,
          status: "draft",
          body: "plan p1",
          runId: "run-a",
          commentId: 2_200_000_001,
          createdAt: clock.now(),
          updatedAt: clock.now(),
        })
        expect(await store.approvePlan("p1")).toMatchObject({ status: "approved", version: 1 })
        clock.advance(10)
        const v2 = await store.savePlan(newPlan("p2"))
        expect(v2).toMatchObject({ version: 2, status: "draft" })
        expect(v2.runId).toBeUndefined()
        expect(await store.getPlan("p1")).toMatchObject({ status: "superseded", updatedAt: clock.now() })
        await expect(store.approvePlan("p1")).rejects.toBeInstanceOf(ConflictError)
        await expect(store.approvePlan("nope")).rejects.toBeInstanceOf(NotFoundError)

        // another issue and another repository have their own versions
        expect((await store.savePlan(newPlan("other-issue", { issueNumber: 8 }))).version).toBe(1)
        expect((await store.savePlan(newPlan("other-repo", { repoFullName: "acme/gears" }))).version).toBe(1)
        expect((await store.getPlan("p2"))?.status).toBe("draft")

        expect((await store.latestPlan("acme/widgets", 7))?.id).toBe("p2")
        expect(await store.latestPlan("acme/widgets", 7, { status: "approved" })).toBeUndefined()
        expect((await store.latestPlan("acme/widgets", 7, { status: "superseded" }))?.id).toBe("p1")
        const approved = await store.approvePlan("p2")
        expect(await store.approvePlan("p2")).toEqual(approved)
        expect((await store.latestPlan("acme/widgets", 7, { status: "approved" }))?.id).toBe("p2")

        const v3 = await store.savePlan(newPlan("p3", { status: "approved" }))
        expect(v3).toMatchObject({ version: 3, status: "approved" })
        expect((await store.getPlan("p2"))?.status).toBe("superseded")
        await expect(store.savePlan(newPlan("p3"))).rejects.toBeInstanceOf(ConflictError)
        expect((await store.latestPlan("acme/widgets", 7))?.version).toBe(3)
      }))

    it("records where a plan lives and refuses unknown plans", () =>
      withStore(async (store, clock) => {
        await store.savePlan(newPlan("c1"))
        clock.advance(5)
        const updated = await store.updatePlan("c1", {
          commentId: 99,
          commentUrl: "https://github.test/acme/widgets/issues/7#issuecomment-99",
          body: "revised",
        })
        expect(updated).toMatchObject({
          commentId: 99,
          body: "revised",
          status: "draft",
          updatedAt: clock.now(),
        })
        expect(await store.getPlan("c1")).toEqual(updated)
        await expect(store.updatePlan("ghost", { body: "x" })).rejects.toBeInstanceOf(NotFoundError)
        expect(await store.getPlan("ghost")).toBeUndefined()
      }))

    it("gives concurrent plans of one issue distinct consecutive versions", () =>
      withStore(async (store) => {
        const saved = await Promise.all(Array.from({ length: 6 }, (_, i) => store.savePlan(newPlan(`c${i}`))))
        expect(saved.map((plan) => plan.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6])
        const latest = await store.latestPlan("acme/widgets", 7)
        expect(latest?.version).toBe(6)
        const statuses = await Promise.all(saved.map(async (plan) => (await store.getPlan(plan.id))?.status))
        expect(statuses.filter((status) => status === "draft")).toHaveLength(1)
      }))

    it("remembers webhook deliveries so a redelivery is recognised", () =>
      withStore(async (store) => {
        expect(await store.recordDelivery({ id: "d-1", event: "issues" })).toBe(true)
        expect(await store.recordDelivery({ id: "d-1", event: "issues" })).toBe(false)
        expect(await store.recordDelivery({ id: "d-2", event: "issue_comment", runId: "r" })).toBe(true)
        const racing = await Promise.all(
          Array.from({ length: 5 }, () => store.recordDelivery({ id: "d-3", event: "issues" })),
        )
        expect(racing.filter(Boolean)).toHaveLength(1)
      }))

    it("stores secrets encrypted and gives them back", () =>
      withStore(async (store) => {
        expect(await store.getSecret("github.token")).toBeUndefined()
        await store.putSecret("github.token", "ghp_first-value")
        await store.putSecret("unicode", "päss wörd ✓ 🔑")
        expect(await store.getSecret("github.token")).toBe("ghp_first-value")
        await store.putSecret("github.token", "ghp_second-value")
        expect(await store.getSecret("github.token")).toBe("ghp_second-value")
        expect(await store.getSecret("unicode")).toBe("päss wörd ✓ 🔑")
        expect(await store.deleteSecret("github.token")).toBe(true)
        expect(await store.deleteSecret("github.token")).toBe(false)
        expect(await store.getSecret("github.token")).toBeUndefined()
      }))

    it("keeps settings per repository and replaces them as a whole", () =>
      withStore(async (store, clock) => {
        expect(await store.getRepoSettings("acme/widgets")).toBeUndefined()
        const first = await store.putRepoSettings("acme/widgets", {
          test: "npm test",
          maxSteps: 20,
          nested: { labels: ["a", "b"] },
        })
        expect(first).toEqual({
          repoFullName: "acme/widgets",
          settings: { test: "npm test", maxSteps: 20, nested: { labels: ["a", "b"] } },
          updatedAt: clock.now(),
        })
        expect(await store.getRepoSettings("acme/widgets")).toEqual(first)
        clock.advance(1000)
        await store.putRepoSettings("acme/widgets", { lint: "npm run lint" })
        expect(await store.getRepoSettings("acme/widgets")).toEqual({
          repoFullName: "acme/widgets",
          settings: { lint: "npm run lint" },
          updatedAt: clock.now(),
        })
        expect(await store.getRepoSettings("acme/gears")).toBeUndefined()
      }))
  })
}
