import type Database from "better-sqlite3"

/**
 * Cancel acknowledgements for the embedded queue, beside its jobs in the same SQLite file. A cancel of
 * a job running in another process only sets `cancel_requested`; the process that holds the job looks
 * for that flag at every tick of its worker (not only at lease renewals) and, the moment it aborts
 * the handler, writes an acknowledgement here. `confirmCancel` waits for it: none within the wait
 * means no live worker holds the job (its process died), so the caller ends the run at once instead
 * of waiting for the lease to run out.
 */
export interface CancelAcks {
  acknowledge(jobId: string, at: number): void
  acknowledged(jobId: string): boolean
  /** true when a cancel was asked for the job this owner holds */
  cancelRequested(jobId: string, owner: string): boolean
  /** forgets acknowledgements older than `before` */
  prune(before: number): number
}

export const createCancelAcks = (db: Database.Database): CancelAcks => {
  db.exec("CREATE TABLE IF NOT EXISTS queue_cancel_acks (job_id TEXT PRIMARY KEY, acked_at INTEGER NOT NULL)")
  const ack = db.prepare<[string, number]>(
    "INSERT INTO queue_cancel_acks (job_id, acked_at) VALUES (?, ?) ON CONFLICT (job_id) DO UPDATE SET acked_at = excluded.acked_at",
  )
  const find = db.prepare<[string], { found: number }>(
    "SELECT 1 AS found FROM queue_cancel_acks WHERE job_id = ?",
  )
  const requested = db.prepare<[string, string], { found: number }>(
    "SELECT 1 AS found FROM queue_jobs WHERE id = ? AND lease_owner = ? AND state = 'active' AND cancel_requested = 1",
  )
  const prune = db.prepare<[number]>("DELETE FROM queue_cancel_acks WHERE acked_at < ?")
  return {
    acknowledge: (jobId, at) => {
      ack.run(jobId, at)
    },
    acknowledged: (jobId) => find.get(jobId) !== undefined,
    cancelRequested: (jobId, owner) => requested.get(jobId, owner) !== undefined,
    prune: (before) => prune.run(before).changes,
  }
}
