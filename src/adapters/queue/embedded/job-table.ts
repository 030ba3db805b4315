import type Database from "better-sqlite3"
import type {
  ConcurrencyLimit,
  JobPayload,
  KeepJobs,
  QueueJobInfo,
  QueueJobState,
  QueuePlace,
} from "#application/ports/job-queue.js"
import type { JobType, Priority } from "#domain/workflow-run.js"
import { WORKERS_TABLE_SQL } from "../worker-heartbeats.js"

/**
 * The embedded queue's storage: one `queue_jobs` table in the app's SQLite file (the run store keeps
 * its own tables there; everything here is prefixed `queue_`). Every statement is synchronous, so a
 * claim, a cancel or a finish is one atomic step even with other processes on the same file.
 *
 * The transactions below read before they write, so they begin IMMEDIATE: the write lock is taken at
 * BEGIN, and another process writing between the read and the write cannot make the upgrade fail
 * with SQLITE_BUSY (busy_timeout does not cover an upgrade from a stale snapshot).
 *
 * Leases: an active row carries `lease_owner` (a fresh token per attempt, doubling as a fencing token:
 * every write of a worker is conditioned on it) and `lease_expires_at`, which the owner keeps pushing
 * forward. A row whose lease ran out belongs to a dead or hung process and is swept back to waiting.
 */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS queue_jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  data_hash TEXT NOT NULL,
  priority INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  progress REAL NOT NULL DEFAULT 0,
  result TEXT,
  error TEXT,
  run_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  concurrency_key TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS queue_jobs_claim ON queue_jobs (type, state, priority, run_at, seq);
CREATE INDEX IF NOT EXISTS queue_jobs_lease ON queue_jobs (state, lease_expires_at);
`

// created after the column migration below, so a file from an older version gets both
const KEY_INDEX = `
CREATE INDEX IF NOT EXISTS queue_jobs_key ON queue_jobs (concurrency_key, state) WHERE concurrency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS queue_jobs_finished ON queue_jobs (state, finished_at) WHERE finished_at IS NOT NULL;
`

/**
 * Counted slots (EnqueueRequest.limits): one row per job and limit key. A job's rows go when it ends
 * (the triggers), so counting a key's active holders never scans finished history. A slot is "held"
 * by an active row, so a dead worker's slot comes back when the sweep returns its expired lease.
 * `active` mirrors the job's state (a trigger keeps it), so counting a key's held slots reads the held
 * rows of one index range instead of every waiting job of the key: that count is made for each new
 * job and each claim, and with a backlog of N waiting it cost O(N) each.
 */
const LIMITS_TABLE = `
CREATE TABLE IF NOT EXISTS queue_job_limits (
  job_id TEXT NOT NULL,
  key TEXT NOT NULL,
  max INTEGER NOT NULL,
  ord INTEGER NOT NULL,
  active INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (job_id, key)
);`
// after the column migration below, so a file from an older version gets the column first
const LIMITS_SCHEMA = `
CREATE INDEX IF NOT EXISTS queue_job_limits_key ON queue_job_limits (key, job_id);
CREATE INDEX IF NOT EXISTS queue_job_limits_held ON queue_job_limits (key, active);
CREATE TRIGGER IF NOT EXISTS queue_job_limits_active AFTER UPDATE OF state ON queue_jobs
  WHEN (NEW.state = 'active') <> (OLD.state = 'active')
  BEGIN UPDATE queue_job_limits SET active = (NEW.state = 'active') WHERE job_id = NEW.id; END;
CREATE TRIGGER IF NOT EXISTS queue_job_limits_ended AFTER UPDATE OF state ON queue_jobs
  WHEN NEW.state IN ('completed', 'failed', 'cancelled')
  BEGIN DELETE FROM queue_job_limits WHERE job_id = NEW.id; END;
CREATE TRIGGER IF NOT EXISTS queue_job_limits_deleted AFTER DELETE ON queue_jobs
  BEGIN DELETE FROM queue_job_limits WHERE job_id = OLD.id; END;
