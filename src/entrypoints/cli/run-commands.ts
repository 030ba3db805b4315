import { describePlace, type RunPlace, WAIT_REASON_TEXT } from "#application/run-place.js"
import { CancelledError } from "#domain/errors.js"
import { costText } from "#domain/model-table.js"
import type { JobType } from "#domain/workflow-run.js"
import type { Config } from "#main/config.js"
import { createContainer } from "#main/container.js"
import type { ApiClient } from "./api-client.js"
import { formatTokens, formatUsageCost, unknownCostHint, type WireEvent } from "./transcript.js"
import { createTranscriptPrinter } from "./transcript-text.js"

const out = (line: string) => process.stdout.write(`${line}\n`)

/** A waiting run's `queue` (GET /api/jobs/:id) as the issue comment words it; undefined when absent. */
export const placeText = (queue: unknown): string | undefined => {
  if (typeof queue !== "object" || queue === null) return undefined
  const q = queue as Partial<RunPlace>
  if (typeof q.place !== "number") return undefined
  // a server newer than this CLI may name a reason it does not know: say it as it came
  if (q.waitingFor !== undefined && q.waitingFor in WAIT_REASON_TEXT)
    return describePlace({ estimatedStart: "unknown", estimate: "unknown", ...q } as RunPlace)
  return `place ${q.place} in line, waiting for ${q.waitingFor ?? "a free slot"}; estimated start: ${q.estimate ?? "unknown"}`
}

export const printStatus = (status: Record<string, unknown>): void => {
  const usage = status.usage as
    | { inputTokens: number; outputTokens: number; costUsd: number; unpricedModel?: string }
    | undefined
  const result = status.result as { artifacts?: Record<string, unknown>; summary?: string } | undefined
  out(`job       ${status.jobId} (${status.type})`)
  out(`issue     ${status.repoFullName}#${status.issueNumber}`)
  out(
    `status    ${status.status}  ${status.progress}%${status.progressMessage ? `  ${status.progressMessage}` : ""}`,
  )
  const place = placeText(status.queue)
  if (place) out(`queue     ${place}`)
  out(`attempts  ${status.attempts}/${status.maxAttempts}`)
  if (usage) out(`usage     ${usage.inputTokens} in / ${usage.outputTokens} out tokens, ${costText(usage)}`)
  for (const [key, value] of Object.entries(result?.artifacts ?? {})) out(`${key.padEnd(9)} ${String(value)}`)
  if (status.error) out(`error     ${status.error}`)
}

/** The artifact lines a person looks for at the end: the pull request first. */
const printOutcome = (status: Record<string, unknown>): void => {
  const artifacts = (status.result as { artifacts?: Record<string, unknown> } | undefined)?.artifacts ?? {}
  if (typeof artifacts.pullRequestUrl === "string") out(`pull request: ${artifacts.pullRequestUrl}`)
  else if (typeof artifacts.planCommentUrl === "string") out(`plan comment: ${artifacts.planCommentUrl}`)
}

