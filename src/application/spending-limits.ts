/**
 * Spending limits beside the per-run budget: what runs cost today and this month (UTC), counted from the
 * stored run costs, against daily and monthly limits of two scopes:
 *
 * - the repository: the operator's `PRWRIGHT_DAILY_LIMIT_USD` / `PRWRIGHT_MONTHLY_LIMIT_USD`, or the
 *   repository's own setting of the API (`dailyLimitUsd`, `monthlyLimitUsd`), which may only lower them;
 * - the installation: every repository of one GitHub account (a GitHub App is installed at most once per
 *   account, so the account is the installation; with a token the same grouping applies):
 *   `PRWRIGHT_INSTALLATION_DAILY_LIMIT_USD` / `..._MONTHLY_...`, or the installation's setting
 *   (`/api/installations/:account/settings`), which may only lower them.
 *
 * A request past a limit is refused (HTTP 429, a comment on GitHub) with the limit, the amount spent and
 * when it resets — or, when the operator chose `PRWRIGHT_SPEND_LIMIT_ACTION=wait`, stored as a run that
 * waits for the reset (request-workflow.ts; sweep-runs.ts queues it once the time has come).
 */
import { PrwrightError } from "#domain/errors.js"
import type { RepoSettingsStore } from "./ports/repo-settings-store.js"
import type { RunStore, SpendingSubject, SpentCost } from "./ports/run-store.js"

export interface SpendingLimits {
  /** per repository */
  dailyUsd?: number | undefined
  monthlyUsd?: number | undefined
  /** per installation (GitHub account) */
  installationDailyUsd?: number | undefined
  installationMonthlyUsd?: number | undefined
}

/** What happens to a request past a limit: refused at once, or stored and started after the reset. */
export type SpendLimitAction = "refuse" | "wait"

export type SpendingScope = "repository" | "installation"

export type SpendingCheck =
  | {
      ok: true
      /** what may still be spent before the nearest limit (absent: no limit applies) */
      remainingUsd?: number
    }
  | {
      ok: false
      scope: SpendingScope
      /** the repository's full name, or the installation's account */
      subject: string
      period: "daily" | "monthly"
      limitUsd: number
      spentUsd: number
      resetsAt: Date
    }
export type OverLimit = Extract<SpendingCheck, { ok: false }>

/** The check a request goes through (createSpendingGuard's result). */
export type SpendingGuard = (repoFullName: string) => Promise<SpendingCheck>

/** The key an installation's settings are kept under in the settings store (no repository name has a colon). */
export const installationSettingsKey = (account: string): string => `installation:${account.toLowerCase()}`

