/**
 * Schema migrations, in code: the provider returns an in-memory map, so migrations work from dist/
 * without globbing files. Append new migrations with a name that sorts after the last one; never edit
 * one that has shipped.
 *
 * Timestamps are epoch milliseconds (INTEGER / BIGINT) in both dialects, so ordering and cursors are
 * exact and identical everywhere. JSON is TEXT in SQLite and JSONB in Postgres.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from "kysely"
import type { SqlDialectName } from "./database.js"

/** Not Kysely's default name: the embedded job queue may keep its own migrations in the same SQLite file. */
export const MIGRATION_TABLE = "store_migration"
export const MIGRATION_LOCK_TABLE = "store_migration_lock"

/**
 * A run's owner (the repository's account, the part of repo_full_name before the first "/", the whole
 * name when there is none), lower-cased: the spending guard's installation scope. Migration 0005 builds
 * an index on exactly this expression and the run store's query must repeat it for the planner to use
 * that index, so it is never changed (a new expression is a new index in a new migration).
 */
export const RUN_OWNER_SQL: Record<SqlDialectName, string> = {
  sqlite: "lower(substr(repo_full_name, 1, instr(repo_full_name || '/', '/') - 1))",
  postgres: "lower(split_part(repo_full_name, '/', 1))",
}

