import type { Usage } from "#domain/workflow-run.js"
import type { FileChange } from "../ports/workspace.js"
import { succeeded, type TestComparison, type TestRun } from "../test-results.js"

export const RUN_MARKER = (runId: string) => `<!-- prwright:run ${runId} -->`

const resultCell = (run: TestRun | undefined): string => {
  if (!run) return "not run"
  const counts = [
    run.failed !== undefined ? `${run.failed} failed` : undefined,
    run.passed !== undefined ? `${run.passed} passed` : undefined,
  ]
    .filter(Boolean)
    .join(", ")
  const mark = succeeded(run) ? "✅" : "❌"
  const how = run.timedOut ? "timed out" : `exit ${run.exitCode}`
  return `${mark} ${counts ? `${counts} ` : ""}(${how}, ${(run.durationMs / 1000).toFixed(1)} s)`
}

const names = (list: string[], max = 10): string =>
  list
    .slice(0, max)
    .map((n) => `\`${n.replaceAll("`", "'")}\``)
    .join(", ") + (list.length > max ? ` and ${list.length - max} more` : "")

export const formatUsage = (usage: Usage): string =>
  `${usage.inputTokens.toLocaleString("en-US")} input + ${usage.outputTokens.toLocaleString("en-US")} output tokens · $${usage.costUsd.toFixed(4)}`

export const testTable = (
  before: TestRun | undefined,
  after: TestRun | undefined,
  comparison: TestComparison,
) => {
  const command = after?.command ?? before?.command
  if (!command) return "No test command was found or configured (set `test:` in `.prwright.yml`)."
  const lines = [
    "| | command | result |",
    "| --- | --- | --- |",
    `| before | \`${command}\` | ${resultCell(before)} |`,
    `| after | \`${command}\` | ${resultCell(after)} |`,
  ]
  if (comparison.fixed.length > 0) lines.push("", `Fixed by this change: ${names(comparison.fixed)}.`)
  if (comparison.newlyFailing.length > 0)
    lines.push("", `⚠️ Newly failing: ${names(comparison.newlyFailing)}.`)
  if (comparison.stillFailing.length > 0)
    lines.push("", `Failing before and after (not caused by this change): ${names(comparison.stillFailing)}.`)
  return lines.join("\n")
}

export interface PullRequestBodyInput {
  runId: string
  issueNumber: number
  summary: string
  files: FileChange[]
  before?: TestRun
  after?: TestRun
  comparison: TestComparison
  usage: Usage
  model: string
  steps: number
  repairRounds: number
  draft: boolean
  runUrl?: string
}

/** The PR body INTERFACES.md asks for: summary, files, tests before/after, cost, run link, Closes #N. */
export const pullRequestBody = (input: PullRequestBodyInput): string => {
  const files =
    input.files.length === 0
      ? "_none_"
      : input.files
          .slice(0, 50)
          .map((f) => `- \`${f.path}\` (${f.kind})`)
          .join("\n") + (input.files.length > 50 ? `\n- … and ${input.files.length - 50} more` : "")
  const run = input.runUrl ? `[run ${input.runId}](${input.runUrl})` : `run \`${input.runId}\``
  return [
    RUN_MARKER(input.runId),
    input.draft
      ? "> [!WARNING]\n> The tests still fail after this change, so this pull request is a draft. See the table below.\n"
      : "",
    "## Summary",
    "",
    input.summary.trim(),
    "",
    `Closes #${input.issueNumber}`,
    "",
    "### Files changed",
    "",
    files,
    "",
    "### Tests",
    "",
    testTable(input.before, input.after, input.comparison),
    "",
    "### Cost",
    "",
    `${formatUsage(input.usage)} · ${input.model} · ${input.steps} steps${input.repairRounds > 0 ? ` · ${input.repairRounds} repair round(s)` : ""}`,
    "",
    `<sub>prwright · ${run} · the tests decided, not the model</sub>`,
  ]
    .filter((line, i, all) => !(line === "" && all[i - 1] === ""))
    .join("\n")
}
