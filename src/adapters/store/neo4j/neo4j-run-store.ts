/**
 * RunStore, ApiTokenStore and the record stores on Neo4j, as the graph the seed design note names
 * (see neo4j-connection.ts). JSON payloads are string properties (Neo4j properties cannot be maps);
 * times are epoch milliseconds. Event seq numbers are reserved under the run node's write lock
 * (`SET r.lastSeq = r.lastSeq + n`) in the same transaction that creates the events.
 *
 * Just over 300 lines: the whole RunStore and ApiTokenStore on one driver, mirroring sql-run-store.ts
 * method by method so the two read side by side; the record stores are in neo4j-record-stores.ts.
 */
import type { ManagedTransaction } from "neo4j-driver"
import type { ApiTokenStore } from "#application/ports/api-token-store.js"
import type { Clock } from "#application/ports/clock.js"
import type { NewRun, RunPatch, RunStore } from "#application/ports/run-store.js"
import { ConfigError, ConflictError, NotFoundError } from "#domain/errors.js"
import type { RunEvent } from "#domain/run-event.js"
import { TERMINAL_STATUSES, type WorkflowRun } from "#domain/workflow-run.js"
import { checkLimit, decodeCursor, encodeCursor } from "../list-cursor.js"
import { createSecretCipher } from "../secret-cipher.js"
import { guardStoreMethods } from "../store-errors.js"
import {
  connectNeo4j,
  int,
  isConstraintViolation,
  issueKey,
  type Neo4jConnectionOptions,
  num,
} from "./neo4j-connection.js"
import { createNeo4jRecordStores, type Neo4jRecordStores } from "./neo4j-record-stores.js"

export interface Neo4jRunStoreOptions extends Neo4jConnectionOptions {
  clock?: Clock
  /** key material for stored secrets, asked for on first use */
  secretKey?: () => Promise<string>
}

export type Neo4jRunStore = RunStore & ApiTokenStore & Neo4jRecordStores

const DEFAULT_LIMIT = 50
const MAX_LIMIT = 200

type Props = Record<string, unknown>

const json = (value: unknown) => JSON.stringify(value ?? null)
const parse = <T>(value: unknown): T => JSON.parse(String(value)) as T

const toRun = (p: Props): WorkflowRun => {
  const run: WorkflowRun = {
    id: String(p.id),
    type: p.type as WorkflowRun["type"],
    status: p.status as WorkflowRun["status"],
    repoFullName: String(p.repoFullName),
    issueNumber: num(p.issueNumber),
    priority: p.priority as WorkflowRun["priority"],
    input: parse(p.input),
    trigger: parse(p.trigger),
    attempts: num(p.attempts),
    maxAttempts: num(p.maxAttempts),
    progress: num(p.progress),
    artifacts: parse(p.artifacts) ?? {},
    usage: {
      inputTokens: num(p.inputTokens),
      outputTokens: num(p.outputTokens),
      costUsd: num(p.costUsd),
      ...(typeof p.unpricedModel === "string" ? { unpricedModel: p.unpricedModel } : {}),
    },
    createdAt: new Date(num(p.createdAt)),
    updatedAt: new Date(num(p.updatedAt)),
  }
  if (p.progressMessage != null) run.progressMessage = String(p.progressMessage)
  if (p.summary != null) run.summary = String(p.summary)
  if (p.error != null) run.error = String(p.error)
  if (p.startedAt != null) run.startedAt = new Date(num(p.startedAt))
  if (p.finishedAt != null) run.finishedAt = new Date(num(p.finishedAt))
  return run
}

const toEvent = (p: Props): RunEvent =>
  ({
    ...parse<Props>(p.data),
    type: p.type,
    runId: p.runId,
    seq: num(p.seq),
    at: new Date(num(p.at)),
  }) as RunEvent

/** Properties a patch sets; null removes a property in Neo4j, which is how a field is cleared. */
const patchProps = (patch: RunPatch): Props => {
  const set: Props = {}
  if (patch.status !== undefined) set.status = patch.status
  if (patch.attempts !== undefined) set.attempts = int(patch.attempts)
  if (patch.progress !== undefined) set.progress = patch.progress
  if (patch.progressMessage !== undefined) set.progressMessage = patch.progressMessage
  if (patch.usage !== undefined) {
    set.inputTokens = int(patch.usage.inputTokens)
    set.outputTokens = int(patch.usage.outputTokens)
    set.costUsd = patch.usage.costUsd
    set.unpricedModel = patch.usage.unpricedModel ?? null
  }
  if (patch.summary !== undefined) set.summary = patch.summary
  if (patch.error !== undefined) set.error = patch.error
  if (patch.startedAt !== undefined) set.startedAt = int(patch.startedAt.getTime())
  if (patch.finishedAt !== undefined)
    set.finishedAt = patch.finishedAt ? int(patch.finishedAt.getTime()) : null
  return set
}

const runNotFound = (id: string) =>
  new NotFoundError(`run ${id} does not exist: check the job id (list runs with GET /api/jobs)`)

