/**
 * `prwright token rotate` while a server is running on the same SQLite store: the CLI (a real child
 * process) prints a new token once, the running app rejects the old token from the next request and
 * accepts the new one, and no token value reaches a log line.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterEach, expect, it } from "vitest"
import { loadConfig } from "#main/config.js"
import { type Container, createContainer } from "#main/container.js"
import { httpAppOf } from "../support/http-app.js"
import { createCapturingLogger } from "../support/logger.js"
import { startPrwright } from "../support/prwright-process.js"

let dataDir: string | undefined
let container: Container | undefined
afterEach(async () => {
  await container?.close()
  container = undefined
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

it("replaces the stored token on a running server: old → 401, new → 200, printed once, never logged", async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "prwright-token-"))
  const env = { PRWRIGHT_DATA_DIR: dataDir, DATABASE_URL: `sqlite:${path.join(dataDir, "state.db")}` }
  const logger = createCapturingLogger()
  container = await createContainer(loadConfig(env), { logger, model: null })
  let oldToken = ""
  const auth = await container.createAuth((token) => {
    oldToken = token
  })
  const app = httpAppOf(container, auth, { repoSettings: container.repoSettings })
  const call = (token: string) => app.request("/api/jobs", { headers: { authorization: `Bearer ${token}` } })
  expect(oldToken).toMatch(/^prw_/)
  expect((await call(oldToken)).status).toBe(200)

  const cli = startPrwright(["token", "rotate"], env)
  expect(await cli.exited).toBe(0)
  const printed = cli.lines.filter((line) => /^prw_\S+$/.test(line))
  expect(printed).toHaveLength(1)
  const newToken = printed[0] as string
  expect(newToken).not.toBe(oldToken)
  expect(cli.output()).toContain("shown only this once")
  expect(cli.output().split(newToken)).toHaveLength(2) // printed exactly once
  expect(cli.output()).not.toContain(oldToken)

  expect((await call(oldToken)).status).toBe(401)
  expect((await call(newToken)).status).toBe(200)
  expect((await call("prw_not_a_token_at_all_000000")).status).toBe(401)
  expect(await container.store.countApiTokens()).toBe(1)

  // a second rotation retires the first rotated token too
  const again = startPrwright(["token", "rotate"], env)
  expect(await again.exited).toBe(0)
  const newest = again.lines.find((line) => /^prw_\S+$/.test(line)) as string
  expect((await call(newToken)).status).toBe(401)
  expect((await call(newest)).status).toBe(200)

  const logged = JSON.stringify(logger.lines)
  for (const token of [oldToken, newToken, newest]) expect(logged).not.toContain(token)
}, 90_000)

it("says that PRWRIGHT_API_TOKEN, when set, is the token the server uses and is not rotated", async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "prwright-token-"))
  const envToken = "prw_env_token_0123456789abcdef"
  const env = {
    PRWRIGHT_DATA_DIR: dataDir,
    DATABASE_URL: `sqlite:${path.join(dataDir, "state.db")}`,
    PRWRIGHT_API_TOKEN: envToken,
  }
  const cli = startPrwright(["token", "rotate"], env)
  expect(await cli.exited).toBe(0)
  expect(cli.output()).toMatch(/PRWRIGHT_API_TOKEN is set in this environment.*does not change it/)
  expect(cli.output()).not.toContain(envToken)

  const help = startPrwright(["token", "rotate", "--help"], {})
  expect(await help.exited).toBe(0)
  expect(help.output()).toContain("server stopped or running")
  expect(help.output()).toMatch(/If PRWRIGHT_API_TOKEN is set.*does not change it/s)
}, 60_000)
