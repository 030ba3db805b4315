/**
 * `prwright demo`: the whole product in one command, with no key and no network. A GitHub stand-in
 * (REST and git over HTTP) and a scripted OpenAI-compatible model run in this process on 127.0.0.1;
 * a small repository with a real failing test and an issue that describes the bug is created on it;
 * then a real prwright server plans the issue and resolves it (plan, edit in the sandbox, tests before
 * and after, a pull request), with the same live output as `prwright plan|auto --wait`.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { loadConfig } from "#main/config.js"
import {
  fixSteps,
  planSteps,
  SAMPLE_FILES,
  SAMPLE_ISSUE,
  SCRIPTED_MODEL_PRICES,
  startGitHubDouble,
  startScriptedModelServer,
} from "#main/demo-doubles.js"
import { createApiClient } from "./cli/api-client.js"
import { openUrl } from "./cli/open-url.js"
import { followRun } from "./cli/run-commands.js"
import { startServer } from "./serve.js"

const REPO = "demo/mathlib"
// local stand-ins only: these values open nothing outside this process
const DEMO_TOKEN = "ghp_demoTokenForTheLocalStandIn0000"
const DEMO_KEY = "sk-demo-key-for-the-scripted-model"
const DEMO_API_TOKEN = "prw_demo_api_token_local_only"

export const runDemo = async (options: {
  /** keep serving after the runs, until Ctrl-C (default: yes; `--exit` / `--no-keep` end the demo) */
  keep?: boolean
  /** open the UI on the finished run in a browser when an opener exists (default: yes; `--no-open`) */
  open?: boolean
  write?: (text: string) => void
}): Promise<number> => {
  const write = options.write ?? ((text: string) => process.stdout.write(text))
  const dataDir = await mkdtemp(path.join(tmpdir(), "prwright-demo-"))
  const github = await startGitHubDouble({
    tokens: { [DEMO_TOKEN]: { login: "prwright-bot", repos: [REPO] } },
  })
  await github.createRepo(REPO, { files: SAMPLE_FILES })
  const issue = github.createIssue(REPO, SAMPLE_ISSUE)
  // one plan run, then an auto run that plans again and fixes the bug
  const model = await startScriptedModelServer({
    script: [...planSteps(), ...planSteps(), ...fixSteps()],
    apiKey: DEMO_KEY,
  })
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    PRWRIGHT_DATA_DIR: dataDir,
    GITHUB_API_URL: github.apiUrl,
    GITHUB_TOKEN: DEMO_TOKEN,
    LLM_PROVIDER: "openai-compatible",
    LLM_MODEL: "scripted",
    // the stand-in model costs nothing: a price of 0, so the cost cap binds and shows $0
    PRWRIGHT_MODEL_PRICES: SCRIPTED_MODEL_PRICES,
    LLM_BASE_URL: model.baseUrl,
    LLM_API_KEY: DEMO_KEY,
    PRWRIGHT_API_TOKEN: DEMO_API_TOKEN,
    LOG_LEVEL: "warn",
    ...(process.env.PRWRIGHT_SANDBOX ? { PRWRIGHT_SANDBOX: process.env.PRWRIGHT_SANDBOX } : {}),
  })
  const server = await startServer(config, { workers: true })
  const closeAll = async () => {
    await server.close()
    await model.close()
    await github.close()
    await rm(dataDir, { recursive: true, force: true })
  }
  try {
    write(
      `prwright demo: a stand-in GitHub at ${github.apiUrl} holds ${REPO}, whose test suite fails;\n` +
        `issue #${issue} "${SAMPLE_ISSUE.title}" describes the bug. The model is scripted: no key, no network.\n` +
        `prwright serves on ${server.url} (API token ${DEMO_API_TOKEN}).\n\n`,
    )
    const client = createApiClient({ baseUrl: server.url, token: DEMO_API_TOKEN })
    const start = async (route: string, body: Record<string, unknown>) =>
      (await client.request<{ jobId: string }>("POST", `/api/workflow/${route}`, body)).jobId

    write(`1. prwright plan ${REPO}#${issue} --wait\n`)
    const planId = await start("commentOnIssue", { repoFullName: REPO, issueNumber: issue })
    const planned = await followRun(client, planId)
    write(`\n2. prwright auto ${REPO}#${issue} --wait\n`)
    const autoId = await start("autoResolveIssue", { repoFullName: REPO, issueNumber: issue })
    const resolved = await followRun(client, autoId)

    const pull = github.pullRequests(REPO)[0]
    const comments = github.comments(REPO, issue)
    write("\nWhere to look:\n")
    const plan = comments.find((comment) => comment.body.includes("## Implementation plan"))
    write(
      `  the plan comment      ${plan ? `on issue #${issue}: ${plan.body.split("## Implementation plan")[1]?.trim().split("\n")[0]}…` : "(none)"}\n`,
    )
    if (pull) {
      write(`  the pull request      #${pull.number} "${pull.title}" (${pull.head} → ${pull.base})\n`)
      const diff = await github.diff(REPO, pull.base, pull.head)
      write(`  its change\n${diff.replace(/^/gm, "      ")}\n`)
    }
    write(`  the runs              GET ${server.url}/api/jobs/${planId} and /api/jobs/${autoId}\n`)
    write(`  their events          GET ${server.url}/api/jobs/${autoId}/events\n`)
    write(`  readiness, metrics    ${server.url}/readyz  ${server.url}/metrics\n`)
    const code = planned === 0 && resolved === 0 && pull ? 0 : 1
    write(
      code === 0
        ? "\nThe demo worked: prwright planned the issue, fixed the bug, ran the tests before and after, and opened a PR.\n" +
            "For real: set GITHUB_TOKEN and an LLM key (see README), then `prwright serve`.\n"
        : "\nThe demo did not finish; the output above says where it stopped (`prwright doctor` checks the machine).\n",
    )
    if (options.keep ?? true) {
      const runUrl = `${server.url}/runs/${autoId}`
      write(`\nThe finished run in the web UI: ${runUrl}\n  (sign in with the API token ${DEMO_API_TOKEN})\n`)
      if (options.open ?? true) {
        const opener = openUrl(runUrl)
        write(opener ? `  opened with ${opener}\n` : "  (no browser opener found: open the URL yourself)\n")
      }
      write(
        `\nServing on ${server.url} until Ctrl-C (export PRWRIGHT_URL=${server.url} PRWRIGHT_API_TOKEN=${DEMO_API_TOKEN} to use the CLI against it; \`prwright demo --exit\` ends after the runs).\n`,
      )
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve())
        process.once("SIGTERM", () => resolve())
      })
    }
    return code
  } finally {
    await closeAll()
  }
}