/** The installation (GitHub account) a repository belongs to. */
export const installationOf = (repoFullName: string): string => repoFullName.split("/")[0] ?? repoFullName

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
  /** what a scope's runs cost this day and month: one aggregate in the store */
  runs: Pick<RunStore, "spentCost">
  settings?: RepoSettingsStore
  limits: SpendingLimits
  now?: () => Date
}): SpendingGuard => {
  const now = deps.now ?? (() => new Date())
  const spent = (subject: SpendingSubject, at: Date): Promise<SpentCost> =>
    deps.runs.spentCost({ subject, monthStart: startOfMonth(at), dayStart: startOfDay(at) })

  const settingsOf = async (key: string): Promise<Record<string, unknown>> =>
    (await deps.settings?.getRepoSettings(key))?.settings ?? {}

  return async (repoFullName) => {
    const account = installationOf(repoFullName)
    const [own, installation] = await Promise.all([
      settingsOf(repoFullName),
      settingsOf(installationSettingsKey(account)),
    ])
    const scopes: Array<{
      scope: SpendingScope
      subject: string
      daily?: number | undefined
      monthly?: number | undefined
      /** whose runs count */
      runs: SpendingSubject
    }> = [
      {
        scope: "repository",
        subject: repoFullName,
        daily: lower(deps.limits.dailyUsd, own.dailyLimitUsd),
        monthly: lower(deps.limits.monthlyUsd, own.monthlyLimitUsd),
        runs: { repoFullName },
      },
      {
        scope: "installation",
        subject: account,
        daily: lower(deps.limits.installationDailyUsd, installation.dailyLimitUsd),
        monthly: lower(deps.limits.installationMonthlyUsd, installation.monthlyLimitUsd),
        runs: { owner: account },
      },
    ]
    const at = now()
    // only the scopes with a limit are summed, both at once
    const limited = scopes.filter((limits) => limits.daily !== undefined || limits.monthly !== undefined)
    const costs = await Promise.all(limited.map((limits) => spent(limits.runs, at)))
    const over: OverLimit[] = []
    let remaining: number | undefined
    for (const [index, limits] of limited.entries()) {
      const { dayUsd, monthUsd } = costs[index] as SpentCost
      const base = { ok: false as const, scope: limits.scope, subject: limits.subject }
      const periods = [
        { period: "monthly" as const, limitUsd: limits.monthly, spentUsd: monthUsd, resetsAt: nextMonth(at) },
        { period: "daily" as const, limitUsd: limits.daily, spentUsd: dayUsd, resetsAt: nextDay(at) },
      ]
      for (const { limitUsd, ...period } of periods) {
        if (limitUsd === undefined) continue
        if (period.spentUsd >= limitUsd) over.push({ ...base, ...period, limitUsd })
        remaining = Math.min(remaining ?? Number.POSITIVE_INFINITY, limitUsd - period.spentUsd)
      }
    }
    // the limit that holds longest is the one to name: a run waiting for it may start after its reset
    const latest = over.sort((a, b) => b.resetsAt.getTime() - a.resetsAt.getTime())[0]
    if (latest) return latest
    return remaining === undefined ? { ok: true } : { ok: true, remainingUsd: Math.max(0, remaining) }
  }
}

const envName = (check: OverLimit) =>
  `PRWRIGHT_${check.scope === "installation" ? "INSTALLATION_" : ""}${check.period === "daily" ? "DAILY" : "MONTHLY"}_LIMIT_USD`

/** One line: which limit, how much was spent, when it resets and who can raise it. */
export const overLimitMessage = (_repoFullName: string, check: OverLimit): string => {
  const setting = check.period === "daily" ? "dailyLimitUsd" : "monthlyLimitUsd"
  const whose =
    check.scope === "installation"
      ? `the ${check.subject} installation (all its repositories)`
      : check.subject
  const owner = check.scope === "installation" ? "installation's" : "repository's"
  return (
    `prwright's ${check.period} spending limit for ${whose} ($${check.limitUsd.toFixed(2)}) is reached: ` +
    `$${check.spentUsd.toFixed(2)} spent this ${check.period === "daily" ? "day" : "month"} (UTC). ` +
    `It resets at ${check.resetsAt.toISOString()}; ask again after that, or an operator can raise ` +
    `${envName(check)} or the ${owner} ${setting} setting.`
  )
}

/** A request past a spending limit, refused before anything was stored (HTTP 429). */
export class SpendingLimitError extends PrwrightError {
  readonly check: OverLimit
  constructor(repoFullName: string, check: OverLimit) {
    super("rate_limited", overLimitMessage(repoFullName, check), {
      details: {
        scope: check.scope,
        subject: check.subject,
        period: check.period,
        limitUsd: check.limitUsd,
        spentUsd: check.spentUsd,
        resetsAt: check.resetsAt.toISOString(),
      },
    })
    this.name = "SpendingLimitError"
    this.check = check
  }
}

/** What a run that waits for a limit's reset says (run events, the issue comment). */
export const waitingMessage = (repoFullName: string, check: OverLimit): string =>
  `${overLimitMessage(repoFullName, check).replace(/; ask again after that, or an operator can raise .*$/, ".")} ` +
  `This run waits and starts after ${check.resetsAt.toISOString()}.`
