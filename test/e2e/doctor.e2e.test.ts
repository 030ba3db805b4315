/** `prwright doctor` against the doubles and the real Redis: one line per dependency, the fix when one fails. */
import { generateKeyPairSync } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import { type ScriptedModelServer, startScriptedModelServer } from "../doubles/scripted-model-server.js"
import { startPrwright } from "../support/prwright-process.js"
import { findSecrets } from "../support/secret-scan.js"
import { service } from "../support/services.js"

const redis = await service("redis")
const TOKEN = "ghp_doctorToken_0123456789abc"
const KEY = "sk-doctor-key-0123456789"
const APP_ID = "4242"
const keys = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
})

describe.skipIf(!redis.available)("prwright doctor", () => {
  let github: GitHubDouble
  let model: ScriptedModelServer
  let dataDir: string
  let env: Record<string, string>

  beforeAll(async () => {
    github = await startGitHubDouble({
      tokens: { [TOKEN]: { login: "prwright-bot", repos: ["acme/app"] } },
      apps: {
        [APP_ID]: {
          publicKey: keys.publicKey,
          slug: "prwright",
          installations: { "77": { repos: ["acme/app"] } },
        },
      },
    })
    await github.createRepo("acme/app", { files: { "README.md": "x\n" } })
    model = await startScriptedModelServer({ script: [], apiKey: KEY })
    dataDir = await mkdtemp(path.join(tmpdir(), "prwright-doctor-"))
    env = {
      PRWRIGHT_DATA_DIR: dataDir,
      REDIS_URL: redis.url,
      GITHUB_API_URL: github.apiUrl,
      GITHUB_TOKEN: TOKEN,
      LLM_PROVIDER: "openai-compatible",
      LLM_MODEL: "scripted-model",
      LLM_BASE_URL: model.baseUrl,
      LLM_API_KEY: KEY,
    }
  })
  afterAll(async () => {
    await model?.close()
    await github?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it("reports every dependency healthy, and names the repository it can read", async () => {
    const doctor = startPrwright(["doctor", "--repo", "acme/app"], env)
    const code = await doctor.exited
    const out = doctor.output()
    expect(code, out).toBe(0)
    for (const name of ["database", "queue", "github", "llm", "git", "search"]) {
      expect(out, name).toMatch(new RegExp(`^✓ ${name}`, "m"))
    }
    expect(out).toMatch(/✓ queue +BullMQ on Redis/)
    expect(out).toMatch(/acme\/app is readable with the token \(default branch main\)/)
    expect(out).toMatch(/model scripted-model/)
    expect(findSecrets(out, [TOKEN, KEY])).toEqual([])
  })

  it("fails with the fix when the token is refused or the model is not offered", async () => {
    const doctor = startPrwright(["doctor"], {
      ...env,
      GITHUB_TOKEN: "ghp_notAValidToken_000000",
      LLM_MODEL: "gpt-nonexistent",
    })
    expect(await doctor.exited).toBe(1)
    const out = doctor.output()
    expect(out).toMatch(/^✗ github +GitHub refused GITHUB_TOKEN \(401\)/m)
    expect(out).toMatch(
      /^✗ llm .*does not offer model gpt-nonexistent: set LLM_MODEL to one of scripted-model/m,
    )
    expect(out).toMatch(/^✓ database/m)
    expect(out).not.toContain("ghp_notAValidToken_000000")
  })

  it("checks GitHub App auth: an installation token for the repository, no secret printed", async () => {
    const { GITHUB_TOKEN: _unused, ...withoutToken } = env
    const oneLineKey = keys.privateKey.replaceAll("\n", "\\n")
    const doctor = startPrwright(["doctor", "--repo", "acme/app"], {
      ...withoutToken,
      GITHUB_APP_ID: APP_ID,
      GITHUB_APP_PRIVATE_KEY: oneLineKey,
    })
    const code = await doctor.exited
    const out = doctor.output()
    expect(code, out).toBe(0)
    expect(out).toMatch(/^✓ github +.*acme\/app is readable with the GitHub App 4242/m)
    expect(out).not.toContain("PRIVATE KEY")
    expect(github.mintedTokens.length).toBeGreaterThan(0)
    expect(
      findSecrets(
        out,
        github.mintedTokens.map((m) => m.token),
      ),
    ).toEqual([])
  })

  it("stops at once, naming the variable, when the configuration is invalid", async () => {
    const doctor = startPrwright(["doctor"], { ...env, REDIS_URL: "localhost:6379" })
    expect(await doctor.exited).not.toBe(0)
    expect(doctor.output()).toMatch(/REDIS_URL must be a Redis URL/)
  })
})
