/**
 * Looks for secrets where they must never be: files (databases, mirrors, logs), SQLite rows and
 * Redis keys. Each secret is also searched for in base64 (as in a Basic auth header).
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import path from "node:path"
import Database from "better-sqlite3"
import { Redis } from "ioredis"

const forms = (secret: string): string[] => [
  secret,
  Buffer.from(secret).toString("base64"),
  Buffer.from(`x-access-token:${secret}`).toString("base64"),
]

export const findSecrets = (text: string, secrets: readonly string[]): string[] =>
  secrets.filter((secret) => forms(secret).some((form) => text.includes(form)))

/** files under `dir` whose raw bytes hold a secret */
export const scanFiles = (dir: string, secrets: readonly string[]): string[] => {
  const hits: string[] = []
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.isFile() && statSync(full).size < 64 * 1024 * 1024) {
        const text = readFileSync(full).toString("latin1")
        if (findSecrets(text, secrets).length > 0) hits.push(full)
      }
    }
  }
  walk(dir)
  return hits
}

/** every row of every table of a SQLite file, as text; and the tables that hold a secret */
export const scanSqlite = (file: string, secrets: readonly string[]): { rows: number; hits: string[] } => {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as Array<{
      name: string
    }>
    let rows = 0
    const hits: string[] = []
    for (const { name } of tables) {
      const all = db.prepare(`select * from "${name}"`).all()
      rows += all.length
      if (findSecrets(JSON.stringify(all), secrets).length > 0) hits.push(name)
    }
    return { rows, hits }
  } finally {
    db.close()
  }
}

/** every key under `prefix` with its value, whatever the type; and the keys that hold a secret */
export const scanRedis = async (
  url: string,
  prefix: string,
  secrets: readonly string[],
): Promise<{ keys: number; hits: string[] }> => {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  try {
    const keys: string[] = []
    let cursor = "0"
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
      cursor = next
      keys.push(...batch)
    } while (cursor !== "0")
    const hits: string[] = []
    for (const key of keys) {
      const type = await redis.type(key)
      const value =
        type === "string"
          ? await redis.get(key)
          : type === "hash"
            ? await redis.hgetall(key)
            : type === "list"
              ? await redis.lrange(key, 0, -1)
              : type === "set"
                ? await redis.smembers(key)
                : type === "zset"
                  ? await redis.zrange(key, 0, -1, "WITHSCORES")
                  : type === "stream"
                    ? await redis.xrange(key, "-", "+")
                    : null
      if (findSecrets(JSON.stringify(value), secrets).length > 0) hits.push(key)
    }
    return { keys: keys.length, hits }
  } finally {
    redis.disconnect()
  }
}

/** every node of a Neo4j database with its properties; and the labels whose nodes hold a secret */
export const scanNeo4j = async (
  uri: string,
  secrets: readonly string[],
): Promise<{ nodes: number; hits: string[] }> => {
  const { default: neo4j } = await import("neo4j-driver")
  const driver = neo4j.driver(uri)
  try {
    const { records } = await driver.executeQuery("MATCH (n) RETURN labels(n) AS labels, properties(n) AS p")
    const hits = new Set<string>()
    for (const record of records) {
      if (findSecrets(JSON.stringify(record.get("p")), secrets).length > 0)
        hits.add(String(record.get("labels")))
    }
    return { nodes: records.length, hits: [...hits] }
  } finally {
    await driver.close()
  }
}