const buildMigrations = (dialect: SqlDialectName): Record<string, Migration> => {
  const json = dialect === "postgres" ? "jsonb" : "text"
  const millis = dialect === "postgres" ? "bigint" : "integer"
  const real = dialect === "postgres" ? "double precision" : "real"

  return {
    "0001_runs_events_tokens": {
      // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current Database type
      async up(db: Kysely<any>) {
        await db.schema
          .createTable("runs")
          .ifNotExists()
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("type", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("repo_full_name", "text", (c) => c.notNull())
          .addColumn("issue_number", "integer", (c) => c.notNull())
          .addColumn("priority", "text", (c) => c.notNull())
          .addColumn("input", sql.raw(json), (c) => c.notNull())
          .addColumn("trigger", sql.raw(json), (c) => c.notNull())
          .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("max_attempts", "integer", (c) => c.notNull())
          .addColumn("progress", sql.raw(real), (c) => c.notNull().defaultTo(0))
          .addColumn("progress_message", "text")
          .addColumn("artifacts", sql.raw(json), (c) => c.notNull())
          .addColumn("input_tokens", sql.raw(millis), (c) => c.notNull().defaultTo(0))
          .addColumn("output_tokens", sql.raw(millis), (c) => c.notNull().defaultTo(0))
          .addColumn("cost_usd", sql.raw(real), (c) => c.notNull().defaultTo(0))
          .addColumn("summary", "text")
          .addColumn("error", "text")
          .addColumn("created_at", sql.raw(millis), (c) => c.notNull())
          .addColumn("updated_at", sql.raw(millis), (c) => c.notNull())
          .addColumn("started_at", sql.raw(millis))
          .addColumn("finished_at", sql.raw(millis))
          .addColumn("last_event_seq", "integer", (c) => c.notNull().defaultTo(0))
          .execute()

        // Every listing is "newest first" (created_at desc, id desc), optionally filtered; a b-tree
        // scanned backwards serves the descending order, and the trailing id makes cursors exact.
        const indexes: Array<[string, string[]]> = [
          ["runs_created_idx", ["created_at", "id"]],
          ["runs_status_created_idx", ["status", "created_at", "id"]],
          ["runs_repo_issue_created_idx", ["repo_full_name", "issue_number", "created_at", "id"]],
          ["runs_type_created_idx", ["type", "created_at", "id"]],
        ]
        for (const [name, columns] of indexes) {
          await db.schema.createIndex(name).ifNotExists().on("runs").columns(columns).execute()
        }

        await db.schema
          .createTable("run_events")
          .ifNotExists()
          .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
          .addColumn("seq", "integer", (c) => c.notNull())
          .addColumn("type", "text", (c) => c.notNull())
          .addColumn("data", sql.raw(json), (c) => c.notNull())
          .addColumn("at", sql.raw(millis), (c) => c.notNull())
          .addPrimaryKeyConstraint("run_events_pk", ["run_id", "seq"])
          .execute()

        await db.schema
          .createTable("api_tokens")
          .ifNotExists()
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("label", "text", (c) => c.notNull())
          .addColumn("hash", "text", (c) => c.notNull().unique())
          .addColumn("created_at", sql.raw(millis), (c) => c.notNull())
          .execute()
      },
      // biome-ignore lint/suspicious/noExplicitAny: see up()
      async down(db: Kysely<any>) {
        await db.schema.dropTable("api_tokens").ifExists().execute()
        await db.schema.dropTable("run_events").ifExists().execute()
        await db.schema.dropTable("runs").ifExists().execute()
      },
    },

    "0002_plans_deliveries_secrets_settings": {
      // biome-ignore lint/suspicious/noExplicitAny: see 0001
      async up(db: Kysely<any>) {
        await db.schema
          .createTable("plans")
          .ifNotExists()
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("repo_full_name", "text", (c) => c.notNull())
          .addColumn("issue_number", "integer", (c) => c.notNull())
          .addColumn("version", "integer", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("body", "text", (c) => c.notNull())
          .addColumn("run_id", "text")
          .addColumn("comment_id", sql.raw(millis))
          .addColumn("comment_url", "text")
          .addColumn("created_at", sql.raw(millis), (c) => c.notNull())
          .addColumn("updated_at", sql.raw(millis), (c) => c.notNull())
          // Also the index behind "latest plan of an issue" (scanned backwards by version).
          .addUniqueConstraint("plans_issue_version_unique", ["repo_full_name", "issue_number", "version"])
          .execute()

        await db.schema
          .createTable("webhook_deliveries")
          .ifNotExists()
          .addColumn("delivery_id", "text", (c) => c.primaryKey())
          .addColumn("event", "text", (c) => c.notNull())
          .addColumn("received_at", sql.raw(millis), (c) => c.notNull())
          .addColumn("run_id", "text")
          .execute()

        await db.schema
          .createTable("secrets")
          .ifNotExists()
          .addColumn("name", "text", (c) => c.primaryKey())
          .addColumn("value", "text", (c) => c.notNull())
          .addColumn("created_at", sql.raw(millis), (c) => c.notNull())
          .addColumn("updated_at", sql.raw(millis), (c) => c.notNull())
          .execute()

        await db.schema
          .createTable("repo_settings")
          .ifNotExists()
          .addColumn("repo_full_name", "text", (c) => c.primaryKey())
          .addColumn("settings", sql.raw(json), (c) => c.notNull())
          .addColumn("updated_at", sql.raw(millis), (c) => c.notNull())
          .execute()
      },
      // biome-ignore lint/suspicious/noExplicitAny: see 0001
      async down(db: Kysely<any>) {
        for (const table of ["repo_settings", "secrets", "webhook_deliveries", "plans"]) {
          await db.schema.dropTable(table).ifExists().execute()
        }
      },
    },

    "0004_runs_unpriced_model": {
      // a run whose cost is unknown (a model without a price took part) says so instead of $0
      // biome-ignore lint/suspicious/noExplicitAny: see 0001
      async up(db: Kysely<any>) {
        await db.schema.alterTable("runs").addColumn("unpriced_model", "text").execute()
      },
      // biome-ignore lint/suspicious/noExplicitAny: see 0001
      async down(db: Kysely<any>) {
        await db.schema.alterTable("runs").dropColumn("unpriced_model").execute()
      },
    },

    "0003_runs_repo_created_index": {
      // runs_repo_issue_created_idx has issue_number second, so "runs of a repo" (no issue) could not
      // read it in created_at order and sorted the whole repo instead. The old index stays: it serves
      // repo + issue. A plain (locking) CREATE INDEX: it builds in about a second per 100k runs, and
      // CONCURRENTLY cannot run inside the migration's transaction.
      // biome-ignore lint/suspicious/noExplicitAny: see 0001
      async up(db: Kysely<any>) {
        await db.schema
          .createIndex("runs_repo_created_idx")
          .ifNotExists()
          .on("runs")
          .columns(["repo_full_name", "created_at", "id"])
          .execute()
      },
      // biome-ignore lint/suspicious/noExplicitAny: see 0001
      async down(db: Kysely<any>) {
        await db.schema.dropIndex("runs_repo_created_idx").ifExists().execute()
      },
    },

    "0005_runs_owner_created_index": {
      // The spending guard sums an installation's runs of this month before every run request; its
      // repositories are matched by owner in any case, which no repo_full_name index can seek. This one
      // makes that sum a seek on (owner, created_at ≥ month start) whatever the history. Plain CREATE
      // INDEX, as in 0003.
      // biome-ignore lint/suspicious/noExplicitAny: see 0001
      async up(db: Kysely<any>) {
        await db.schema
          .createIndex("runs_owner_created_idx")
          .ifNotExists()
          .on("runs")
          .expression(sql.raw(`${RUN_OWNER_SQL[dialect]}, created_at`))
          .execute()
      },
      // biome-ignore lint/suspicious/noExplicitAny: see 0001
      async down(db: Kysely<any>) {
        await db.schema.dropIndex("runs_owner_created_idx").ifExists().execute()
      },
    },
  }
}

export const createMigrationProvider = (dialect: SqlDialectName): MigrationProvider => ({
  getMigrations: async () => buildMigrations(dialect),
})

export const createStoreMigrator = (
  // biome-ignore lint/suspicious/noExplicitAny: the migrator works on any schema
  db: Kysely<any>,
  options: { dialect: SqlDialectName; migrationTableSchema?: string | undefined },
): Migrator =>
  new Migrator({
    db,
    provider: createMigrationProvider(options.dialect),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    // Without an explicit schema, Kysely's "does the table exist" check matches a migration table in
    // ANY Postgres schema, which breaks as soon as two schemas (tests, tenants) share a database.
    ...(options.migrationTableSchema ? { migrationTableSchema: options.migrationTableSchema } : {}),
  })
