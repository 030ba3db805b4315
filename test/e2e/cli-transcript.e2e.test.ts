/**
 * The CLI's transcript views against a real server with the doubles: `prwright auto … --wait` shows
 * phases with a progress line (steps, tokens, cost), tool calls with the head of their results,
 * test counts before and after, and the PR URL at the end; `prwright logs JOB_ID` prints the whole
 * transcript (tool output, the diff); `prwright status JOB_ID --follow` follows a run to its end.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startPrwright } from "../support/prwright-process.js"
import { FIXED_LINE_NEW, fixSteps, planSteps, SAMPLE_FILES, SAMPLE_ISSUE } from "../support/sample-repo.js"
import { type ServedFlow, startServedFlow } from "../support/served-flow.js"

const GITHUB_TOKEN = "ghp_cliTranscriptToken_01234567"
const LLM_KEY = "sk-cli-transcript-key-0123456789"
const API_TOKEN = "prw_cli_transcript_api_token_123"

describe("CLI transcript views", () => {
  let flow: ServedFlow
  let env: Record<string, string>
  let jobId = ""

  beforeAll(async () => {
    flow = await startServedFlow({
      prefix: "prwright-cli-transcript-",
      repo: "acme/mathlib",
      files: SAMPLE_FILES,
      script: [...planSteps(), ...fixSteps(), ...planSteps().map((step) => ({ ...step, delayMs: 1500 }))],
      githubToken: GITHUB_TOKEN,
      llmKey: LLM_KEY,
      apiToken: API_TOKEN,
    })
    flow.github.createIssue("acme/mathlib", SAMPLE_ISSUE)
    flow.github.createIssue("acme/mathlib", { title: "Plan me", body: "slowly" })
    env = flow.env
  }, 90_000)

  afterAll(async () => {
    await flow?.close()
  })

  it("--wait shows phases with a progress line, tool results, test counts and the PR URL", async () => {
    const cli = startPrwright(["auto", "acme/mathlib#1", "--wait"], env)
    expect(await cli.exited, cli.output()).toBe(0)
    const output = cli.output()
    jobId = /job ([0-9a-f-]{36}) pending/.exec(output)?.[1] ?? ""
    expect(jobId).not.toBe("")
    expect(output).toMatch(/^\[ *35%\] baseline tests · \d+ steps? · [\d.]+k? tokens · \$\d+\.\d{4}$/m)
    expect(output).toMatch(/^\[ *80%\] verifying · 8 steps · /m)
    expect(output).toMatch(/→ bash npm test\n {4}✓ \d+ bytes\n {4}│ /)
    expect(output).toContain("tests before: npm test → 1 failed, 2 passed")
    expect(output).toMatch(
      /tests after: npm test → 0 failed, 3 passed \([\d.]+ s\), before: 1 failed, 2 passed/,
    )
    expect(output).toContain("diff: src/math.js (1 file)")
    expect(output).toMatch(/^pull request: http:\/\/\S+\/pull\/\d+$/m)
    // human output only: no JSON log lines from the CLI itself
    expect(output.split("\n").filter((line) => line.startsWith('{"level"'))).toEqual([])
  }, 120_000)

  it("logs prints the whole transcript: tool arguments and output, the diff, the plan", async () => {
    const cli = startPrwright(["logs", jobId], env)
    expect(await cli.exited, cli.output()).toBe(0)
    const output = cli.output()
    expect(output).toContain("plan:")
    expect(output).toContain("1. Make clamp() apply the high bound in src/math.js")
    expect(output).toContain(`+${FIXED_LINE_NEW}`)
    expect(output).toMatch(/"old_str": " {2}return Math.max\(low, value\)"/)
    expect(output).toMatch(/# fail 1/)
    expect(output).toMatch(/^status completed · 8 steps · /m)
    // each tool call once
    expect(output.match(/^ {2}→ /gm)).toHaveLength(8)
  })

  it("status --follow follows a running run to its end", async () => {
    const started = await flow.api("/api/workflow/commentOnIssue", {
      method: "POST",
      body: JSON.stringify({ repoFullName: "acme/mathlib", issueNumber: 2 }),
    })
    const { jobId: planJob } = (await started.json()) as { jobId: string }
    const cli = startPrwright(["status", planJob, "--follow"], env)
    expect(await cli.exited, cli.output()).toBe(0)
    const output = cli.output()
    expect(output).toMatch(/^job {7}\S+ \(comment-on-issue\)$/m)
    expect(output).toMatch(/→ submit_plan/)
    expect(output).toMatch(/status +completed/)
  }, 60_000)
})
