/** Live run events across processes. */
import type { RunEvent } from "#domain/run-event.js"

export interface EventBus {
  publish(event: RunEvent): Promise<void>
  /** live events of one run; returns the unsubscribe function */
  subscribe(runId: string, listener: (event: RunEvent) => void): Promise<() => Promise<void>>
  /** live events of every run (metrics); returns the unsubscribe function */
  subscribeAll?(listener: (event: RunEvent) => void): Promise<() => Promise<void>>
  close(): Promise<void>
}
