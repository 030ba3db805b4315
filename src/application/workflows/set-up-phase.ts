/**
 * Set up and baseline: the repository's setup command on the setup network (packages into the run's
 * HOME), the test command once before any edit, then the snapshot of the tree that the change set
 * is measured against. A failed setup does not end the run: the agent is told what failed and may
 * work without it, and the pull request says so.
 */
import { CancelledError } from "#domain/errors.js"
import { snapshotTree } from "./change-set.js"
import { describeTestRun, runTestCommand, testResultEvent } from "./repo-commands.js"
import type { ResolveIssueDeps, RunState } from "./run-state.js"

const SETUP_OUTPUT_BYTES = 64 * 1024

const runSetup = async (deps: ResolveIssueDeps, state: RunState, command: string) => {
  const { context, checkout } = state
  await context.progress(25, `setting up: ${command}`)
  const result = await state.sandbox.run({
    command,
    root: checkout!.root,
    mounts: checkout!.mounts,
    network: "setup",
    timeoutMs: deps.limits.setupTimeoutMs,
    maxOutputBytes: SETUP_OUTPUT_BYTES,
    signal: context.signal,
  })
  if (context.signal.aborted) throw new CancelledError()
  const refused = result.refusedHosts ?? []
  if (refused.length > 0) {
    state.setup.refusedHosts.push(...refused.filter((host) => !state.setup.refusedHosts.includes(host)))
    await context.emit({
      type: "log",
      level: "warn",
      message: `setup: the setup network refused ${refused.join(", ")} (allow hosts with PRWRIGHT_SETUP_ALLOW)`,
    })
  }
  const how = result.timedOut ? "timed out" : `exit ${result.exitCode}`
  state.tried.push(`ran setup \`${command}\` (${how})`)
  if (result.exitCode === 0 && !result.timedOut) return
  const shown = command.replaceAll("`", "'").replaceAll("\n", " ")
  state.setup.failure = `The setup command \`${shown}\` failed (${how}). Its output ended with:\n${result.output.slice(-1500)}`
  await context.emit({
    type: "log",
    level: "warn",
    message: `setup failed (${how}); the run goes on without it. ${result.output.slice(-2000)}`,
  })
}

export const setUpAndBaseline = async (deps: ResolveIssueDeps, state: RunState): Promise<void> => {
  const { context, config, checkout } = state
  if (config?.setup) await runSetup(deps, state, config.setup)
  if (config?.test) {
    await context.progress(35, `baseline tests: ${config.test}`)
    state.baseline = await runTestCommand({
      sandbox: state.sandbox,
      root: checkout!.root,
      mounts: checkout!.mounts,
      command: config.test,
      timeoutMs: deps.limits.testTimeoutMs,
      signal: context.signal,
      dirs: state.dirs,
      ecosystems: state.config?.ecosystems ?? [],
    })
    if (context.signal.aborted) throw new CancelledError()
    await context.emit(testResultEvent("baseline", state.baseline))
  }
  // Whatever setup and the baseline left in the tree is theirs, not the change's.
  state.snapshot = await snapshotTree(checkout!)
}

/** What the agent is told about its environment before it starts: the baseline, and a failed setup. */
export const environmentNote = (state: RunState): string | undefined => {
  const parts = [
    state.setup.failure
      ? `${state.setup.failure}\n\nThe environment may be incomplete (dependencies missing). Work without it where you can; the network is off from here on.`
      : "",
    state.setup.refusedHosts.length > 0
      ? `The setup network refused these hosts: ${state.setup.refusedHosts.join(", ")}.`
      : "",
    state.baseline ? describeTestRun(state.baseline, 3000) : "",
  ].filter(Boolean)
  return parts.length > 0 ? parts.join("\n\n") : undefined
}
