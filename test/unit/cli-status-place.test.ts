/**
 * `prwright status <jobId>` for a waiting run: the place in line, what it waits for and the estimate,
 * worded as the run's issue comment words it (describePlace); nothing of the kind for a run that does
 * not wait. The end-to-end form (a real server, a real queue) is in test/e2e/ui-queue.e2e.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { describePlace, type RunPlace } from "#application/run-place.js"
import { placeText, printStatus } from "#entrypoints/cli/run-commands.js"

const base = {
  jobId: "job-1",
  type: "comment-on-issue",
  repoFullName: "acme/app",
  issueNumber: 7,
  progress: 0,
  attempts: 0,
  maxAttempts: 3,
  usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
}

describe("prwright status: a waiting run's place", () => {
  let lines: string[]
  beforeEach(() => {
    lines = []
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split("\n").filter(Boolean))
      return true
    })
  })
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it("prints the place, the limit that holds it and the estimate on a `queue` line", () => {
    const queue: RunPlace = {
      place: 2,
      waitingFor: "repository-limit",
      limit: 1,
      estimatedStart: "2026-12-06T10:42:00.000Z",
      estimate: "about 10:42 UTC (in ~4 min, from the average of 3 recent runs of acme/app)",
    }
    printStatus({ ...base, status: "pending", queue })
    const line = lines.find((l) => l.startsWith("queue "))
    expect(line).toBe(`queue     ${describePlace(queue)}`)
    expect(line).toBe(
      "queue     place 2 in line, waiting for a free slot of the repository's run limit (1 active run at most); estimated start: about 10:42 UTC (in ~4 min, from the average of 3 recent runs of acme/app)",
    )
    // between the status and the attempts, where a reader looks for "why is it not running"
    expect(lines.findIndex((l) => l.startsWith("status"))).toBe(lines.indexOf(line ?? "") - 1)
  })

  it("says when there is no history to estimate from, and for an issue's active run", () => {
    printStatus({
      ...base,
      status: "pending",
      queue: {
        place: 1,
        waitingFor: "issue-active",
        estimatedStart: "unknown",
        estimate: "unknown (no finished runs yet)",
      },
    })
    expect(lines).toContain(
      "queue     place 1 in line, waiting for this issue's active run to finish; estimated start: unknown (no finished runs yet)",
    )
  })

  it("prints no queue line for a run that is not waiting (or an answer without the field)", () => {
    printStatus({ ...base, status: "running" })
    printStatus({ ...base, status: "pending" })
    expect(lines.some((l) => l.startsWith("queue"))).toBe(false)
  })

  it("words a reason it does not know (a newer server) as it came, never 'undefined'", () => {
    const text = placeText({ place: 3, waitingFor: "moon-phase", estimate: "unknown" })
    expect(text).toBe("place 3 in line, waiting for moon-phase; estimated start: unknown")
    expect(placeText({ waitingFor: "issue-active" })).toBeUndefined()
    expect(placeText(null)).toBeUndefined()
  })
})
