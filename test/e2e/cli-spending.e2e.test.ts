/**
 * A CLI request past a spending limit: `prwright plan` against a running server whose installation limit
 * (set through the API to $0) is reached prints one line naming the limit, the spend and the reset time,
 * exits 1, and nothing is stored.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import { type PrwrightProcess, serverUrl, startPrwright } from "../support/prwright-process.js"

const GITHUB_TOKEN = "ghp_cliSpendToken_0123456789abc"
const API_TOKEN = "prw_cli_spend_api_token_12345"

describe("prwright plan past a spending limit (CLI)", () => {
  let github: GitHubDouble
  let dataDir: string
  let server: PrwrightProcess
  let env: Record<string, string>

  beforeAll(async () => {
    github = await startGitHubDouble({ tokens: { [GITHUB_TOKEN]: { login: "bot", repos: ["acme/cli"] } } })
    await github.createRepo("acme/cli", { files: { "index.js": "export const foo = 1\n" } })
    dataDir = await mkdtemp(path.join(tmpdir(), "prwright-cli-spend-"))
    env = {
      PORT: "0",
      HOST: "127.0.0.1",
      PRWRIGHT_DATA_DIR: path.join(dataDir, "server"),
      GITHUB_API_URL: github.apiUrl,
      GITHUB_TOKEN,
      PRWRIGHT_API_TOKEN: API_TOKEN,
    }
    server = startPrwright(["serve"], env)
    env.PRWRIGHT_URL = await serverUrl(server)
  }, 90_000)

  afterAll(async () => {
    await server?.stop()
    await github?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it("prints one line with the limit, the spend and the reset time, exits 1, stores nothing", async () => {
    const headers = { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" }
    const put = await fetch(`${env.PRWRIGHT_URL}/api/installations/acme/settings`, {
      method: "PUT",
      headers,
      body: JSON.stringify({ dailyLimitUsd: 0 }),
    })
    expect(put.status).toBe(200)
    const issue = github.createIssue("acme/cli", { title: "Rename foo", body: "foo should be bar" })

    const cli = startPrwright(["plan", `acme/cli#${issue}`], env)
    const code = await cli.exited
    const output = cli.output().trim()
    expect(code, output).toBe(1)
    const now = new Date()
    const reset = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1))
    expect(output.split("\n")).toHaveLength(1)
    expect(output).toContain(
      "prwright: 429: prwright's daily spending limit for the acme installation (all its repositories) ($0.00) is reached: $0.00 spent this day (UTC).",
    )
    expect(output).toContain(`It resets at ${reset.toISOString()}`)

    const jobs = (await (await fetch(`${env.PRWRIGHT_URL}/api/jobs`, { headers })).json()) as {
      jobs: unknown[]
    }
    expect(jobs.jobs).toEqual([])
  })
})
