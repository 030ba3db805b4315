/**
 * Once per test run (vitest globalSetup): names the run so shared test servers (Neo4j, see
 * neo4j-server.ts) are started at most once and stopped at the end.
 */
import { stopSharedNeo4j } from "./neo4j-server.js"

export default function setup() {
  const runId = String(process.pid)
  process.env.PRWRIGHT_TEST_RUN_ID = runId
  return async () => {
    await stopSharedNeo4j(runId)
  }
}