const single = async (tx: ManagedTransaction, query: string, params: Props): Promise<Props | undefined> => {
  const result = await tx.run(query, params)
  return result.records[0]?.get(0) as Props | undefined
}

export const createNeo4jRunStore = async (options: Neo4jRunStoreOptions): Promise<Neo4jRunStore> => {
  const clock = options.clock ?? { now: () => new Date() }
  const connection = await connectNeo4j(options)
  const { read, write } = connection
  const now = () => int(clock.now().getTime())
  const cipher = createSecretCipher(
    options.secretKey ??
      (async () => {
        throw new ConfigError("no key for stored secrets: set PRWRIGHT_SECRET_KEY (any long random value)")
      }),
  )

  const getRun = async (id: string) => {
    const props = await read((tx) => single(tx, "MATCH (r:Run {id: $id}) RETURN r {.*}", { id }))
    return props ? toRun(props) : undefined
  }

  /** the one write; `activeOnly` matches only a run that has not ended (undefined when it had) */
  const update = async (id: string, patch: RunPatch, activeOnly: boolean) => {
    const set = { ...patchProps(patch), updatedAt: now() }
    // Neo4j reads before it locks: take the run's write lock first (Neo4j's documented lost-update
    // pattern), then check its status, so two racing endings cannot both match
    const guard = activeOnly ? " SET r._lock = true REMOVE r._lock WITH r WHERE NOT r.status IN $ended" : ""
    const updated = await write(async (tx) => {
      // The first SET takes the run's write lock, so concurrent artifact merges cannot lose each other;
      // the status check is in the same statement, so two endings cannot both match.
      const current = await single(tx, `MATCH (r:Run {id: $id})${guard} SET r += $set RETURN r {.*}`, {
        id,
        set,
        ended: [...TERMINAL_STATUSES],
      })
      if (!current || patch.artifacts === undefined) return current
      const merged = { ...parse<Props>(current.artifacts), ...patch.artifacts }
      return single(tx, "MATCH (r:Run {id: $id}) SET r.artifacts = $artifacts RETURN r {.*}", {
        id,
        artifacts: json(merged),
      })
    })
    if (!updated) {
      if (activeOnly) return undefined
      throw runNotFound(id)
    }
    return toRun(updated)
  }

  const store: Neo4jRunStore = {
    ...createNeo4jRecordStores({ connection, clock, cipher }),
    getRun,

    async createRun(run: NewRun) {
      const at = now()
      const props: Props = {
        id: run.id,
        type: run.type,
        status: "pending",
        repoFullName: run.repoFullName,
        issueNumber: int(run.issueNumber),
        priority: run.priority,
        input: json(run.input),
        trigger: json(run.trigger),
        attempts: int(0),
        maxAttempts: int(run.maxAttempts),
        progress: 0,
        artifacts: json({}),
        inputTokens: int(0),
        outputTokens: int(0),
        costUsd: 0,
        createdAt: at,
        updatedAt: at,
        lastSeq: int(0),
      }
      try {
        const created = await write((tx) =>
          single(
            tx,
            `MERGE (repo:Repository {fullName: $repo})
             MERGE (issue:Issue {key: $issueKey})
               ON CREATE SET issue.repoFullName = $repo, issue.number = $issueNumber
             MERGE (issue)-[:IN_REPO]->(repo)
             CREATE (r:Run)
             SET r = $props
             CREATE (r)-[:FOR_ISSUE]->(issue)
             FOREACH (login IN CASE WHEN $actor IS NULL THEN [] ELSE [$actor] END |
               MERGE (u:User {login: login})
               MERGE (r)-[:TRIGGERED_BY {source: $source}]->(u))
             RETURN r {.*}`,
            {
              repo: run.repoFullName,
              issueKey: issueKey(run.repoFullName, run.issueNumber),
              issueNumber: int(run.issueNumber),
              props,
              actor: run.trigger.actor ?? null,
              source: run.trigger.source,
            },
          ),
        )
        return toRun(created as Props)
      } catch (error) {
        if (!isConstraintViolation(error)) throw error
        throw new ConflictError(
          `a run with id ${run.id} already exists: use another jobId, or fetch the existing run with GET /api/jobs/${run.id}`,
        )
      }
    },

    updateRun: (id, patch) => update(id, patch, false) as Promise<WorkflowRun>,

    async updateActiveRun(id, patch) {
      const updated = await update(id, patch, true)
      if (updated === undefined && !(await getRun(id))) throw runNotFound(id)
      return updated
    },

    async listRuns(filter) {
      const limit = checkLimit(filter.limit, "limit", MAX_LIMIT) ?? DEFAULT_LIMIT
      const where: string[] = []
      const params: Props = { limit: int(limit + 1) }
      if (filter.status !== undefined) {
        where.push("r.status = $status")
        params.status = filter.status
      }
      if (filter.statuses !== undefined) {
        where.push("r.status IN $statuses")
        params.statuses = [...filter.statuses]
      }
      if (filter.repoFullName !== undefined) {
        where.push("r.repoFullName = $repo")
        params.repo = filter.repoFullName
      }
      if (filter.type !== undefined) {
        where.push("r.type = $type")
        params.type = filter.type
      }
      if (filter.issueNumber !== undefined) {
        where.push("r.issueNumber = $issueNumber")
        params.issueNumber = int(filter.issueNumber)
      }
      if (filter.cursor !== undefined) {
        const after = decodeCursor(filter.cursor)
        where.push("(r.createdAt < $afterAt OR (r.createdAt = $afterAt AND r.id < $afterId))")
        params.afterAt = int(after.createdAt)
        params.afterId = after.id
      }
      const records = await read(async (tx) =>
        (
          await tx.run(
            `MATCH (r:Run) ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
             RETURN r {.*} ORDER BY r.createdAt DESC, r.id DESC LIMIT $limit`,
            params,
          )
        ).records.map((record) => record.get(0) as Props),
      )
      const runs = records.slice(0, limit).map(toRun)
      const last = runs.at(-1)
      return records.length > limit && last ? { runs, nextCursor: encodeCursor(last) } : { runs }
    },

    async spentCost({ subject, monthStart, dayStart }) {
      // one aggregate over the month's runs (a range of prwright_run_created), matched like the SQL store
      const match =
        "repoFullName" in subject
          ? "r.repoFullName = $subject"
          : "toLower(split(r.repoFullName, '/')[0]) = toLower($subject)"
      const totals = await read((tx) =>
        single(
          tx,
          `MATCH (r:Run) WHERE r.createdAt >= $month AND ${match}
           RETURN {month: sum(r.costUsd), day: sum(CASE WHEN r.createdAt >= $day THEN r.costUsd ELSE 0.0 END)}`,
          {
            subject: "repoFullName" in subject ? subject.repoFullName : subject.owner,
            month: int(monthStart.getTime()),
            day: int(dayStart.getTime()),
          },
        ),
      )
      return { dayUsd: num(totals?.day ?? 0), monthUsd: num(totals?.month ?? 0) }
    },

    async appendEvents(runId, events) {
      if (events.length === 0) {
        if (!(await getRun(runId))) throw runNotFound(runId)
        return []
      }
      const payload = events.map(({ type, ...rest }) => ({ type, data: json(rest) }))
      const stored = await write(async (tx) => {
        const result = await tx.run(
          `MATCH (r:Run {id: $runId})
           SET r.lastSeq = r.lastSeq + size($events)
           WITH r, r.lastSeq - size($events) AS base
           UNWIND range(0, size($events) - 1) AS i
           CREATE (r)-[:HAS_EVENT]->(e:Event {runId: r.id, seq: base + i + 1, type: $events[i].type,
                                              data: $events[i].data, at: $at})
           RETURN e {.*} ORDER BY e.seq`,
          { runId, events: payload, at: now() },
        )
        return result.records.map((record) => toEvent(record.get(0) as Props))
      })
      if (stored.length === 0) throw runNotFound(runId)
      return stored
    },

    async listEvents(runId, listOptions = {}) {
      const limit = checkLimit(listOptions.limit, "limit", Number.MAX_SAFE_INTEGER)
      return read(async (tx) =>
        (
          await tx.run(
            `MATCH (e:Event {runId: $runId}) WHERE e.seq > $after
             RETURN e {.*} ORDER BY e.seq ${limit === undefined ? "" : "LIMIT $limit"}`,
            {
              runId,
              after: int(listOptions.afterSeq ?? 0),
              ...(limit === undefined ? {} : { limit: int(limit) }),
            },
          )
        ).records.map((record) => toEvent(record.get(0) as Props)),
      )
    },

    async countApiTokens() {
      const count = await read((tx) => single(tx, "MATCH (t:ApiToken) RETURN count(t)", {}))
      return num(count)
    },

    async addApiToken(token) {
      try {
        await write((tx) =>
          tx.run("CREATE (t:ApiToken {id: $id, label: $label, hash: $hash, createdAt: $at})", {
            ...token,
            at: now(),
          }),
        )
      } catch (error) {
        if (!isConstraintViolation(error)) throw error
        throw new ConflictError(
          `an API token with id ${token.id} or the same secret already exists: generate a new token`,
        )
      }
    },

    async replaceApiTokens(token) {
      await write(async (tx) => {
        await tx.run("MATCH (t:ApiToken) DELETE t", {})
        await tx.run("CREATE (t:ApiToken {id: $id, label: $label, hash: $hash, createdAt: $at})", {
          ...token,
          at: now(),
        })
      })
    },

    async findApiTokenByHash(hash) {
      const found = await read((tx) =>
        single(tx, "MATCH (t:ApiToken {hash: $hash}) RETURN t {.id, .label}", { hash }),
      )
      return found ? { id: String(found.id), label: String(found.label) } : undefined
    },

    close: () => connection.close(),
  }

  return guardStoreMethods(store, {
    except: ["close"],
    fix: "check that Neo4j at NEO4J_URI is up and reachable",
  })
}
