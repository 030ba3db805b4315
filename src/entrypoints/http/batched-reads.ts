import type { RunStore } from "#application/ports/run-store.js"

/**
 * Shares identical store reads among the SSE streams of one run. Every event wakes every
 * subscriber, and each re-reads the store (the store, not the bus, is the truth): 200 subscribers
 * made 400 reads per event. Here identical reads asked for in the same turn of the event loop run
 * once, on the next turn, and every caller gets that result. A read is never joined after it has
 * started, so no caller sees data older than its own request.
 */
export const batchedReads = (store: Pick<RunStore, "getRun" | "listEvents">) => {
  const pending = new Map<string, Promise<unknown>>()
  const batch = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    const waiting = pending.get(key)
    if (waiting) return waiting as Promise<T>
    const promise = new Promise<T>((resolve, reject) => {
      setImmediate(() => {
        // from here on, callers start a new batch: this read is under way
        pending.delete(key)
        read().then(resolve, reject)
      })
    })
    pending.set(key, promise)
    return promise
  }
  return {
    getRun: (id: string) => batch(`run:${id}`, () => store.getRun(id)),
    listEvents: (runId: string, options: { afterSeq: number; limit: number }) =>
      batch(`events:${runId}:${options.afterSeq}:${options.limit}`, () => store.listEvents(runId, options)),
  }
}
