/**
 * A run as GitHub shows it on prwright's branch head: a check run (GitHub App) or a commit status (a
 * token cannot create check runs). The reporter follows the run's events as the journal records them,
 * so no workflow knows about it: queued → in progress (the current phase, a link to the run) →
 * success / failure / cancelled / neutral (a budget stop), with the summary, the before/after test
 * table and the cost. The conclusion comes from the run: a run that stopped is never "success".
 *
 * The commit is the branch's head: for a run continuing prwright's branch (`/prwright fix`, a review,
 * CI repair) that exists from the start; a fresh run has no commit of its own until it pushes, so its
 * check appears then. Reporting is best effort: GitHub being down never fails or slows a run.
 */

import { errorMessage } from "#domain/errors.js"
import { unknownCost } from "#domain/model-table.js"
import { parseRepoRef, type RepoRef } from "#domain/repo-ref.js"
import type { RunEventData } from "#domain/run-event.js"
import type { WorkflowRun } from "#domain/workflow-run.js"
import type { CheckRunConclusion, CheckRunOutput, CommitChecks, CommitState } from "./ports/commit-checks.js"
import type { Logger } from "./ports/logging.js"
import type { RunStore } from "./ports/run-store.js"
import type { RunJournal } from "./run-journal.js"

export const CHECK_NAME = "prwright"
/** progress updates closer together than this are folded into the next one */
const UPDATE_EVERY_MS = 2_000

type TestEvent = Extract<RunEventData, { type: "test-result" }>

interface RunCheck {
  repo: RepoRef
  sha?: string
  checkRunId?: number | undefined
  phase: string
  tests: { baseline?: TestEvent; verify?: TestEvent }
  budgetStop?: string
  lastUpdate: number
}

export interface CheckRunReporter {
  /** called with every batch the journal records; never throws, never waits for GitHub */
  observe(runId: string, events: RunEventData[]): void
  /** resolves once everything observed so far has reached GitHub (tests, shutdown) */
  flush(): Promise<void>
}

const money = (usd: number) => `$${usd.toFixed(usd < 1 ? 4 : 2)}`

const testCell = (event: TestEvent | undefined): string => {
  if (!event) return "—"
  if (event.exitCode === null) return "⏱️ killed"
  const counts = [
    event.passed === undefined ? "" : `${event.passed} passed`,
    event.failed === undefined ? "" : `${event.failed} failed`,
  ]
    .filter(Boolean)
    .join(", ")
  return `${event.exitCode === 0 ? "✅" : "❌"} ${counts || `exit ${event.exitCode}`}`
}

export const testTable = (tests: RunCheck["tests"]): string => {
  const command = tests.verify?.command ?? tests.baseline?.command
  if (!command) return "No tests ran."
  return [
    "| tests | before | after |",
    "| --- | --- | --- |",
    `| \`${command.replaceAll("|", "\\|").replaceAll("`", "'")}\` | ${testCell(tests.baseline)} | ${testCell(tests.verify)} |`,
  ].join("\n")
}

/** What the finished run concludes; only a completed run whose tests pass (or has none) succeeds. */
export const conclusionOf = (
  run: WorkflowRun,
  check: Pick<RunCheck, "tests" | "budgetStop">,
): CheckRunConclusion => {
  if (run.status === "cancelled") return "cancelled"
  if (run.status === "failed") return check.budgetStop ? "neutral" : "failure"
  if (check.tests.verify && check.tests.verify.exitCode !== 0) return "failure"
  if (run.artifacts.pullRequestDraft) return "failure"
  return "success"
}

const STATE_OF: Record<CheckRunConclusion, CommitState> = {
  success: "success",
  failure: "failure",
  neutral: "failure",
  cancelled: "error",
  timed_out: "error",
}

const TITLE_OF: Record<CheckRunConclusion, string> = {
  success: "Done",
  failure: "Failed",
  neutral: "Stopped at its budget",
  cancelled: "Cancelled",
  timed_out: "Timed out",
}

