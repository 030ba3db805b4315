/**
 * Where the key for stored secrets comes from: PRWRIGHT_SECRET_KEY when set; otherwise a random key
 * generated once into `<dataDir>/secret.key` (mode 0600) and announced in the log, so the embedded
 * setup encrypts at rest without any configuration. Losing that file loses the stored secrets.
 */
import { randomBytes } from "node:crypto"
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises"
import path from "node:path"
import type { Logger } from "#application/ports/logging.js"
import { ConfigError, errorMessage } from "#domain/errors.js"

export const SECRET_KEY_FILE = "secret.key"

export const loadSecretKey = async (options: {
  configuredKey?: string | undefined
  dataDir: string
  logger?: Logger
}): Promise<string> => {
  if (options.configuredKey) return options.configuredKey
  const file = path.join(options.dataDir, SECRET_KEY_FILE)
  try {
    const existing = (await readFile(file, "utf8")).trim()
    if (existing) return existing
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new ConfigError(
        `cannot read the secret key file ${file} (${errorMessage(error)}): fix its permissions, or set PRWRIGHT_SECRET_KEY`,
      )
    }
  }
  const key = randomBytes(32).toString("base64url")
  try {
    await mkdir(options.dataDir, { recursive: true })
    // "wx": two processes starting at once must not each write (and use) a different key.
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: "wx" })
    await chmod(file, 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return (await readFile(file, "utf8")).trim()
    throw new ConfigError(
      `cannot create the secret key file ${file} (${errorMessage(error)}): make PRWRIGHT_DATA_DIR writable, or set PRWRIGHT_SECRET_KEY`,
    )
  }
  options.logger?.warn(
    "PRWRIGHT_SECRET_KEY is not set: generated a key for stored secrets; back it up with the database, or set PRWRIGHT_SECRET_KEY",
    { file },
  )
  return key
}
