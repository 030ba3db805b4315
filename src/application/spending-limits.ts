/**
 * Spending limits beside the per-run budget: what a repository's runs cost today and this month (UTC),
 * against the operator's daily and monthly limits (config) or the repository's own setting of the API
 * (`dailyLimitUsd`, `monthlyLimitUsd`), which may only lower the operator's. A trigger past a limit is
 * refused with the limit, the amount spent and when it resets.
 */
import type { RepoSettingsStore } from "./ports/repo-settings-store.js"
import type { RunStore } from "./ports/run-store.js"

export interface SpendingLimits {
  dailyUsd?: number | undefined
  monthlyUsd?: number | undefined
}

export type SpendingCheck =
  | { ok: true }
  | { ok: false; period: "daily" | "monthly"; limitUsd: number; spentUsd: number; resetsAt: Date }

const startOfDay = (now: Date) =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()))
const startOfMonth = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))
const nextDay = (now: Date) => new Date(startOfDay(now).getTime() + 86_400_000)
const nextMonth = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1))

/** the lower of two optional limits */
const lower = (a: number | undefined, b: unknown): number | undefined => {
  const own = typeof b === "number" && b >= 0 ? b : undefined
  if (a === undefined) return own
  return own === undefined ? a : Math.min(a, own)
}

export const createSpendingGuard = (deps: {
  runs: RunStore
  settings?: RepoSettingsStore
  limits: SpendingLimits
  now?: () => Date
}) => {
  const now = deps.now ?? (() => new Date())

  /** cost of the repository's runs created since `since` (newest first, so paging stops early) */
  const spentSince = async (repoFullName: string, since: Date): Promise<number> => {
    let total = 0
    let cursor: string | undefined
    for (let page = 0; page < 100; page++) {
      const result = await deps.runs.listRuns({ repoFullName, limit: 200, cursor })
      for (const run of result.runs) {
        if (run.createdAt < since) return total
        total += run.usage.costUsd
      }
      if (!result.nextCursor) return total
      cursor = result.nextCursor
    }
    return total
  }

  return async (repoFullName: string): Promise<SpendingCheck> => {
    const settings = (await deps.settings?.getRepoSettings(repoFullName))?.settings ?? {}
    const daily = lower(deps.limits.dailyUsd, settings.dailyLimitUsd)
    const monthly = lower(deps.limits.monthlyUsd, settings.monthlyLimitUsd)
    if (daily === undefined && monthly === undefined) return { ok: true }
    const at = now()
    if (monthly !== undefined) {
      const spent = await spentSince(repoFullName, startOfMonth(at))
      if (spent >= monthly)
        return { ok: false, period: "monthly", limitUsd: monthly, spentUsd: spent, resetsAt: nextMonth(at) }
    }
    if (daily !== undefined) {
      const spent = await spentSince(repoFullName, startOfDay(at))
      if (spent >= daily)
        return { ok: false, period: "daily", limitUsd: daily, spentUsd: spent, resetsAt: nextDay(at) }
    }
    return { ok: true }
  }
}

export const overLimitMessage = (
  repoFullName: string,
  check: Extract<SpendingCheck, { ok: false }>,
): string =>
  `prwright's ${check.period} spending limit for ${repoFullName} ($${check.limitUsd.toFixed(2)}) is reached: ` +
  `$${check.spentUsd.toFixed(2)} spent this ${check.period === "daily" ? "day" : "month"} (UTC). ` +
  `It resets at ${check.resetsAt.toISOString()}; ask again after that, or an operator can raise ` +
  `PRWRIGHT_${check.period === "daily" ? "DAILY" : "MONTHLY"}_LIMIT_USD or the repository's ` +
  `${check.period === "daily" ? "dailyLimitUsd" : "monthlyLimitUsd"} setting.`
