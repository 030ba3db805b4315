/**
 * The RunStore contract on Neo4j. It needs a server: set NEO4J_URI (and NEO4J_USER / NEO4J_PASSWORD)
 * to a THROWAWAY database, because every test starts by deleting all prwright nodes in it. Without
 * NEO4J_URI the contract is skipped, loudly; REQUIRE_SERVICES=1 does not make it fail, because
 * Neo4j is an optional store and the machines that run CI have none.
 */
import neo4j from "neo4j-driver"
import { describe, expect, it } from "vitest"
import { createNeo4jRunStore } from "#adapters/store/neo4j/neo4j-run-store.js"
import { PrwrightError } from "#domain/errors.js"
import { runStoreContracts } from "../contract/run-store.contract.js"

const NEO4J_URI = process.env.NEO4J_URI
const credentials = {
  ...(process.env.NEO4J_USER ? { user: process.env.NEO4J_USER } : {}),
  ...(process.env.NEO4J_PASSWORD ? { password: process.env.NEO4J_PASSWORD } : {}),
  ...(process.env.NEO4J_DATABASE ? { database: process.env.NEO4J_DATABASE } : {}),
}

const LABELS = [
  "Run",
  "Event",
  "Issue",
  "Repository",
  "User",
  "Plan",
  "ApiToken",
  "WebhookDelivery",
  "Secret",
]

const wipe = async (uri: string) => {
  const driver = neo4j.driver(
    uri,
    credentials.user || credentials.password
      ? neo4j.auth.basic(credentials.user ?? "neo4j", credentials.password ?? "")
      : undefined,
  )
  try {
    await driver.executeQuery(
      `MATCH (n) WHERE any(label IN labels(n) WHERE label IN $labels) DETACH DELETE n`,
      { labels: LABELS },
      credentials.database ? { database: credentials.database } : {},
    )
  } finally {
    await driver.close()
  }
}

if (!NEO4J_URI) {
  console.warn(
    "\n!!! SKIPPING Neo4j RunStore contract: NEO4J_URI is not set. Point NEO4J_URI (and NEO4J_USER, NEO4J_PASSWORD) at a throwaway Neo4j database to run it.\n",
  )
  describe.skip("RunStore contract: Neo4j (NEO4J_URI is not set)", () => {
    it("runs the RunStore contract against Neo4j", () => {})
  })
} else {
  const uri = NEO4J_URI
  runStoreContracts("Neo4j", async ({ clock, secretKey }) => {
    await wipe(uri)
    const store = await createNeo4jRunStore({ uri, ...credentials, clock, secretKey })
    return {
      store,
      cleanup: async () => {
        await store.close()
        await wipe(uri)
      },
    }
  })
}

describe("Neo4j store start-up", () => {
  it("stops with a message naming NEO4J_URI and the fix, without the password", async () => {
    const error = await createNeo4jRunStore({
      uri: "bolt://127.0.0.1:1",
      user: "neo4j",
      password: "hunter2-neo4j-password",
    }).then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(PrwrightError)
    expect((error as PrwrightError).code).toBe("unavailable")
    expect((error as Error).message).toMatch(/NEO4J_URI=bolt:\/\/127\.0\.0\.1:1 as NEO4J_USER=neo4j/)
    expect((error as Error).message).toMatch(/unset NEO4J_URI/)
    expect((error as Error).message).not.toContain("hunter2")
  })
})