`

/** A claimable row's key (if any) must have no active job: at most one active run per key. */
const keyFree = (q: string) => `(${q}.concurrency_key IS NULL OR NOT EXISTS (
   SELECT 1 FROM queue_jobs a WHERE a.concurrency_key = ${q}.concurrency_key AND a.state = 'active'))`
const KEY_FREE = keyFree("q")

/** Every limit of the row has a slot left: fewer active holders of its key than its max. */
const slotsFree = (q: string) => `NOT EXISTS (
   SELECT 1 FROM queue_job_limits l WHERE l.job_id = ${q}.id AND l.max <= (
     SELECT count(*) FROM queue_job_limits h WHERE h.key = l.key AND h.active = 1))`

/**
 * Start order across types: a job may not take a slot while an earlier job of another type (priority
 * first, then arrival) waits for the same limit key and could start now — its key and slots free and a
 * live worker of its type polling. Within one type the claim's ORDER BY keeps the order.
 */
const NONE_AHEAD = `NOT EXISTS (
   SELECT 1 FROM queue_job_limits l
     JOIN queue_job_limits lb ON lb.key = l.key AND lb.job_id <> l.job_id
     JOIN queue_jobs b ON b.id = lb.job_id
    WHERE l.job_id = q.id AND b.type <> q.type AND b.state IN ('waiting', 'delayed') AND b.run_at <= :now
      AND (b.priority, b.run_at, b.seq) < (q.priority, q.run_at, q.seq)
      AND ${keyFree("b")} AND ${slotsFree("b")}
      AND EXISTS (SELECT 1 FROM queue_workers w WHERE w.type = b.type AND w.beat_at >= :live))`

/** How recent a worker's heartbeat must be for its type to count as served (as WORKER_LIVE_WINDOW_MS). */
const LIVE_WINDOW_MS = 15_000

/** Claim order: lower rank first, then oldest due first (FIFO within a priority). */
export const PRIORITY_RANK: Record<Priority, number> = { urgent: 0, high: 1, normal: 2, low: 3 }

export interface JobRow {
  seq: number
  id: string
  type: JobType
  data: string
  data_hash: string
  priority: number
  state: QueueJobState
  attempt: number
  max_attempts: number
  progress: number
  result: string | null
  error: string | null
  run_at: number
  lease_owner: string | null
  lease_expires_at: number | null
  cancel_requested: number
  concurrency_key: string | null
  created_at: number
  updated_at: number
  finished_at: number | null
}

export type JobTable = ReturnType<typeof createJobTable>

export const createJobTable = (db: Database.Database) => {
  db.exec(SCHEMA)
  const columns = db.prepare<[], { name: string }>("PRAGMA table_info(queue_jobs)").all()
  if (!columns.some((column) => column.name === "concurrency_key"))
    db.exec("ALTER TABLE queue_jobs ADD COLUMN concurrency_key TEXT")
  db.exec(KEY_INDEX)
  db.exec(LIMITS_TABLE)
  const limitColumns = db.prepare<[], { name: string }>("PRAGMA table_info(queue_job_limits)").all()
  if (!limitColumns.some((column) => column.name === "active"))
    db.transaction(() => {
      db.exec("ALTER TABLE queue_job_limits ADD COLUMN active INTEGER NOT NULL DEFAULT 0")
      db.exec(`UPDATE queue_job_limits SET active = 1
                WHERE job_id IN (SELECT id FROM queue_jobs WHERE state = 'active')`)
    }).immediate()
  db.exec(LIMITS_SCHEMA)
  db.exec(WORKERS_TABLE_SQL)

  const insert = db.prepare<
    [string, string, string, string, number, number, string | null, number, number, number]
  >(
    `INSERT INTO queue_jobs (id, type, data, data_hash, priority, state, max_attempts, concurrency_key, run_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
  )
  const byId = db.prepare<[string], JobRow>("SELECT * FROM queue_jobs WHERE id = ?")
  const insertLimit = db.prepare<[string, string, number, number]>(
    "INSERT INTO queue_job_limits (job_id, key, max, ord) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
  )
  const claim = db.prepare<
    { type: string; now: number; owner: string; expires: number; live: number },
    JobRow
  >(
    `UPDATE queue_jobs
        SET state = 'active', attempt = attempt + 1, lease_owner = :owner, lease_expires_at = :expires,
            updated_at = :now
      WHERE id = (SELECT q.id FROM queue_jobs q
                   WHERE q.type = :type AND q.state IN ('waiting', 'delayed') AND q.run_at <= :now
                     AND ${KEY_FREE} AND ${slotsFree("q")} AND ${NONE_AHEAD}
                   ORDER BY q.priority, q.run_at, q.seq LIMIT 1)
      RETURNING *`,
  )
  // a job blocked by its key is not "due": it becomes claimable when the key's job ends (which wakes
  // this process's workers, or the next poll notices it if another process ran it)
  const nextDue = db.prepare<[string], { due: number | null }>(
    `SELECT MIN(q.run_at) AS due FROM queue_jobs q
      WHERE q.type = ? AND q.state IN ('waiting', 'delayed') AND ${KEY_FREE} AND ${slotsFree("q")}`,
  )
  // where a waiting job stands (placeInLine): what holds it, and how many wait ahead for the same
  const keyBusy = db.prepare<[string], { busy: number }>(
    "SELECT EXISTS (SELECT 1 FROM queue_jobs WHERE concurrency_key = ? AND state = 'active') AS busy",
  )
  const aheadOnKey = db.prepare<[string, number, number, number], { n: number }>(
    `SELECT count(*) AS n FROM queue_jobs b WHERE b.concurrency_key = ? AND b.state IN ('waiting', 'delayed')
        AND (b.priority, b.run_at, b.seq) < (?, ?, ?)`,
  )
  const limitsOf = db.prepare<[string], { key: string; max: number; held: number }>(
    `SELECT l.key, l.max, (SELECT count(*) FROM queue_job_limits h WHERE h.key = l.key AND h.active = 1) AS held
       FROM queue_job_limits l WHERE l.job_id = ? ORDER BY l.ord`,
  )
  const aheadOnLimit = db.prepare<[string, number, number, number], { n: number }>(
    `SELECT count(*) AS n FROM queue_job_limits lb JOIN queue_jobs b ON b.id = lb.job_id
      WHERE lb.key = ? AND b.state IN ('waiting', 'delayed') AND (b.priority, b.run_at, b.seq) < (?, ?, ?)`,
  )
  const aheadOfType = db.prepare<[string, number, number, number, number], { n: number }>(
    `SELECT count(*) AS n FROM queue_jobs b WHERE b.type = ? AND b.state IN ('waiting', 'delayed')
        AND b.run_at <= ? AND (b.priority, b.run_at, b.seq) < (?, ?, ?)`,
  )
  const pruneOlder = db.prepare<[string, number]>(
    "DELETE FROM queue_jobs WHERE state = ? AND finished_at IS NOT NULL AND finished_at < ?",
  )
  const pruneBeyond = db.prepare<[string, string, number]>(
    `DELETE FROM queue_jobs WHERE state = ? AND finished_at IS NOT NULL AND seq NOT IN (
       SELECT seq FROM queue_jobs WHERE state = ? AND finished_at IS NOT NULL
        ORDER BY finished_at DESC, seq DESC LIMIT ?)`,
  )
  const renew = db.prepare<[number, string, string], { cancel_requested: number }>(
    `UPDATE queue_jobs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND state = 'active'
     RETURNING cancel_requested`,
  )
  const setProgress = db.prepare<[number, number, string, string], { cancel_requested: number }>(
    `UPDATE queue_jobs SET progress = ?, updated_at = ? WHERE id = ? AND lease_owner = ? AND state = 'active'
     RETURNING cancel_requested`,
  )
  const sweep = db.prepare<{ now: number }, { id: string; state: QueueJobState; attempt: number }>(
    `UPDATE queue_jobs
        SET state = CASE WHEN cancel_requested = 1 THEN 'cancelled'
                         WHEN attempt < max_attempts THEN 'waiting' ELSE 'failed' END,
            error = CASE WHEN cancel_requested = 1 THEN 'the job was cancelled'
                         ELSE 'the worker running attempt ' || attempt || ' stopped without finishing (its lease expired)' END,
            finished_at = CASE WHEN cancel_requested = 1 OR attempt >= max_attempts THEN :now END,
            lease_owner = NULL, lease_expires_at = NULL, run_at = :now, updated_at = :now
      WHERE state = 'active' AND lease_expires_at < :now
      RETURNING id, state, attempt`,
  )
  const finish = db.prepare<{
    id: string
    owner: string
    state: QueueJobState
    result: string | null
    error: string | null
    progress: number | null
    attemptDelta: number
    runAt: number
    now: number
    finished: number | null
  }>(
    `UPDATE queue_jobs
        SET state = :state, result = :result, error = :error, progress = COALESCE(:progress, progress),
            attempt = attempt + :attemptDelta, run_at = :runAt, finished_at = :finished,
            lease_owner = NULL, lease_expires_at = NULL, updated_at = :now
      WHERE id = :id AND lease_owner = :owner AND state = 'active'`,
  )
  const cancelWaiting = db.prepare<[number, number, string]>(
    `UPDATE queue_jobs SET state = 'cancelled', cancel_requested = 1, error = 'the job was cancelled',
            finished_at = ?, updated_at = ? WHERE id = ? AND state IN ('waiting', 'delayed')`,
  )
  const requestCancel = db.prepare<[number, string]>(
    "UPDATE queue_jobs SET cancel_requested = 1, updated_at = ? WHERE id = ? AND state = 'active'",
  )

  const insertJob = db.transaction(
    (job: {
      id: string
      type: JobType
      data: string
      dataHash: string
      priority: Priority
      maxAttempts: number
      concurrencyKey?: string | undefined
      limits?: ConcurrencyLimit[] | undefined
      now: number
    }): { created: boolean; row: JobRow } => {
      const { changes } = insert.run(
        job.id,
        job.type,
        job.data,
        job.dataHash,
        PRIORITY_RANK[job.priority],
        job.maxAttempts,
        job.concurrencyKey ?? null,
        job.now,
        job.now,
        job.now,
      )
      if (changes === 1)
        (job.limits ?? []).forEach((limit, ord) => {
          insertLimit.run(job.id, limit.key, limit.max, ord)
        })
      return { created: changes === 1, row: byId.get(job.id)! }
    },
  )

  const lines = {
    /** inserts unless the id exists (with its limits, in one transaction); returns the stored row either way */
    insert: insertJob,
    get: (id: string): JobRow | undefined => byId.get(id),
    claim: (type: JobType, owner: string, now: number, leaseMs: number): JobRow | undefined =>
      claim.get({ type, now, owner, expires: now + leaseMs, live: now - LIVE_WINDOW_MS }),
    /** where a waiting job stands; undefined when it is not waiting (or its retry backoff runs) */
    placeInLine: (id: string, now: number, heldOnly = false): QueuePlace | undefined => {
      const row = byId.get(id)
      if (!row || (row.state !== "waiting" && row.state !== "delayed") || row.run_at > now) return undefined
      const order = [row.priority, row.run_at, row.seq] as const
      if (row.concurrency_key !== null && keyBusy.get(row.concurrency_key)?.busy === 1)
        return {
          place: 1 + (aheadOnKey.get(row.concurrency_key, ...order)?.n ?? 0),
          waitingFor: { kind: "key", key: row.concurrency_key },
        }
      for (const limit of limitsOf.all(id))
        if (limit.held >= limit.max)
          return {
            place: 1 + (aheadOnLimit.get(limit.key, ...order)?.n ?? 0),
            waitingFor: { kind: "limit", key: limit.key, max: limit.max },
          }
      if (heldOnly) return undefined
      return {
        place: 1 + (aheadOfType.get(row.type, now, ...order)?.n ?? 0),
        waitingFor: { kind: "workers" },
      }
    },
    nextDue: (type: JobType): number | undefined => nextDue.get(type)?.due ?? undefined,
  }
  return {
    ...lines,
    /** undefined: the lease is lost (someone swept or took the job); else whether a cancel is pending */
    renew: (id: string, owner: string, expires: number): { cancelRequested: boolean } | undefined => {
      const row = renew.get(expires, id, owner)
      return row && { cancelRequested: row.cancel_requested === 1 }
    },
    progress: (id: string, owner: string, percent: number, now: number) => {
      const row = setProgress.get(percent, now, id, owner)
      return row && { cancelRequested: row.cancel_requested === 1 }
    },
    sweepExpired: (now: number) => sweep.all({ now }),
    complete: (id: string, owner: string, result: JobPayload, now: number): boolean =>
      finish.run({
        id,
        owner,
        state: "completed",
        result: JSON.stringify(result),
        error: null,
        progress: 100,
        attemptDelta: 0,
        runAt: now,
        now,
        finished: now,
      }).changes === 1,
    /** one transaction, so a cancel request that raced the failure still wins */
    fail: db.transaction(
      (
        id: string,
        owner: string,
        failure: { message: string; retryAt: number | undefined; now: number },
      ): QueueJobState | undefined => {
        const row = byId.get(id)
        if (row?.state !== "active" || row.lease_owner !== owner) return undefined
        const state: QueueJobState =
          row.cancel_requested === 1
            ? "cancelled"
            : failure.retryAt !== undefined && row.attempt < row.max_attempts
              ? "delayed"
              : "failed"
        finish.run({
          id,
          owner,
          state,
          result: null,
          error: state === "cancelled" ? "the job was cancelled" : failure.message,
          progress: null,
          attemptDelta: 0,
          runAt: state === "delayed" ? failure.retryAt! : row.run_at,
          now: failure.now,
          finished: state === "delayed" ? null : failure.now,
        })
        return state
      },
    ).immediate,
    /** graceful shutdown: hand the job back without counting the interrupted attempt */
    release: (id: string, owner: string, now: number): boolean =>
      finish.run({
        id,
        owner,
        state: "waiting",
        result: null,
        error: null,
        progress: null,
        attemptDelta: -1,
        runAt: now,
        now,
        finished: null,
      }).changes === 1,
    /** deletes finished jobs beyond the retention; the run store keeps their history */
    prune: db.transaction((now: number, keep: { completed: KeepJobs; failed: KeepJobs }): number => {
      let removed = 0
      const plan: Array<[QueueJobState, KeepJobs]> = [
        ["completed", keep.completed],
        ["failed", keep.failed],
        ["cancelled", keep.failed],
      ]
      for (const [state, rule] of plan) {
        if (rule.ageMs !== undefined) removed += pruneOlder.run(state, now - rule.ageMs).changes
        if (rule.count !== undefined) removed += pruneBeyond.run(state, state, rule.count).changes
      }
      return removed
    }).immediate,
    cancel: db.transaction((id: string, now: number): "cancelled" | "requested" | "none" => {
      if (cancelWaiting.run(now, now, id).changes === 1) return "cancelled"
      if (requestCancel.run(now, id).changes === 1) return "requested"
      return "none"
    }).immediate,
  }
}

export const toJobInfo = (row: JobRow, now: number): QueueJobInfo => ({
  jobId: row.id,
  type: row.type,
  // a retry whose backoff has passed is simply waiting for a free worker
  state: row.state === "delayed" && row.run_at <= now ? "waiting" : row.state,
  attempt: row.attempt,
  maxAttempts: row.max_attempts,
  progress: row.progress,
  result: row.result === null ? undefined : (JSON.parse(row.result) as JobPayload),
  error: row.error ?? undefined,
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
})
