/**
 * The composition for the CLI's one-off commands, `prwright doctor`, `migrate` and `token rotate`, so that
 * those entrypoints import no adapter (the layer rule, scripts/check-layers.js).
 *
 * Doctor is a diagnostic: it builds a throwaway instance of each dependency and probes it on its own
 * (one failing must not hide the others, and it must work where the full container would not start),
 * so it gets the adapter factories (re-exported here) rather than the container's adapters.
 */
import { randomUUID } from "node:crypto"
import { createNeo4jRunStore } from "#adapters/store/neo4j/neo4j-run-store.js"
import { createSqlRunStore } from "#adapters/store/sql/sql-run-store.js"
import { rotateApiToken } from "#application/api-auth.js"
import type { Config } from "./config.js"

/** The adapter factories `prwright doctor` probes with. */
export { appJwt, createInstallationTokens, parseAppPrivateKey } from "#adapters/github/app-tokens.js"
export { createOctokitGitHub } from "#adapters/github/octokit-github.js"
export { createModelHandle } from "#adapters/model/ai-sdk-model.js"
export { probeModel } from "#adapters/model/probe-model.js"
export { redisWorkersKey, WORKER_LIVE_WINDOW_MS } from "#adapters/queue/worker-heartbeats.js"
export { type DetectedSandbox, detectSandbox } from "#adapters/sandbox/detect-sandbox.js"
export { connectDatabase, parseDatabaseUrl } from "#adapters/store/sql/connect-database.js"
export { createStoreMigrator } from "#adapters/store/sql/migrations.js"
export { createSqlRunStore }

/** `prwright migrate`: creates or upgrades the SQL schema; returns the engine's name (sqlite, postgres). */
export const migrateDatabase = async (config: Pick<Config, "databaseUrl">): Promise<string> => {
  const store = await createSqlRunStore({ url: config.databaseUrl })
  try {
    await store.migrate()
  } finally {
    await store.close()
  }
  return config.databaseUrl.split(":")[0] ?? "database"
}

/**
 * `prwright token rotate`: writes the store the server reads (Neo4j when NEO4J_URI is set, else
 * DATABASE_URL, migrated first like every start), so it works with the server stopped or running.
 * Returns the new token; only its hash is stored.
 */
export const rotateStoredApiToken = async (
  config: Pick<Config, "databaseUrl" | "neo4j">,
): Promise<string> => {
  const store = config.neo4j
    ? await createNeo4jRunStore(config.neo4j)
    : await createSqlRunStore({ url: config.databaseUrl })
  try {
    return await rotateApiToken({ store, newId: randomUUID })
  } finally {
    await store.close()
  }
}
