/**
 * Encryption at rest for stored secrets: AES-256-GCM with a fresh 96-bit IV per value, the secret's
 * name as associated data (a ciphertext copied under another name does not decrypt), and a key
 * derived from PRWRIGHT_SECRET_KEY with scrypt, so a passphrase works as well as random bytes.
 * Shared by every store that keeps secrets.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto"
import { ConfigError } from "#domain/errors.js"

const VERSION = "v1"
const IV_BYTES = 12
const TAG_BYTES = 16
/** fixed: the key material is the secret, the salt only separates this use from others */
const SALT = "prwright secret store v1"

export interface SecretCipher {
  encrypt(name: string, value: string): Promise<string>
  decrypt(name: string, sealed: string): Promise<string>
}

const deriveKey = (material: string): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    scrypt(material, SALT, 32, { N: 2 ** 14, r: 8, p: 1 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  )

/** `key` is called once, on first use (that is when a generated key file gets created). */
export const createSecretCipher = (key: () => Promise<string>): SecretCipher => {
  let derived: Promise<Buffer> | undefined
  const getKey = () => {
    derived ??= key().then(deriveKey)
    // A failure (unreadable key file) must not stick: the next use tries again.
    derived.catch(() => {
      derived = undefined
    })
    return derived
  }

  return {
    async encrypt(name, value) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv("aes-256-gcm", await getKey(), iv)
      cipher.setAAD(Buffer.from(name))
      const body = Buffer.concat([cipher.update(value, "utf8"), cipher.final()])
      return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")}`
    },

    async decrypt(name, sealed) {
      const fail = () =>
        new ConfigError(
          `stored secret "${name}" cannot be decrypted with the current PRWRIGHT_SECRET_KEY: restore the key it was stored with (or <data dir>/secret.key), or store the secret again`,
        )
      if (!sealed.startsWith(`${VERSION}:`)) throw fail()
      const raw = Buffer.from(sealed.slice(VERSION.length + 1), "base64")
      if (raw.length < IV_BYTES + TAG_BYTES) throw fail()
      try {
        const decipher = createDecipheriv("aes-256-gcm", await getKey(), raw.subarray(0, IV_BYTES))
        decipher.setAAD(Buffer.from(name))
        decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
        return Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
          decipher.final(),
        ]).toString("utf8")
      } catch {
        throw fail()
      }
    },
  }
}
