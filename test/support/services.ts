/**
 * Real services for adapter tests. A suite whose service is down skips LOUDLY with the reason, and
 * fails instead when REQUIRE_SERVICES=1 (CI), so a green CI run always means the suite ran.
 */
import { randomUUID } from "node:crypto"
import net from "node:net"
import { Redis, type RedisOptions } from "ioredis"
import { sharedNeo4j } from "./neo4j-server.js"

export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379"
export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test"
export const requireServices = process.env.REQUIRE_SERVICES === "1"

/** A loopback TCP port that was free a moment ago (nothing listens on it when this resolves). */
export const freePort = async (): Promise<number> => {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", resolve)
  })
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Whether a Redis server on loopback answers PING now (one connection attempt, no retries). */
export const redisAnswers = async (options: RedisOptions): Promise<boolean> => {
  const probe = new Redis({
    host: "127.0.0.1",
    ...options,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  probe.on("error", () => {})
  try {
    await probe.connect()
    return (await probe.ping()) === "PONG"
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

const reachable = (url: string, defaultPort: number): Promise<boolean> => {
  const parsed = new URL(url)
  return new Promise((resolve) => {
    const socket = net.connect({ host: parsed.hostname, port: Number(parsed.port || defaultPort) })
    socket.setTimeout(1000)
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("timeout", () => {
      socket.destroy()
      resolve(false)
    })
    socket.once("error", () => resolve(false))
  })
}

/**
 * Top-level await in a test file: `const redis = await service("redis")`, then
 * `describe.skipIf(!redis.available)(…)`. Throws under REQUIRE_SERVICES=1 when the service is down.
 */
export const service = async (
  name: "redis" | "postgres" | "neo4j",
): Promise<{ available: boolean; url: string; reason?: string }> => {
  if (name === "neo4j") return neo4jService()
  const url = name === "redis" ? REDIS_URL : POSTGRES_URL
  const ok = await reachable(url, name === "redis" ? 6379 : 5432)
  if (ok) return { available: true, url }
  const reason = `${name} is not reachable at ${url}`
  if (requireServices) throw new Error(`${reason}, and REQUIRE_SERVICES=1: start it (see README "Tests")`)
  console.warn(
    `\n!!! SKIPPING ${name} suites: ${reason}. Start ${name} or set TEST_${name.toUpperCase()}_URL to run them.\n`,
  )
  return { available: false, url, reason }
}

/** Neo4j: the run's shared server (started on first use from Maven Central jars) or TEST_NEO4J_URI. */
const neo4jService = async (): Promise<{ available: boolean; url: string; reason?: string }> => {
  try {
    return { available: true, url: (await sharedNeo4j()).uri }
  } catch (error) {
    const reason = `Neo4j could not be started: ${(error as Error).message}`
    if (requireServices) throw new Error(`${reason}, and REQUIRE_SERVICES=1 (see README "Tests")`)
    console.warn(`\n!!! SKIPPING neo4j suites: ${reason}. Install java + maven or set TEST_NEO4J_URI.\n`)
    return { available: false, url: "", reason }
  }
}

/** A key prefix / schema name unique to one test, so tests never see each other's data. */
export const uniqueName = (label: string): string =>
  `t_${label}_${randomUUID().replaceAll("-", "").slice(0, 12)}`
