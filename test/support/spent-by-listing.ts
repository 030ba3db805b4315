import type { RunStore, SpentCost, SpentCostQuery } from "#application/ports/run-store.js"
import { installationOf } from "#application/spending-limits.js"
import type { WorkflowRun } from "#domain/workflow-run.js"

/**
 * What the subject's runs created since the month's and the day's start cost, the way the guard once
 * counted it: listRuns newest first, 200 a page, until the month's start, summed here (an owner's runs
 * by filtering every run). It grows with the month's runs, so a store answers `spentCost` in one
 * aggregate instead (RunStore.spentCost). This is the definition that aggregate keeps to (the run-store
 * contract compares them), the baseline of `bench:store --spending-only`, and the cost of a test's
 * in-memory store.
 */
export const spentByListing = async (
  runs: Pick<RunStore, "listRuns">,
  { subject, monthStart, dayStart }: SpentCostQuery,
): Promise<SpentCost> => {
  const filter = "repoFullName" in subject ? { repoFullName: subject.repoFullName } : {}
  const match =
    "repoFullName" in subject
      ? () => true
      : (run: WorkflowRun) => installationOf(run.repoFullName).toLowerCase() === subject.owner.toLowerCase()
  const total = { dayUsd: 0, monthUsd: 0 }
  let cursor: string | undefined
  for (let page = 0; page < 500; page++) {
    const result = await runs.listRuns({ ...filter, limit: 200, cursor })
    for (const run of result.runs) {
      if (run.createdAt < monthStart) return total
      if (!match(run)) continue
      total.monthUsd += run.usage.costUsd
      if (run.createdAt >= dayStart) total.dayUsd += run.usage.costUsd
    }
    if (!result.nextCursor) return total
    cursor = result.nextCursor
  }
  return total
}

/** `runs` with the spend counted by listing (a test double's store, or the benchmark's old way) */
export const spendingByListing = (runs: Pick<RunStore, "listRuns">): Pick<RunStore, "spentCost"> => ({
  spentCost: (query) => spentByListing(runs, query),
})
