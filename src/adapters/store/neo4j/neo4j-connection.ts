/**
 * The Neo4j side of the store: connecting (with a start-up check that names NEO4J_URI and the fix),
 * the constraints and indexes the graph relies on, and small helpers for sessions and values.
 *
 * The graph: (:Run)-[:FOR_ISSUE]->(:Issue)-[:IN_REPO]->(:Repository), (:Run)-[:TRIGGERED_BY]->(:User),
 * (:Run)-[:HAS_EVENT]->(:Event {seq}), (:Plan)-[:PLANS]->(:Issue), and (:WebhookDelivery {id}) nodes (the
 * event keys seen; a run names its delivery in its trigger and its id derives from the event).
 * Only single-property uniqueness constraints and plain indexes are used, so Community edition works.
 */
import neo4j, { type Driver, type ManagedTransaction } from "neo4j-driver"
import { errorMessage, PrwrightError } from "#domain/errors.js"

export interface Neo4jConnectionOptions {
  /** neo4j://, neo4j+s://, bolt:// … */
  uri: string
  user?: string | undefined
  password?: string | undefined
  /** default: the server's default database */
  database?: string | undefined
}

export interface Neo4jConnection {
  driver: Driver
  read<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T>
  write<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T>
  close(): Promise<void>
}

const SCHEMA = [
  "CREATE CONSTRAINT prwright_run_id IF NOT EXISTS FOR (r:Run) REQUIRE r.id IS UNIQUE",
  "CREATE CONSTRAINT prwright_issue_key IF NOT EXISTS FOR (i:Issue) REQUIRE i.key IS UNIQUE",
  "CREATE CONSTRAINT prwright_repository_name IF NOT EXISTS FOR (r:Repository) REQUIRE r.fullName IS UNIQUE",
  "CREATE CONSTRAINT prwright_user_login IF NOT EXISTS FOR (u:User) REQUIRE u.login IS UNIQUE",
  "CREATE CONSTRAINT prwright_plan_id IF NOT EXISTS FOR (p:Plan) REQUIRE p.id IS UNIQUE",
  "CREATE CONSTRAINT prwright_token_id IF NOT EXISTS FOR (t:ApiToken) REQUIRE t.id IS UNIQUE",
  "CREATE CONSTRAINT prwright_token_hash IF NOT EXISTS FOR (t:ApiToken) REQUIRE t.hash IS UNIQUE",
  "CREATE CONSTRAINT prwright_delivery_id IF NOT EXISTS FOR (d:WebhookDelivery) REQUIRE d.id IS UNIQUE",
  "CREATE CONSTRAINT prwright_secret_name IF NOT EXISTS FOR (s:Secret) REQUIRE s.name IS UNIQUE",
  "CREATE INDEX prwright_event_run_seq IF NOT EXISTS FOR (e:Event) ON (e.runId, e.seq)",
  "CREATE INDEX prwright_run_created IF NOT EXISTS FOR (r:Run) ON (r.createdAt)",
]

/** The password never goes into a message. */
const describeTarget = (options: Neo4jConnectionOptions) =>
  `NEO4J_URI=${options.uri}${options.user ? ` as NEO4J_USER=${options.user}` : ""}`

export const connectNeo4j = async (options: Neo4jConnectionOptions): Promise<Neo4jConnection> => {
  const auth =
    options.user !== undefined || options.password !== undefined
      ? neo4j.auth.basic(options.user ?? "neo4j", options.password ?? "")
      : undefined
  let driver: Driver
  try {
    driver = neo4j.driver(options.uri, auth, {
      // Integers come back as JS numbers: counts, seq and epoch millis all fit in 2^53.
      disableLosslessIntegers: true,
      connectionAcquisitionTimeout: 10_000,
    })
  } catch (error) {
    throw new PrwrightError(
      "config",
      `NEO4J_URI "${options.uri}" is not usable (${errorMessage(error)}): use neo4j://HOST:7687 or bolt://HOST:7687`,
      { cause: error },
    )
  }
  const database = options.database ? { database: options.database } : {}
  try {
    await driver.verifyConnectivity(database)
    const session = driver.session(database)
    try {
      // Schema commands may not share a transaction with each other: one auto-commit query each.
      for (const statement of SCHEMA) await session.run(statement)
    } finally {
      await session.close()
    }
  } catch (error) {
    await driver.close().catch(() => {})
    throw new PrwrightError(
      "unavailable",
      `cannot use Neo4j at ${describeTarget(options)} (${errorMessage(error)}): start the server, check NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD, or unset NEO4J_URI to keep runs in DATABASE_URL`,
      { cause: error, retryable: true },
    )
  }

  const inSession = async <T>(run: (session: ReturnType<Driver["session"]>) => Promise<T>) => {
    const session = driver.session(database)
    try {
      return await run(session)
    } finally {
      await session.close()
    }
  }
  let closed = false
  return {
    driver,
    read: (work) => inSession((session) => session.executeRead(work)),
    write: (work) => inSession((session) => session.executeWrite(work)),
    async close() {
      if (closed) return
      closed = true
      await driver.close()
    },
  }
}

/** Integers go to Neo4j as integers (a JS number would be stored as a float). */
export const int = (value: number) => neo4j.int(value)

export const num = (value: unknown): number =>
  typeof value === "number"
    ? value
    : neo4j.isInt(value)
      ? (value as { toNumber(): number }).toNumber()
      : Number(value)

export const isConstraintViolation = (error: unknown): boolean =>
  typeof error === "object" &&
  error !== null &&
  (error as { code?: unknown }).code === "Neo.ClientError.Schema.ConstraintValidationFailed"

export const issueKey = (repoFullName: string, issueNumber: number) => `${repoFullName}#${issueNumber}`
