import { costText } from "#domain/model-table.js"
import type { Usage } from "#domain/workflow-run.js"
import type { FileChange } from "../ports/workspace.js"
import { succeeded, type TestComparison, type TestRun } from "../test-results.js"
import type { Proof } from "./run-state.js"

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
  `${usage.inputTokens.toLocaleString("en-US")} input + ${usage.outputTokens.toLocaleString("en-US")} output tokens · ${costText(usage)}`

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
  before?: TestRun | undefined
  after?: TestRun | undefined
  comparison: TestComparison
  usage: Usage
  model: string
  steps: number
  repairRounds: number
  draft: boolean
  /** the agent stopped without submitting; its change passed the tests */
  stoppedReason?: string | undefined
  proof?: Proof | undefined
  /** existing tests or test configuration the change edits or deletes */
  editedTests?: string[]
  /** files of the change that setup or the baseline run had also changed */
  alsoTouchedBySetup?: string[]
  /** files left out of the commit because a test run wrote them */
  leftOut?: string[]
  /** files left out because they are links leading outside the repository */
  refused?: string[]
  setupFailure?: string | undefined
  refusedHosts?: string[]
  runUrl?: string | undefined
}

const code = (text: string) => `\`${text.replaceAll("`", "'")}\``
const pathList = (paths: string[], max = 20) =>
  paths.slice(0, max).map(code).join(", ") + (paths.length > max ? ` and ${paths.length - max} more` : "")

/** The "fails before / passes after" table: the change's tests on the old code and on the change. */
export const proofSection = (proof: Proof | undefined): string => {
  if (!proof) return ""
  if (proof.kind === "not-shown") return `**Proof of the fix:** not shown (${proof.reason}).`
  const rows = proof.rows.slice(0, 30).map((row) => {
    const before = row.before === "absent" ? "❌ absent (did not build or run)" : "❌ fails"
    return `| ${code(row.name).replaceAll("|", "\\|")} | ${before} | ✅ passes |`
  })
  return [
    `**Proof of the fix:** the change's tests (${code(proof.before.command)}) run on the old code, and on the change:`,
    "",
    "| test | before the change | after the change |",
    "| --- | --- | --- |",
    ...rows,
    ...(proof.rows.length > 30 ? [`| … and ${proof.rows.length - 30} more | | |`] : []),
  ].join("\n")
}

const warnings = (input: PullRequestBodyInput): string[] => {
  const lines: string[] = []
  if (input.stoppedReason) {
    lines.push(
      `> [!NOTE]\n> The agent stopped before submitting (${input.stoppedReason.split("\n")[0]}). Its change passes the tests, so it is offered as a draft for review.`,
    )
  } else if (input.draft) {
    lines.push(
      "> [!WARNING]\n> The tests still fail after this change, so this pull request is a draft. See the table below.",
    )
  }
  if (input.editedTests && input.editedTests.length > 0) {
    lines.push(
      `> [!CAUTION]\n> This change edits or deletes existing tests or test configuration: ${pathList(input.editedTests)}. Verification ran the repository's own versions of them, so these edits did not count towards passing. Review them.`,
    )
  }
  if (input.setupFailure) {
    lines.push(
      `> [!WARNING]\n> Setup failed, and the agent worked without it: ${input.setupFailure.split("\n")[0]}`,
    )
  }
  return lines
}

const notes = (input: PullRequestBodyInput): string[] => {
  const lines: string[] = []
  if (input.alsoTouchedBySetup && input.alsoTouchedBySetup.length > 0) {
    lines.push(
      `- Files of this change that setup had also changed (the commit carries both): ${pathList(input.alsoTouchedBySetup)}.`,
    )
  }
  if (input.leftOut && input.leftOut.length > 0) {
    lines.push(`- Left out of the commit (written by the test run): ${pathList(input.leftOut)}.`)
  }
  if (input.refused && input.refused.length > 0) {
    lines.push(
      `- Left out of the commit (links that lead outside the repository): ${pathList(input.refused)}.`,
    )
  }
  if (input.refusedHosts && input.refusedHosts.length > 0) {
    lines.push(
      `- The setup network refused: ${pathList(input.refusedHosts)} (the operator allows hosts with \`PRWRIGHT_SETUP_ALLOW\`).`,
    )
  }
  return lines.length > 0 ? ["### Notes", "", ...lines, ""] : []
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
    ...warnings(input).map((w) => `${w}\n`),
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
    proofSection(input.proof),
    "",
    ...notes(input),
    "### Cost",
    "",
    `${formatUsage(input.usage)} · ${input.model} · ${input.steps} steps${input.repairRounds > 0 ? ` · ${input.repairRounds} repair round(s)` : ""}`,
    "",
    `<sub>prwright · ${run} · the tests decided, not the model</sub>`,
  ]
    .filter((line, i, all) => !(line === "" && all[i - 1] === ""))
    .join("\n")
}
