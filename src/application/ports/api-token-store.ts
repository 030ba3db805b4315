/** Hashed API tokens for the HTTP API. */

export interface ApiTokenStore {
  countApiTokens(): Promise<number>
  addApiToken(token: { id: string; label: string; hash: string }): Promise<void>
  findApiTokenByHash(hash: string): Promise<{ id: string; label: string } | undefined>
  /** Deletes every stored token and stores this one, in one transaction (`prwright token rotate`). */
  replaceApiTokens(token: { id: string; label: string; hash: string }): Promise<void>
}
