/**
 * The records kept beside runs, on the same SQL database: plan versions, webhook deliveries (dedupe),
 * encrypted secrets and per-repository settings. Part of the SQL store (see sql-run-store.ts).
 */
import type { Kysely, Selectable } from "kysely"
import type { Clock } from "#application/ports/clock.js"
import type { DeliveryStore } from "#application/ports/delivery-store.js"
import type { PlanStore, StoredPlan } from "#application/ports/plan-store.js"
import type { RepoSettingsStore } from "#application/ports/repo-settings-store.js"
import type { SecretStore } from "#application/ports/secret-store.js"
import { ConflictError, NotFoundError } from "#domain/errors.js"
import type { SecretCipher } from "../secret-cipher.js"
import type { Database, PlansTable } from "./database.js"
import { parseJson, toJson, toMillis, toNumber } from "./row-mapping.js"
import type { SqliteSync } from "./sqlite-sync.js"

export type RecordStores = PlanStore & DeliveryStore & SecretStore & RepoSettingsStore

/** concurrent savePlan calls for one issue race for the next version; the loser takes the one after */
const VERSION_RETRIES = 10

export const planNotFound = (id: string) =>
  new NotFoundError(
    `plan ${id} does not exist: use the id of a stored plan (see the latest plan of the issue)`,
  )

export const planSuperseded = (plan: StoredPlan) =>
  new ConflictError(
    `plan ${plan.id} (version ${plan.version} for ${plan.repoFullName}#${plan.issueNumber}) was superseded by a newer plan: approve the latest plan instead`,
  )

const rowToPlan = (row: Selectable<PlansTable>): StoredPlan => {
  const plan: StoredPlan = {
    id: row.id,
    repoFullName: row.repo_full_name,
    issueNumber: toNumber(row.issue_number),
    version: toNumber(row.version),
    status: row.status as StoredPlan["status"],
    body: row.body,
    createdAt: new Date(toNumber(row.created_at)),
    updatedAt: new Date(toNumber(row.updated_at)),
  }
  if (row.run_id !== null) plan.runId = row.run_id
  if (row.comment_id !== null) plan.commentId = toNumber(row.comment_id)
  if (row.comment_url !== null) plan.commentUrl = row.comment_url
  return plan
}

