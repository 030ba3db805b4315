import type { RunEvent, RunEventData } from "#domain/run-event.js"
import type { EventBus } from "./ports/event-bus.js"
import type { Logger } from "./ports/logging.js"
import type { RunStore } from "./ports/run-store.js"
import { parseRunEvents } from "./run-event-schema.js"

/**
 * Where a run's events go: validated (run-event-schema.ts: a malformed or oversized event is refused
 * with its field and nothing of the batch is stored), stored (the durable log), then published live.
 * A failed store write throws, so the job fails retryably instead of losing events silently.
 */
export interface RunJournal {
  record(runId: string, events: RunEventData[]): Promise<RunEvent[]>
}

export const createRunJournal = (deps: { store: RunStore; bus: EventBus; logger: Logger }): RunJournal => ({
  async record(runId, events) {
    if (events.length === 0) return []
    const stored = await deps.store.appendEvents(runId, parseRunEvents(events))
    // Live delivery is best effort: subscribers that miss one catch up from the store by seq. So the
    // caller does not wait for it (on Redis a round trip per event, on the path of every webhook's
    // answer and every agent step); the bus sends a run's events in the order they are given.
    for (const event of stored)
      void deps.bus.publish(event).catch((error: unknown) => {
        deps.logger.warn("live event publish failed", { runId, seq: event.seq, error: String(error) })
      })
    return stored
  },
})
