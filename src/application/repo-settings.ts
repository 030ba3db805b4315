import { z } from "zod"
import { ValidationError } from "#domain/errors.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import { parseWith } from "./job-data.js"
import type { RepoSettingsStore } from "./ports/repo-settings-store.js"
import { RepoFileConfigSchema } from "./repo-config.js"
import { installationSettingsKey } from "./spending-limits.js"

/**
 * Per-repository settings the operator edits through the API (`/api/repos/:owner/:name/settings`),
 * beside what a repository says about itself in `.prwright.yml`. The limits mean the same as there:
 * they may lower the operator's limits, never raise them. Settings are replaced as a whole, and kept
 * under the name as given (ci-repair.ts and spending-limits.ts read them by GitHub's `full_name`).
 */
export const RepoSettingsSchema = RepoFileConfigSchema.pick({
  maxSteps: true,
  maxCostUsd: true,
  fixCi: true,
  fixCiAttempts: true,
}).extend({
  /** spending limits of the repository's runs (spending-limits.ts), in USD */
  dailyLimitUsd: z.number().positive().max(100_000).optional(),
  monthlyLimitUsd: z.number().positive().max(1_000_000).optional(),
})
export type RepoSettingsValues = z.infer<typeof RepoSettingsSchema>

/**
 * Settings of an installation (one GitHub account and all its repositories), edited through
 * `/api/installations/:account/settings`: spending limits that may lower the operator's
 * `PRWRIGHT_INSTALLATION_*_LIMIT_USD`, never raise them.
 */
export const InstallationSettingsSchema = z.strictObject({
  dailyLimitUsd: z.number().min(0).max(100_000).optional(),
  monthlyLimitUsd: z.number().min(0).max(1_000_000).optional(),
})
export type InstallationSettingsValues = z.infer<typeof InstallationSettingsSchema>

export interface InstallationSettingsView {
  account: string
  settings: InstallationSettingsValues
  updatedAt?: Date
}

// GitHub's rule for user and organization names
const ACCOUNT = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/

const accountOf = (account: string): string => {
  if (ACCOUNT.test(account)) return account
  const message = 'must be a GitHub user or organization name, e.g. "octocat"'
  throw new ValidationError(`invalid account "${account.slice(0, 60)}": ${message}`, [
    { field: "account", message },
  ])
}

export interface RepoSettingsView {
  repoFullName: string
  settings: RepoSettingsValues
  /** absent while the repository has no settings */
  updatedAt?: Date
}

export const createInstallationSettings = (deps: { store: RepoSettingsStore }) => ({
  async get(account: string): Promise<InstallationSettingsView> {
    const name = accountOf(account)
    const stored = await deps.store.getRepoSettings(installationSettingsKey(name))
    if (!stored) return { account: name, settings: {} }
    const settings = InstallationSettingsSchema.safeParse(stored.settings)
    return { account: name, settings: settings.success ? settings.data : {}, updatedAt: stored.updatedAt }
  },

  async put(account: string, body: unknown): Promise<InstallationSettingsView> {
    const name = accountOf(account)
    const settings = parseWith(InstallationSettingsSchema, body, "installation settings")
    const stored = await deps.store.putRepoSettings(installationSettingsKey(name), settings)
    return { account: name, settings, updatedAt: stored.updatedAt }
  },
})
export type InstallationSettings = ReturnType<typeof createInstallationSettings>

const keyOf = (repoFullName: string): string => parseRepoRef(repoFullName).fullName

export const createRepoSettings = (deps: { store: RepoSettingsStore }) => ({
  async get(repoFullName: string): Promise<RepoSettingsView> {
    const key = keyOf(repoFullName)
    const stored = await deps.store.getRepoSettings(key)
    if (!stored) return { repoFullName: key, settings: {} }
    // stored by an older version: what no longer parses is dropped rather than served
    const settings = RepoSettingsSchema.safeParse(stored.settings)
    return {
      repoFullName: key,
      settings: settings.success ? settings.data : {},
      updatedAt: stored.updatedAt,
    }
  },

  async put(repoFullName: string, body: unknown): Promise<RepoSettingsView> {
    const key = keyOf(repoFullName)
    const settings = parseWith(RepoSettingsSchema, body, "repository settings")
    const stored = await deps.store.putRepoSettings(key, settings)
    return { repoFullName: key, settings, updatedAt: stored.updatedAt }
  },

  /** an installation's (a GitHub account's) settings: its spending limits */
  installation: createInstallationSettings(deps),
})
export type RepoSettings = ReturnType<typeof createRepoSettings>
