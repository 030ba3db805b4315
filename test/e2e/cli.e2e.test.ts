/**
 * The terminal path: `prwright plan owner/repo#N --wait` against a running server, following the
 * run live, and `--inline` running the same use case in the CLI process without a queue or server.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"
import { type ScriptedModelServer, startScriptedModelServer } from "../doubles/scripted-model-server.js"
import { type PrwrightProcess, prwrightEnv, serverUrl, startPrwright } from "../support/prwright-process.js"

const GITHUB_TOKEN = "ghp_cliTestToken_0123456789abc"
const LLM_KEY = "sk-cli-test-key-0123456789"
const API_TOKEN = "prw_cli_test_api_token_12345"
const PLAN = "1. Rename `foo` to `bar`\n2. Update the callers"
const script = () => [
  { toolCalls: [{ name: "search", arguments: { pattern: "foo" } }] },
  { toolCalls: [{ name: "submit_plan", arguments: { plan: PLAN } }] },
]

describe("prwright plan (CLI)", () => {
  let github: GitHubDouble
  let model: ScriptedModelServer
  let dataDir: string
  let server: PrwrightProcess
  let env: Record<string, string>
  let issue: number

  beforeAll(async () => {
    github = await startGitHubDouble({ tokens: { [GITHUB_TOKEN]: { login: "bot", repos: ["acme/cli"] } } })
    await github.createRepo("acme/cli", { files: { "index.js": "export const foo = 1\n" } })
    issue = github.createIssue("acme/cli", { title: "Rename foo", body: "foo should be bar" })
    model = await startScriptedModelServer({ script: [...script(), ...script()], apiKey: LLM_KEY })
    dataDir = await mkdtemp(path.join(tmpdir(), "prwright-cli-"))
    env = prwrightEnv({
      dataDir: path.join(dataDir, "server"),
      github,
      githubToken: GITHUB_TOKEN,
      model,
      llmKey: LLM_KEY,
      apiToken: API_TOKEN,
    })
    server = startPrwright(["serve"], env)
    env.PRWRIGHT_URL = await serverUrl(server)
  }, 90_000)

  afterAll(async () => {
    await server?.stop()
    await model?.close()
    await github?.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  it("--wait follows the run live and exits 0 with the plan", async () => {
    const cli = startPrwright(["plan", `acme/cli#${issue}`, "--wait"], env)
    const code = await cli.exited
    const output = cli.output()
    expect(code, output).toBe(0)
    expect(output).toMatch(/job [0-9a-f-]{36} pending/)
    expect(output).toMatch(/● running \(attempt 1\)/)
    expect(output).toMatch(/\[ *30%\] exploring the code/)
    expect(output).toMatch(/→ search/)
    expect(output).toContain("Rename `foo` to `bar`")
    expect(output).toMatch(/status +completed/)
    expect(output).toMatch(/planCommentUrl .*#issuecomment-\d+/)
    expect(github.comments("acme/cli", issue)).toHaveLength(1)
  })

  it("--wait exits non-zero when the run fails", async () => {
    const cli = startPrwright(["plan", "acme/cli#999", "--wait"], env)
    const code = await cli.exited
    expect(code, cli.output()).toBe(1)
    expect(cli.output()).toMatch(/status +failed/)
    expect(cli.output()).toMatch(/#999/)
  })

  it("--inline runs the same use case in the CLI process, no server needed", async () => {
    const inlineEnv = {
      ...env,
      PRWRIGHT_DATA_DIR: path.join(dataDir, "inline"),
      PRWRIGHT_URL: "http://127.0.0.1:9",
    }
    const cli = startPrwright(["plan", `acme/cli#${issue}`, "--inline", "--no-post"], inlineEnv)
    const code = await cli.exited
    expect(code, cli.output()).toBe(0)
    expect(cli.output()).toMatch(/job [0-9a-f-]{36} \(inline\)/)
    expect(cli.output()).toContain("Rename `foo` to `bar`")
    expect(cli.output()).toMatch(/status completed/)
    // --no-post: the only comment is the one from the queued run above
    expect(github.comments("acme/cli", issue)).toHaveLength(1)
  })

  it("a malformed issue reference fails fast with the expected shape", async () => {
    const cli = startPrwright(["plan", "acme-cli-12"], env)
    expect(await cli.exited).not.toBe(0)
    expect(cli.output()).toMatch(/must look like "owner\/repo#12"/)
  })
})
