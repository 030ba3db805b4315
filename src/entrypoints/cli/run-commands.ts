import { CancelledError } from "#domain/errors.js"
import type { RunEvent } from "#domain/run-event.js"
import type { JobType } from "#domain/workflow-run.js"
import type { Config } from "#main/config.js"
import { createContainer } from "#main/container.js"
import type { ApiClient } from "./api-client.js"
import { formatEvent } from "./format-event.js"

const out = (line: string) => process.stdout.write(`${line}\n`)

export const printStatus = (status: Record<string, unknown>): void => {
  const usage = status.usage as { inputTokens: number; outputTokens: number; costUsd: number } | undefined
  const result = status.result as { artifacts?: Record<string, unknown>; summary?: string } | undefined
  out(`job       ${status.jobId} (${status.type})`)
  out(`issue     ${status.repoFullName}#${status.issueNumber}`)
  out(
    `status    ${status.status}  ${status.progress}%${status.progressMessage ? `  ${status.progressMessage}` : ""}`,
  )
  out(`attempts  ${status.attempts}/${status.maxAttempts}`)
  if (usage)
    out(`usage     ${usage.inputTokens} in / ${usage.outputTokens} out tokens, $${usage.costUsd.toFixed(4)}`)
  for (const [key, value] of Object.entries(result?.artifacts ?? {})) out(`${key.padEnd(9)} ${String(value)}`)
  if (status.error) out(`error     ${status.error}`)
}

/** Follows a queued run over SSE, reconnecting with Last-Event-ID; exit code 0 only if it completed. */
export const followRun = async (client: ApiClient, jobId: string): Promise<number> => {
  let lastId = 0
  let status: string | undefined
  for (let tries = 0; tries < 30 && !status; tries++) {
    try {
      for await (const message of client.events(`/api/jobs/${encodeURIComponent(jobId)}/events`, lastId)) {
        if (message.event === "end") {
          status = (JSON.parse(message.data) as { status?: string }).status ?? "unknown"
          break
        }
        if (message.id) lastId = Number(message.id)
        const line = formatEvent(JSON.parse(message.data) as RunEvent)
        if (line) out(line)
      }
    } catch (error) {
      process.stderr.write(`event stream interrupted (${(error as Error).message}); reconnecting\n`)
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
  }
  const final = await client.request<Record<string, unknown>>("GET", `/api/jobs/${encodeURIComponent(jobId)}`)
  const summary = (final.result as { summary?: string } | undefined)?.summary
  if (final.status === "completed" && summary) out(`\n${summary}\n`)
  printStatus(final)
  return final.status === "completed" ? 0 : 1
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
    const unsubscribe = await container.bus.subscribe(run.id, (event) => {
      const line = formatEvent(event)
      if (line) out(line)
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
