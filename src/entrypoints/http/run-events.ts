import type { Env, Hono } from "hono"
import { streamSSE } from "hono/streaming"
import type { EventBus } from "#application/ports/event-bus.js"
import type { RunStore } from "#application/ports/run-store.js"
import { NotFoundError, ValidationError } from "#domain/errors.js"
import type { RunEvent } from "#domain/run-event.js"
import { isTerminal } from "#domain/workflow-run.js"
import { batchedReads } from "./batched-reads.js"

const serialize = (event: RunEvent) => ({ ...event, at: event.at.toISOString() })

/**
 * GET /api/jobs/:jobId/events. The store is the source of truth and `seq` the cursor, so a client
 * resuming with Last-Event-ID gets every later event exactly once, in order; the live bus only
 * wakes the stream early (it works across processes by re-reading the store).
 */
export const registerEventRoutes = <E extends Env>(
  api: Hono<E>,
  deps: { store: RunStore; bus: EventBus; pollMs?: number; heartbeatMs?: number },
): void => {
  const pollMs = deps.pollMs ?? 500
  // the live streams of one run share their reads (batched-reads.ts)
  const shared = batchedReads(deps.store)
  api.get("/jobs/:jobId/events", async (c) => {
    const jobId = c.req.param("jobId")
    const run = await deps.store.getRun(jobId)
    if (!run) throw new NotFoundError(`no job with id ${jobId}`)
    const from = c.req.header("last-event-id") ?? c.req.query("after") ?? "0"
    let lastSeq = Number(from)
    if (!Number.isInteger(lastSeq) || lastSeq < 0) {
      throw new ValidationError("Last-Event-ID (or ?after=) must be a non-negative integer event id", [
        { field: "Last-Event-ID", message: "must be a non-negative integer" },
      ])
    }

    const accept = c.req.header("accept") ?? ""
    if (accept.includes("application/json") && !accept.includes("text/event-stream")) {
      const events = await deps.store.listEvents(jobId, { afterSeq: lastSeq, limit: 10_000 })
      return c.json(events.map(serialize))
    }

    return streamSSE(c, async (stream) => {
      let wake: (() => void) | undefined
      // Without the live bus (Redis away) the stream still works, by polling the store.
      const unsubscribe = await deps.bus.subscribe(jobId, () => wake?.()).catch(() => async () => {})
      let closed = false
      stream.onAbort(() => {
        closed = true
        wake?.()
      })
      /** writes every stored event after lastSeq, in pages */
      const flush = async () => {
        for (;;) {
          const events = await shared.listEvents(jobId, { afterSeq: lastSeq, limit: 500 })
          for (const event of events) {
            await stream.writeSSE({
              id: String(event.seq),
              event: event.type,
              data: JSON.stringify(serialize(event)),
            })
            lastSeq = event.seq
          }
          if (events.length < 500) return
        }
      }
      let lastBeat = Date.now()
      try {
        while (!closed) {
          await flush()
          const current = await shared.getRun(jobId)
          if (!current || isTerminal(current.status)) {
            // A last read closes the window between the final status write and this check.
            await flush()
            await stream.writeSSE({ event: "end", data: JSON.stringify({ status: current?.status }) })
            break
          }
          if (Date.now() - lastBeat > (deps.heartbeatMs ?? 15_000)) {
            await stream.write(": keep-alive\n\n")
            lastBeat = Date.now()
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pollMs)
            wake = () => {
              clearTimeout(timer)
              resolve()
            }
          })
          wake = undefined
        }
      } finally {
        await unsubscribe()
      }
    })
  })
}
