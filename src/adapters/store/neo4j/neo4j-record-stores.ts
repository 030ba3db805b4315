/**
 * Plans, webhook deliveries, secrets and repository settings on Neo4j (part of neo4j-run-store.ts).
 * Plans hang off their issue, (:Plan)-[:PLANS]->(:Issue); repository settings live on the
 * :Repository node; a delivery that started a run points at it.
 */
import type { Clock } from "#application/ports/clock.js"
import type { DeliveryStore } from "#application/ports/delivery-store.js"
import type { PlanStore, StoredPlan } from "#application/ports/plan-store.js"
import type { RepoSettingsStore } from "#application/ports/repo-settings-store.js"
import type { SecretStore } from "#application/ports/secret-store.js"
import { ConflictError, NotFoundError } from "#domain/errors.js"
import type { SecretCipher } from "../secret-cipher.js"
import { int, isConstraintViolation, issueKey, type Neo4jConnection, num } from "./neo4j-connection.js"

export type Neo4jRecordStores = PlanStore & DeliveryStore & SecretStore & RepoSettingsStore

type Props = Record<string, unknown>

const toPlan = (p: Props): StoredPlan => {
  const plan: StoredPlan = {
    id: String(p.id),
    repoFullName: String(p.repoFullName),
    issueNumber: num(p.issueNumber),
    version: num(p.version),
    status: p.status as StoredPlan["status"],
    body: String(p.body),
    createdAt: new Date(num(p.createdAt)),
    updatedAt: new Date(num(p.updatedAt)),
  }
  if (p.runId != null) plan.runId = String(p.runId)
  if (p.commentId != null) plan.commentId = num(p.commentId)
  if (p.commentUrl != null) plan.commentUrl = String(p.commentUrl)
  return plan
}

const planNotFound = (id: string) =>
  new NotFoundError(
    `plan ${id} does not exist: use the id of a stored plan (see the latest plan of the issue)`,
  )

