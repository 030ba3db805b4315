/**
 * GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY: both or neither, the key as PEM text (literal `\n` allowed)
 * or a path, checked at start-up with one line that names the variable and never echoes the key.
 */
import { generateKeyPairSync } from "node:crypto"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ConfigError } from "#domain/errors.js"
import { loadConfig } from "#main/config.js"

const { privateKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
})
const BODY_LINE = privateKey.split("\n")[1] as string

const failure = (env: Record<string, string>, cwd?: string): ConfigError => {
  try {
    loadConfig(env, cwd)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).not.toContain("\n")
    expect((error as Error).message).not.toContain(BODY_LINE)
    return error as ConfigError
  }
  throw new Error("expected a ConfigError")
}

describe("GitHub App configuration", () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "prwright-app-config-"))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it("takes PEM text, also with literal \\n sequences as env files hold it, and keeps it among the secrets", () => {
    const oneLine = privateKey.trim().replaceAll("\n", "\\n")
    for (const value of [privateKey, oneLine]) {
      const config = loadConfig({ GITHUB_APP_ID: "12345", GITHUB_APP_PRIVATE_KEY: value })
      expect(config.github.app).toEqual({ id: "12345", privateKey: privateKey.trim() })
      expect(config.secrets).toContain(privateKey.trim())
    }
  })

  it("takes the path of the .pem file, relative to the working directory; both app and token may be set", async () => {
    await writeFile(path.join(dir, "app.pem"), privateKey)
    const config = loadConfig(
      { GITHUB_APP_ID: "7", GITHUB_APP_PRIVATE_KEY: "app.pem", GITHUB_TOKEN: "ghp_alsoSet0001" },
      dir,
    )
    expect(config.github.app?.privateKey).toBe(privateKey.trim())
    expect(config.github.token).toBe("ghp_alsoSet0001")
    expect(config.secrets).toContain(privateKey.trim())
  })

  it("setting only one of the two names the other", () => {
    expect(failure({ GITHUB_APP_ID: "12345" }).message).toMatch(/GITHUB_APP_PRIVATE_KEY is not set/)
    expect(failure({ GITHUB_APP_PRIVATE_KEY: privateKey }).message).toMatch(/GITHUB_APP_ID is not set/)
  })

  it("a malformed key, a missing file or a non-numeric id stop start-up with one line", () => {
    const broken = privateKey.replace(BODY_LINE, BODY_LINE.slice(0, 20))
    expect(failure({ GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: broken }).message).toMatch(
      /GITHUB_APP_PRIVATE_KEY is not a valid RSA private key/,
    )
    expect(failure({ GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: "missing.pem" }, dir).message).toMatch(
      /GITHUB_APP_PRIVATE_KEY is neither PEM text .* nor the path of a readable file/,
    )
    expect(failure({ GITHUB_APP_ID: "my-app", GITHUB_APP_PRIVATE_KEY: privateKey }).message).toMatch(
      /GITHUB_APP_ID must be the app's numeric id/,
    )
  })
})
