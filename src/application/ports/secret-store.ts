/** Named secrets, encrypted at rest. */

/** Named secrets, encrypted at rest with PRWRIGHT_SECRET_KEY; values never appear in the database as written. */
export interface SecretStore {
  putSecret(name: string, value: string): Promise<void>
  /** ConfigError when the stored value cannot be decrypted with the current key */
  getSecret(name: string): Promise<string | undefined>
  /** false when there was no such secret */
  deleteSecret(name: string): Promise<boolean>
}
