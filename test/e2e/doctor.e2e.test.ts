/** `prwright doctor` against the doubles and the real Redis: one line per dependency, the fix when one fails. */
import { generateKeyPairSync } from "node:crypto"
import { existsSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import http from "node:http"
import type net from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import Database from "better-sqlite3"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import {
  SCRIPTED_MODEL_PRICES,
  type ScriptedModelServer,
  startScriptedModelServer,
} from "../doubles/scripted-model-server.js"
import { type PrwrightProcess, startPrwright } from "../support/prwright-process.js"
import { findSecrets } from "../support/secret-scan.js"
import { freePort, service, uniqueName } from "../support/services.js"

/** An OpenAI-compatible gateway whose /models omits an alias it serves (as LiteLLM or OpenRouter may). */
const startAliasGateway = async () => {
  const server = http.createServer((req, res) => {
    let raw = ""
    req.on("data", (chunk) => {
      raw += chunk
    })
    req.on("end", () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" })
        res.end(JSON.stringify(body))
      }
      if (req.method === "GET" && req.url === "/v1/models")
        return send(200, { object: "list", data: [{ id: "gpt-4o", object: "model" }] })
      const model = (JSON.parse(raw || "{}") as { model?: string }).model
      if (model === "team-alias" || model === "gpt-4o")
        return send(200, {
          id: "c1",
          object: "chat.completion",
          model,
          choices: [{ index: 0, message: { role: "assistant", content: "OK" }, finish_reason: "length" }],
          usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
        })
      return send(404, {
        error: {
          message: `The model \`${model}\` does not exist`,
          type: "invalid_request_error",
          code: "model_not_found",
        },
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

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
  let worker: PrwrightProcess | undefined
  let gateway: Awaited<ReturnType<typeof startAliasGateway>>

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
      PRWRIGHT_MODEL_PRICES: SCRIPTED_MODEL_PRICES,
      LLM_BASE_URL: model.baseUrl,
      LLM_API_KEY: KEY,
      PRWRIGHT_QUEUE_PREFIX: uniqueName("doctor"),
    }
    gateway = await startAliasGateway()
    // doctor only reads: the database is made by `migrate`, and the workers run elsewhere
    const migrate = startPrwright(["migrate"], env)
    expect(await migrate.exited, migrate.output()).toBe(0)
    worker = startPrwright(["worker", "--type", "all"], env)
    await worker.waitFor(/worker started/, 60_000)
  }, 120_000)
  afterAll(async () => {
    await worker?.stop()
    await gateway?.close()
    await model?.close()
    await github?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it("reports every dependency healthy, and names the repository it can read", async () => {
    const doctor = startPrwright(["doctor", "--repo", "acme/app"], env)
    const code = await doctor.exited
    const out = doctor.output()
    expect(code, out).toBe(0)
    for (const name of ["database", "queue", "workers", "github", "llm", "git", "search"]) {
      expect(out, name).toMatch(new RegExp(`^✓ ${name}`, "m"))
    }
    expect(out).toMatch(/✓ queue +BullMQ on Redis/)
    expect(out).toMatch(
      /✓ workers +live workers: comment-on-issue 1, auto-resolve-issue 1, resolve-issue 1, answer-question 1/,
    )
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

  it("reads without writing: no database is created, a pending migration is named with the command", async () => {
    const fresh = await mkdtemp(path.join(tmpdir(), "prwright-doctor-fresh-"))
    try {
      const first = startPrwright(["doctor"], { ...env, PRWRIGHT_DATA_DIR: fresh })
      await first.exited
      expect(first.output()).toMatch(
        /^✗ database +no database at .*prwright\.db yet: run `prwright migrate`/m,
      )
      expect(existsSync(path.join(fresh, "prwright.db"))).toBe(false)

      const migrate = startPrwright(["migrate"], { ...env, PRWRIGHT_DATA_DIR: fresh })
      expect(await migrate.exited).toBe(0)
      const file = path.join(fresh, "prwright.db")
      const raw = new Database(file)
      const last = raw.prepare("SELECT name FROM store_migration ORDER BY name DESC LIMIT 1").get() as {
        name: string
      }
      raw.prepare("DELETE FROM store_migration WHERE name = ?").run(last.name)
      raw.close()
      const second = startPrwright(["doctor"], { ...env, PRWRIGHT_DATA_DIR: fresh })
      expect(await second.exited).toBe(1)
      expect(second.output()).toContain(
        `✗ database  migration needed (1 pending: ${last.name}): run \`prwright migrate\``,
      )
      const after = new Database(file, { readonly: true })
      expect(
        after.prepare("SELECT count(*) AS n FROM store_migration WHERE name = ?").get(last.name),
      ).toEqual({
        n: 0,
      })
      after.close()
    } finally {
      await rm(fresh, { recursive: true, force: true })
    }
  }, 60_000)

  it("Redis down: one line with the fix, no unhandled error or stack", async () => {
    const port = await freePort()
    const doctor = startPrwright(["doctor"], { ...env, REDIS_URL: `redis://127.0.0.1:${port}` })
    expect(await doctor.exited).toBe(1)
    const out = doctor.output()
    expect(out).toMatch(
      new RegExp(
        `^✗ queue +cannot reach Redis at REDIS_URL=redis://127\\.0\\.0\\.1:${port}.*ECONNREFUSED.*: start Redis, or fix REDIS_URL`,
        "m",
      ),
    )
    expect(out).not.toMatch(/Connection is closed/)
    expect(out).not.toMatch(/Unhandled|^\s+at /m)
  }, 60_000)

  it("a model alias the gateway serves but /models omits is not called 'not offered'", async () => {
    const gatewayEnv = { ...env, LLM_BASE_URL: gateway.baseUrl }
    const alias = startPrwright(["doctor"], { ...gatewayEnv, LLM_MODEL: "team-alias" })
    await alias.exited
    expect(alias.output()).toMatch(/^✓ llm .*model team-alias \(answers, though .*\/models does not list it/m)
    const missing = startPrwright(["doctor"], { ...gatewayEnv, LLM_MODEL: "gpt-nonexistent" })
    expect(await missing.exited).toBe(1)
    expect(missing.output()).toMatch(
      /^✗ llm .*does not offer model gpt-nonexistent: set LLM_MODEL to one of gpt-4o \(a 1-token request answered 404: The model `gpt-nonexistent` does not exist\)/m,
    )
  }, 60_000)
})
