/**
 * EventBus inside one process: the embedded default when there is no Redis. Delivery is synchronous
 * and in publish order, so an SSE stream sees events in seq order without buffering.
 */
import type { EventBus } from "#application/ports/event-bus.js"
import type { Logger } from "#application/ports/logging.js"
import { errorMessage } from "#domain/errors.js"
import type { RunEvent } from "#domain/run-event.js"

type Listener = (event: RunEvent) => void

export const createMemoryEventBus = (options: { logger?: Logger } = {}): EventBus => {
  const listeners = new Map<string, Set<Listener>>()
  const everything = new Set<Listener>()

  return {
    async subscribeAll(listener) {
      const entry: Listener = (event) => listener(event)
      everything.add(entry)
      return async () => {
        everything.delete(entry)
      }
    },

    async publish(event) {
      for (const listener of [...everything]) {
        try {
          listener(event)
        } catch (error) {
          options.logger?.warn("event listener threw", { runId: event.runId, error: errorMessage(error) })
        }
      }
      const set = listeners.get(event.runId)
      if (!set) return
      // Copy first: a listener may unsubscribe (itself or others) while we deliver.
      for (const listener of [...set]) {
        try {
          listener(event)
        } catch (error) {
          // One broken subscriber (a dead SSE connection) must not starve the others or the publisher.
          options.logger?.warn("event listener threw", {
            runId: event.runId,
            seq: event.seq,
            error: errorMessage(error),
          })
        }
      }
    },

    async subscribe(runId, listener) {
      // Wrap, so the same function subscribed twice gets two independent subscriptions.
      const entry: Listener = (event) => listener(event)
      let set = listeners.get(runId)
      if (!set) {
        set = new Set()
        listeners.set(runId, set)
      }
      set.add(entry)
      return async () => {
        const current = listeners.get(runId)
        if (!current) return
        current.delete(entry)
        if (current.size === 0) listeners.delete(runId)
      }
    },

    async close() {
      listeners.clear()
    },
  }
}