/** Streams a run's events from `after` into the printer until the run ends; reconnects with Last-Event-ID. */
const streamEvents = async (
  client: ApiClient,
  jobId: string,
  printer: ReturnType<typeof createTranscriptPrinter>,
): Promise<string | undefined> => {
  let status: string | undefined
  for (let tries = 0; tries < 30 && !status; tries++) {
    try {
      const path = `/api/jobs/${encodeURIComponent(jobId)}/events`
      for await (const message of client.events(path, printer.transcript.lastSeq)) {
        if (message.event === "end") {
          status = (JSON.parse(message.data) as { status?: string }).status ?? "unknown"
          break
        }
        printer.add(JSON.parse(message.data) as WireEvent)
      }
    } catch (error) {
      process.stderr.write(`event stream interrupted (${(error as Error).message}); reconnecting\n`)
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
  }
  printer.flush()
  return status
}

/**
 * While a followed run waits, its place in line: a `waiting` line when the place or what it waits
 * for changes (not each time the estimate moves), polled every 3 s from a second after the start (a
 * run that starts at once prints none) until the run is no longer pending. Returns the stop.
 */
const watchPlace = (client: ApiClient, jobId: string, shownPlace?: string): (() => void) => {
  let stopped = false
  let shown = shownPlace
  let timer: ReturnType<typeof setTimeout> | undefined
  const tick = async () => {
    try {
      const status = await client.request<Record<string, unknown>>(
        "GET",
        `/api/jobs/${encodeURIComponent(jobId)}`,
      )
      if (status.status !== "pending") stopped = true
      const text = placeText(status.queue)
      const key = (line: string | undefined) => line?.split(";")[0]
      if (!stopped && text && key(text) !== key(shown)) {
        out(`waiting   ${text}`)
        shown = text
      }
    } catch {
      // the event stream reports a server that is gone; this is a courtesy
    }
    if (!stopped) timer = setTimeout(tick, 3000)
  }
  timer = setTimeout(tick, 1000)
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}

/**
 * Follows a queued run live (the `--wait` and `status --follow` view): while it waits, its place in
 * line; then phases with a progress line
 * (steps, tokens, cost), each tool call with the head of its result, test counts before and after,
 * then the outcome and the PR URL. Exit code 0 only if it completed.
 */
export const followRun = async (
  client: ApiClient,
  jobId: string,
  /** the place already printed (by `status --follow`), not to print twice */
  shownPlace?: string,
): Promise<number> => {
  const printer = createTranscriptPrinter(out, "compact")
  const stopWatching = watchPlace(client, jobId, shownPlace)
  try {
    await streamEvents(client, jobId, printer)
  } finally {
    stopWatching()
  }
  const final = await client.request<Record<string, unknown>>("GET", `/api/jobs/${encodeURIComponent(jobId)}`)
  const summary = (final.result as { summary?: string } | undefined)?.summary
  if (final.status === "completed" && summary) out(`\n${summary}\n`)
  out("")
  printStatus(final)
  printOutcome(final)
  return final.status === "completed" ? 0 : 1
}

/** `prwright logs JOB_ID [--follow]`: the whole transcript as text, paged from the API; live with --follow. */
export const printLogs = async (client: ApiClient, jobId: string, follow: boolean): Promise<number> => {
  const printer = createTranscriptPrinter(out, "full")
  let after = 0
  for (;;) {
    const page = await client.request<{ events: WireEvent[]; nextAfter?: number; lastSeq: number }>(
      "GET",
      `/api/runs/${encodeURIComponent(jobId)}/events?after=${after}&limit=500`,
    )
    for (const event of page.events) printer.add(event)
    if (page.nextAfter === undefined) break
    after = page.nextAfter
  }
  if (follow) await streamEvents(client, jobId, printer)
  printer.flush()
  const final = await client.request<Record<string, unknown>>("GET", `/api/jobs/${encodeURIComponent(jobId)}`)
  out("")
  out(
    `status ${final.status} · ${printer.transcript.steps} steps · ${formatTokens(printer.transcript.usage.inputTokens + printer.transcript.usage.outputTokens)} tokens · ${formatUsageCost((final.usage as { costUsd: number; unpricedModel?: string } | undefined) ?? printer.transcript.usage)}`,
  )
  const hint = unknownCostHint(
    (final.usage as { unpricedModel?: string } | undefined) ?? printer.transcript.usage,
  )
  if (hint) out(`cost unknown: ${hint}`)
  printOutcome(final)
  return final.status === "failed" ? 1 : 0
}

/** `--inline`: the same use case and run lifecycle, in this process, without a queue. */
export const runInline = async (
  config: Config,
  type: JobType,
  body: Record<string, unknown>,
): Promise<number> => {
  const container = await createContainer(config, { queue: false })
  const controller = new AbortController()
  const onSignal = () => controller.abort(new CancelledError("interrupted (SIGINT)"))
  process.once("SIGINT", onSignal)
  try {
    const { run, data } = await container.requester.prepare(type, body, { source: "cli" })
    out(`job ${run.id} (inline)`)
    const printer = createTranscriptPrinter(out, "compact")
    const unsubscribe = await container.bus.subscribe(run.id, (event) => {
      printer.add({ ...event, at: event.at.toISOString() } as unknown as WireEvent)
    })
    try {
      await container.runner({
        jobId: run.id,
        type,
        data,
        attempt: 1,
        maxAttempts: 1,
        signal: controller.signal,
        progress: async () => {},
      })
    } catch {
      // the run record holds the error; it is printed below
    } finally {
      await unsubscribe()
      printer.flush()
    }
    const final = await container.store.getRun(run.id)
    if (final?.status === "completed" && final.summary) out(`\n${final.summary}\n`)
    if (final) {
      out(`status ${final.status}`)
      for (const [key, value] of Object.entries(final.artifacts)) out(`${key} ${String(value)}`)
      if (final.error) out(`error ${final.error}`)
    }
    return final?.status === "completed" ? 0 : 1
  } finally {
    process.off("SIGINT", onSignal)
    await container.close()
  }
}