export const createCheckRunReporter = (deps: {
  checks: CommitChecks
  store: RunStore
  logger: Logger
  /** "check-run" with a GitHub App; "status" with a token */
  mode: "check-run" | "status"
  runUrl?: ((runId: string) => string) | undefined
  name?: string
  now?: () => number
}): CheckRunReporter => {
  const name = deps.name ?? CHECK_NAME
  const now = deps.now ?? Date.now
  const log = deps.logger.child({ component: "check-runs" })
  const checks = new Map<string, RunCheck>()
  const chains = new Map<string, Promise<void>>()

  /** the commit the run shows on: its own last push, else the head of the branch it continues */
  const shaOf = async (run: WorkflowRun): Promise<string | undefined> => {
    if (run.artifacts.commitHash) return run.artifacts.commitHash
    let branch = run.artifacts.branchName
    if (!branch) {
      const earlier = await deps.store.listRuns({
        repoFullName: run.repoFullName,
        issueNumber: run.issueNumber,
        limit: 20,
      })
      branch = earlier.runs.find((r) => r.id !== run.id && r.artifacts.branchName)?.artifacts.branchName
    }
    return branch ? deps.checks.getBranchSha(parseRepoRef(run.repoFullName), branch) : undefined
  }

  const summaryOf = (run: WorkflowRun, check: RunCheck, headline: string): CheckRunOutput => {
    const link = deps.runUrl ? `[${run.id}](${deps.runUrl(run.id)})` : `\`${run.id}\``
    const lines = [
      `**${headline}** · run ${link} (${run.type}, attempt ${Math.max(1, run.attempts)})`,
      "",
      `Cost so far: ${run.usage.unpricedModel === undefined ? money(run.usage.costUsd) : unknownCost(run.usage.unpricedModel)} (${run.usage.inputTokens} input, ${run.usage.outputTokens} output tokens)`,
    ]
    if (check.budgetStop) lines.push("", `Budget: ${check.budgetStop}`)
    if (run.error && run.status !== "completed") lines.push("", `Error: ${run.error}`)
    if (run.summary && run.type !== "comment-on-issue") lines.push("", run.summary)
    if (run.artifacts.pullRequestUrl) lines.push("", `Pull request: ${run.artifacts.pullRequestUrl}`)
    return { title: headline, summary: lines.join("\n"), text: testTable(check.tests) }
  }

  /** creates or updates the check (or status) on `check.sha` */
  const report = async (
    run: WorkflowRun,
    check: RunCheck,
    update: {
      status: "queued" | "in_progress" | "completed"
      conclusion?: CheckRunConclusion
      headline: string
      /** the commit status to set instead of the conclusion's */
      state?: CommitState
    },
  ) => {
    const sha = check.sha
    if (!sha) return
    const output = summaryOf(run, check, update.headline)
    const detailsUrl = deps.runUrl?.(run.id)
    if (deps.mode === "status") {
      const state = update.state ?? (update.conclusion ? STATE_OF[update.conclusion] : "pending")
      await deps.checks.setCommitStatus(check.repo, sha, {
        state,
        context: name,
        description: update.headline,
        targetUrl: detailsUrl,
      })
      return
    }
    const body = {
      status: update.status,
      conclusion: update.conclusion,
      detailsUrl,
      output,
    }
    check.checkRunId ??= await deps.checks.findCheckRun(check.repo, sha, name, run.id)
    if (check.checkRunId === undefined) {
      check.checkRunId = (
        await deps.checks.createCheckRun(check.repo, { ...body, name, headSha: sha, externalId: run.id })
      ).id
    } else {
      await deps.checks.updateCheckRun(check.repo, check.checkRunId, body)
    }
  }

  /** the run pushed a new commit: the check moves there, the old commit's check says where it went */
  const follow = async (run: WorkflowRun, check: RunCheck) => {
    const sha = await shaOf(run)
    if (!sha || sha === check.sha) return false
    if (check.sha)
      await report(run, check, {
        status: "completed",
        conclusion: "neutral",
        // a status has no "neutral"; "error" keeps the old commit from claiming a result it never had
        state: "error",
        headline: `Continued on ${sha.slice(0, 7)}`,
      })
    check.sha = sha
    check.checkRunId = undefined
    return true
  }

  const handle = async (runId: string, events: RunEventData[]) => {
    let check = checks.get(runId)
    for (const event of events) {
      if (event.type === "test-result" && check) check.tests[event.phase] = event
      if (event.type === "budget" && check)
        check.budgetStop = event.message ?? `${event.resource ?? "budget"}: ${event.used} of ${event.limit}`
      // the coding agent says why it stopped in a log line
      if (event.type === "log" && check && /^the agent stopped \(budget\)/.test(event.message))
        check.budgetStop = event.message.replace(/^the agent stopped \(budget\):\s*/, "")
    }
    const status = events.findLast((e) => e.type === "status")
    const progress = events.findLast((e) => e.type === "progress")
    if (!status && !progress) return
    const run = await deps.store.getRun(runId)
    if (!run || (run.type !== "resolve-issue" && run.type !== "auto-resolve-issue")) return
    if (!check) {
      check = { repo: parseRepoRef(run.repoFullName), phase: "queued", tests: {}, lastUpdate: 0 }
      checks.set(runId, check)
      for (const event of events) if (event.type === "test-result") check.tests[event.phase] = event
    }
    const moved = await follow(run, check)
    if (status?.type === "status") {
      if (status.status === "pending" && status.attempt === 0) {
        await report(run, check, { status: "queued", headline: "Queued" })
      } else if (status.status === "pending" || status.status === "running") {
        check.phase = status.status === "running" ? "started" : `attempt ${status.attempt} failed; retrying`
        await report(run, check, { status: "in_progress", headline: `In progress: ${check.phase}` })
        check.lastUpdate = now()
      } else {
        const conclusion = conclusionOf(run, check)
        await report(run, check, { status: "completed", conclusion, headline: TITLE_OF[conclusion] })
        checks.delete(runId)
      }
      return
    }
    if (progress?.type === "progress") {
      check.phase = progress.message ?? `${progress.progress}%`
      if (!moved && now() - check.lastUpdate < UPDATE_EVERY_MS) return
      check.lastUpdate = now()
      await report(run, check, { status: "in_progress", headline: `In progress: ${check.phase}` })
    }
  }

  return {
    observe(runId, events) {
      if (!events.some((e) => ["status", "progress", "test-result", "budget", "log"].includes(e.type))) return
      const previous = chains.get(runId) ?? Promise.resolve()
      const next = previous
        .then(() => handle(runId, events))
        .catch((error: unknown) =>
          log.warn("could not show the run on GitHub", { runId, error: errorMessage(error) }),
        )
      chains.set(runId, next)
      void next.then(() => {
        if (chains.get(runId) === next) chains.delete(runId)
      })
    },
    async flush() {
      while (chains.size > 0) await Promise.all([...chains.values()])
    },
  }
}

/** The journal, with every recorded batch also shown to each observer (after it is stored). */
export const observedJournal = (
  journal: RunJournal,
  ...observers: Array<Pick<CheckRunReporter, "observe">>
): RunJournal => ({
  async record(runId, events) {
    const stored = await journal.record(runId, events)
    for (const observer of observers) observer.observe(runId, events)
    return stored
  },
})
