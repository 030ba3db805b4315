import { errorMessage } from "#domain/errors.js"
import type { GitHub } from "../ports/github.js"
import type { Logger } from "../ports/logging.js"
import { changeSet } from "./change-set.js"
import { formatUsage } from "./pull-request-body.js"
import { stoppedMarker, upsertRunComment } from "./run-comment.js"
import type { RunState } from "./run-state.js"

/** What a run knows when it stops early: enough to save the work and explain the stop. */
export type StopState = Pick<
  RunState,
  | "context"
  | "repo"
  | "branch"
  | "checkout"
  | "snapshot"
  | "verifyOutput"
  | "tried"
  | "lastErrors"
  | "reported"
> & { issueNumber: number }

/** Saving work in progress may outlive the run's own (aborted) signal, but not by much. */
const WIP_TIMEOUT_MS = 30_000

/**
 * No silent loss: on any stop the work in progress is committed and pushed to the run's branch
 * (never a PR), and one comment on the issue says what was tried, the last errors, the cost and
 * how to continue. The comment id is stored at once, so a retried attempt edits it.
 */
export const reportStop = async (
  deps: {
    github: GitHub
    logger: Logger
    author: { name: string; email: string }
    runUrl?: ((runId: string) => string) | undefined
  },
  state: StopState,
  reason: string,
): Promise<void> => {
  if (state.reported) return
  state.reported = true
  const { context, repo } = state
  // a run that ended elsewhere (a cancel this worker missed) pushes and comments nothing more
  await context.ensureActive()
  let wip = ""
  // Before the snapshot (setup, baseline) nothing in the tree is the agent's work.
  if (state.checkout && state.snapshot) {
    try {
      const { paths } = await changeSet(state.checkout, state.snapshot, state.verifyOutput)
      if (paths.length > 0) {
        const sha = await state.checkout.commit({
          message: `WIP: prwright run ${context.run.id} for #${state.issueNumber} (stopped)\n\n${reason.slice(0, 500)}`,
          paths,
          author: deps.author,
        })
        if (sha) {
          await state.checkout.push({ branch: state.branch, signal: AbortSignal.timeout(WIP_TIMEOUT_MS) })
          await context.saveArtifacts({
            branchName: state.branch,
            commitHash: sha,
            filesChanged: paths.length,
          })
          wip = `The work in progress (${paths.length} file${paths.length === 1 ? "" : "s"}) is on branch \`${state.branch}\` (commit ${sha.slice(0, 7)}).`
        }
      }
    } catch (error) {
      deps.logger.warn("could not save the work in progress", { error: errorMessage(error) })
      wip = "The work in progress could not be pushed; see the run's log."
    }
  }
  const run = deps.runUrl
    ? `[run ${context.run.id}](${deps.runUrl(context.run.id)})`
    : `run \`${context.run.id}\``
  const body = [
    stoppedMarker(context.run.id),
    `⚠️ **prwright stopped before opening a pull request:** ${reason.split("\n")[0]}`,
    "",
    state.tried.length > 0 ? `**What was tried:**\n${state.tried.map((t) => `- ${t}`).join("\n")}` : "",
    state.lastErrors.length > 0
      ? `**Last errors:**\n\n\`\`\`\n${state.lastErrors.slice(-2).join("\n\n").slice(-3000)}\n\`\`\``
      : "",
    `**Cost:** ${formatUsage(context.usage())}`,
    wip,
    "",
    `**To continue:** fix what is described above (a budget stop: the operator's limits \`PRWRIGHT_MAX_STEPS\` / \`PRWRIGHT_MAX_COST_USD\`; \`.prwright.yml\` can only lower them), then comment \`/prwright resolve\` or run \`prwright resolve ${repo.fullName}#${state.issueNumber}\`; a new run starts from the branch's work in progress.`,
    "",
    `<sub>prwright · ${run}</sub>`,
  ]
    .filter((line, i, all) => !(line === "" && all[i - 1] === ""))
    .join("\n")
  const comment = await upsertRunComment(
    deps.github,
    {
      repo,
      issueNumber: state.issueNumber,
      knownId: context.run.artifacts.failureCommentId,
      marker: stoppedMarker(context.run.id),
    },
    body,
  )
  await context.saveArtifacts({ failureCommentId: comment.id, failureCommentUrl: comment.htmlUrl })
}