export const createNeo4jRecordStores = (deps: {
  connection: Neo4jConnection
  clock: Clock
  cipher: SecretCipher
}): Neo4jRecordStores => {
  const { connection, clock, cipher } = deps
  const { read, write } = connection
  const now = () => int(clock.now().getTime())
  const one = async (work: "read" | "write", query: string, params: Props) => {
    const run = work === "read" ? read : write
    return run(async (tx) => (await tx.run(query, params)).records[0]?.get(0) as Props | undefined)
  }

  const getPlan = async (id: string) => {
    const props = await one("read", "MATCH (p:Plan {id: $id}) RETURN p {.*}", { id })
    return props ? toPlan(props) : undefined
  }

  return {
    getPlan,

    async savePlan(plan) {
      // The version counter lives on the issue node: incrementing it takes that node's write lock,
      // which serialises concurrent saves for the issue until commit.
      try {
        const saved = await one(
          "write",
          `MERGE (repo:Repository {fullName: $repo})
           MERGE (i:Issue {key: $issueKey})
             ON CREATE SET i.repoFullName = $repo, i.number = $issueNumber
           MERGE (i)-[:IN_REPO]->(repo)
           SET i.planVersion = coalesce(i.planVersion, 0) + 1
           CREATE (p:Plan)
           SET p = $props, p.version = i.planVersion
           CREATE (p)-[:PLANS]->(i)
           WITH i, p
           OPTIONAL MATCH (earlier:Plan)-[:PLANS]->(i)
             WHERE earlier.version < p.version AND earlier.status <> 'superseded'
           WITH p, collect(earlier) AS earlier
           FOREACH (old IN earlier | SET old.status = 'superseded', old.updatedAt = $now)
           RETURN p {.*}`,
          {
            repo: plan.repoFullName,
            issueKey: issueKey(plan.repoFullName, plan.issueNumber),
            issueNumber: int(plan.issueNumber),
            now: now(),
            props: {
              id: plan.id,
              repoFullName: plan.repoFullName,
              issueNumber: int(plan.issueNumber),
              status: plan.status ?? "draft",
              body: plan.body,
              runId: plan.runId ?? null,
              commentId: plan.commentId === undefined ? null : int(plan.commentId),
              commentUrl: plan.commentUrl ?? null,
              createdAt: now(),
              updatedAt: now(),
            },
          },
        )
        return toPlan(saved as Props)
      } catch (error) {
        if (!isConstraintViolation(error)) throw error
        throw new ConflictError(
          `a plan with id ${plan.id} already exists: save the new version under a new id`,
        )
      }
    },

    async approvePlan(id) {
      const approved = await one(
        "write",
        `MATCH (p:Plan {id: $id}) WHERE p.status <> 'superseded'
         SET p.status = 'approved', p.updatedAt = $now RETURN p {.*}`,
        { id, now: now() },
      )
      if (approved) return toPlan(approved)
      const existing = await getPlan(id)
      if (!existing) throw planNotFound(id)
      throw new ConflictError(
        `plan ${id} (version ${existing.version} for ${existing.repoFullName}#${existing.issueNumber}) was superseded by a newer plan: approve the latest plan instead`,
      )
    },

    async updatePlan(id, patch) {
      const set: Props = { updatedAt: now() }
      if (patch.body !== undefined) set.body = patch.body
      if (patch.commentId !== undefined) set.commentId = int(patch.commentId)
      if (patch.commentUrl !== undefined) set.commentUrl = patch.commentUrl
      const updated = await one("write", "MATCH (p:Plan {id: $id}) SET p += $set RETURN p {.*}", { id, set })
      if (!updated) throw planNotFound(id)
      return toPlan(updated)
    },

    async latestPlan(repoFullName, issueNumber, options = {}) {
      const latest = await one(
        "read",
        `MATCH (p:Plan)-[:PLANS]->(:Issue {key: $issueKey})
         WHERE $status IS NULL OR p.status = $status
         RETURN p {.*} ORDER BY p.version DESC LIMIT 1`,
        { issueKey: issueKey(repoFullName, issueNumber), status: options.status ?? null },
      )
      return latest ? toPlan(latest) : undefined
    },

    async recordDelivery(delivery) {
      // A unique constraint makes MERGE wait for a concurrent creator, which then counts as "seen".
      const created = await one(
        "write",
        `MERGE (d:WebhookDelivery {id: $id})
           ON CREATE SET d.event = $event, d.receivedAt = $now, d.runId = $runId, d.fresh = true
           ON MATCH SET d.fresh = false
         RETURN d.fresh`,
        { id: delivery.id, event: delivery.event, runId: delivery.runId ?? null, now: now() },
      )
      return (created as unknown) === true
    },

    async forgetDelivery(deliveryId) {
      await one("write", "MATCH (d:WebhookDelivery {id: $deliveryId}) DETACH DELETE d RETURN count(*)", {
        deliveryId,
      })
    },

    async putSecret(name, value) {
      const sealed = await cipher.encrypt(name, value)
      await write((tx) =>
        tx.run(
          `MERGE (s:Secret {name: $name})
             ON CREATE SET s.createdAt = $now
           SET s.value = $sealed, s.updatedAt = $now`,
          { name, sealed, now: now() },
        ),
      )
    },

    async getSecret(name) {
      const sealed = await one("read", "MATCH (s:Secret {name: $name}) RETURN s.value", { name })
      return sealed === undefined ? undefined : cipher.decrypt(name, String(sealed))
    },

    async deleteSecret(name) {
      const deleted = await one("write", "MATCH (s:Secret {name: $name}) DELETE s RETURN count(*)", { name })
      return deleted !== undefined && num(deleted) > 0
    },

    async getRepoSettings(repoFullName) {
      const found = await one(
        "read",
        `MATCH (r:Repository {fullName: $repo}) WHERE r.settings IS NOT NULL
         RETURN r {.settings, .settingsUpdatedAt}`,
        { repo: repoFullName },
      )
      if (!found) return undefined
      return {
        repoFullName,
        settings: JSON.parse(String(found.settings)) as Record<string, unknown>,
        updatedAt: new Date(num(found.settingsUpdatedAt)),
      }
    },

    async putRepoSettings(repoFullName, settings) {
      const at = clock.now()
      const text = JSON.stringify(settings)
      await write((tx) =>
        tx.run("MERGE (r:Repository {fullName: $repo}) SET r.settings = $text, r.settingsUpdatedAt = $at", {
          repo: repoFullName,
          text,
          at: int(at.getTime()),
        }),
      )
      return { repoFullName, settings: JSON.parse(text) as Record<string, unknown>, updatedAt: at }
    },
  }
}