export const createSqlRecordStores = (deps: {
  db: Kysely<Database>
  clock: Clock
  cipher: SecretCipher
  /** SQLite: write transactions run synchronously (sqlite-sync.ts) */
  sqlite?: SqliteSync
}): RecordStores => {
  const { db, clock, cipher, sqlite } = deps

  const getPlan = async (id: string) => {
    const row = await db.selectFrom("plans").selectAll().where("id", "=", id).executeTakeFirst()
    return row ? rowToPlan(row) : undefined
  }

  return {
    getPlan,

    async savePlan(plan) {
      for (let attempt = 0; attempt < VERSION_RETRIES; attempt++) {
        const now = toMillis(clock.now())
        const topVersion = (q: Pick<Kysely<Database>, "selectFrom">) =>
          q
            .selectFrom("plans")
            .select((eb) => eb.fn.max("version").as("version"))
            .where("repo_full_name", "=", plan.repoFullName)
            .where("issue_number", "=", plan.issueNumber)
        const insert = (q: Pick<Kysely<Database>, "insertInto">, version: number) =>
          q
            .insertInto("plans")
            .values({
              id: plan.id,
              repo_full_name: plan.repoFullName,
              issue_number: plan.issueNumber,
              version,
              status: plan.status ?? "draft",
              body: plan.body,
              run_id: plan.runId ?? null,
              comment_id: plan.commentId ?? null,
              comment_url: plan.commentUrl ?? null,
              created_at: now,
              updated_at: now,
            })
            .onConflict((oc) => oc.doNothing())
            .returningAll()
        const supersede = (q: Pick<Kysely<Database>, "updateTable">, version: number) =>
          q
            .updateTable("plans")
            .set({ status: "superseded", updated_at: now })
            .where("repo_full_name", "=", plan.repoFullName)
            .where("issue_number", "=", plan.issueNumber)
            .where("version", "<", version)
            .where("status", "!=", "superseded")
        const nextVersion = (top: { version: unknown } | undefined) =>
          toNumber((top?.version as number | string | null) ?? 0) + 1
        // SQLite: one synchronous transaction, the write lock never held across an await (sqlite-sync.ts)
        const saved = sqlite
          ? sqlite.transaction(() => {
              const version = nextVersion(sqlite.first(topVersion(db)))
              const row = sqlite.first(insert(db, version))
              if (!row) return undefined
              sqlite.run(supersede(db, version))
              return rowToPlan(row)
            })
          : await db.transaction().execute(async (trx) => {
              const version = nextVersion(await topVersion(trx).executeTakeFirst())
              const row = await insert(trx, version).executeTakeFirst()
              if (!row) return undefined
              await supersede(trx, version).execute()
              return rowToPlan(row)
            })
        if (saved) return saved
        if (await getPlan(plan.id)) {
          throw new ConflictError(
            `a plan with id ${plan.id} already exists: save the new version under a new id`,
          )
        }
      }
      throw new ConflictError(
        `could not store a new plan version for ${plan.repoFullName}#${plan.issueNumber}: too many plans were saved at once; try again`,
      )
    },

    async approvePlan(id) {
      const row = await db
        .updateTable("plans")
        .set({ status: "approved", updated_at: toMillis(clock.now()) })
        .where("id", "=", id)
        .where("status", "!=", "superseded")
        .returningAll()
        .executeTakeFirst()
      if (row) return rowToPlan(row)
      const existing = await getPlan(id)
      if (!existing) throw planNotFound(id)
      throw planSuperseded(existing)
    },

    async updatePlan(id, patch) {
      const row = await db
        .updateTable("plans")
        .set({
          updated_at: toMillis(clock.now()),
          // a patch: only the keys present are written
          ...(patch.body === undefined ? {} : { body: patch.body }),
          ...(patch.commentId === undefined ? {} : { comment_id: patch.commentId }),
          ...(patch.commentUrl === undefined ? {} : { comment_url: patch.commentUrl }),
        })
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirst()
      if (!row) throw planNotFound(id)
      return rowToPlan(row)
    },

    async latestPlan(repoFullName, issueNumber, options = {}) {
      let query = db
        .selectFrom("plans")
        .selectAll()
        .where("repo_full_name", "=", repoFullName)
        .where("issue_number", "=", issueNumber)
      if (options.status !== undefined) query = query.where("status", "=", options.status)
      const row = await query.orderBy("version", "desc").limit(1).executeTakeFirst()
      return row ? rowToPlan(row) : undefined
    },

    async recordDelivery(delivery) {
      const row = await db
        .insertInto("webhook_deliveries")
        .values({
          delivery_id: delivery.id,
          event: delivery.event,
          received_at: toMillis(clock.now()),
          run_id: delivery.runId ?? null,
        })
        .onConflict((oc) => oc.column("delivery_id").doNothing())
        .returning("delivery_id")
        .executeTakeFirst()
      return row !== undefined
    },

    async forgetDelivery(deliveryId) {
      await db.deleteFrom("webhook_deliveries").where("delivery_id", "=", deliveryId).execute()
    },

    async putSecret(name, value) {
      const sealed = await cipher.encrypt(name, value)
      const now = toMillis(clock.now())
      await db
        .insertInto("secrets")
        .values({ name, value: sealed, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column("name").doUpdateSet({ value: sealed, updated_at: now }))
        .execute()
    },

    async getSecret(name) {
      const row = await db.selectFrom("secrets").select("value").where("name", "=", name).executeTakeFirst()
      return row ? cipher.decrypt(name, row.value) : undefined
    },

    async deleteSecret(name) {
      const result = await db.deleteFrom("secrets").where("name", "=", name).executeTakeFirst()
      return Number(result.numDeletedRows) > 0
    },

    async getRepoSettings(repoFullName) {
      const row = await db
        .selectFrom("repo_settings")
        .selectAll()
        .where("repo_full_name", "=", repoFullName)
        .executeTakeFirst()
      if (!row) return undefined
      return {
        repoFullName: row.repo_full_name,
        settings: parseJson<Record<string, unknown>>(row.settings),
        updatedAt: new Date(toNumber(row.updated_at)),
      }
    },

    async putRepoSettings(repoFullName, settings) {
      const now = toMillis(clock.now())
      const json = toJson(settings)
      await db
        .insertInto("repo_settings")
        .values({ repo_full_name: repoFullName, settings: json, updated_at: now })
        .onConflict((oc) => oc.column("repo_full_name").doUpdateSet({ settings: json, updated_at: now }))
        .execute()
      return { repoFullName, settings: parseJson<Record<string, unknown>>(json), updatedAt: new Date(now) }
    },
  }
}
