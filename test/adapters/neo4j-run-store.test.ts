/**
 * The RunStore contract on a real Neo4j Community server: the test run's shared server (started from
 * Maven Central jars on first use, see test/support/neo4j-server.ts), or TEST_NEO4J_URI (and
 * TEST_NEO4J_USER / TEST_NEO4J_PASSWORD) pointing at a THROWAWAY database, because every test starts
 * by deleting all prwright nodes in it. Skipped loudly without java/maven; REQUIRE_SERVICES=1 fails instead.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createNeo4jRunStore } from "#adapters/store/neo4j/neo4j-run-store.js"
import { PrwrightError } from "#domain/errors.js"
import { runStoreContracts } from "../contract/run-store.contract.js"
import { holdNeo4j, wipeNeo4j } from "../support/neo4j-server.js"
import { service } from "../support/services.js"

const neo4jServer = await service("neo4j")
const credentials = {
  ...(process.env.TEST_NEO4J_USER ? { user: process.env.TEST_NEO4J_USER } : {}),
  ...(process.env.TEST_NEO4J_PASSWORD ? { password: process.env.TEST_NEO4J_PASSWORD } : {}),
  ...(process.env.TEST_NEO4J_DATABASE ? { database: process.env.TEST_NEO4J_DATABASE } : {}),
}

const wipe = (uri: string) => wipeNeo4j(uri, credentials)

if (!neo4jServer.available) {
  describe.skip(`RunStore contract: Neo4j (${neo4jServer.reason})`, () => {
    it("runs the RunStore contract against Neo4j", () => {})
  })
} else {
  let release: (() => Promise<void>) | undefined
  beforeAll(async () => {
    release = await holdNeo4j()
  }, 200_000)
  afterAll(async () => {
    await release?.()
  })
  const uri = neo4jServer.url
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
