/** Per-repository settings. */

export interface RepoSettings {
  repoFullName: string
  settings: Record<string, unknown>
  updatedAt: Date
}

export interface RepoSettingsStore {
  getRepoSettings(repoFullName: string): Promise<RepoSettings | undefined>
  /** replaces the settings of the repository */
  putRepoSettings(repoFullName: string, settings: Record<string, unknown>): Promise<RepoSettings>
}
