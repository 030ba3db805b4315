import { z } from "zod"
import { parseRepoRef } from "#domain/repo-ref.js"
import { parseWith } from "./job-data.js"
import type { RepoSettingsStore } from "./ports/repo-settings-store.js"
import { RepoFileConfigSchema } from "./repo-config.js"

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

export interface RepoSettingsView {
  repoFullName: string
  settings: RepoSettingsValues
  /** absent while the repository has no settings */
  updatedAt?: Date
}

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
})
export type RepoSettings = ReturnType<typeof createRepoSettings>
