// Over ~300 lines: one read-only check per dependency, each with its fix; a candidate to split by dependency when next touched.
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { promisify } from "node:util"
import { Redis } from "ioredis"
import { Kysely, SqliteDialect } from "kysely"
import { silentLogger } from "#application/ports/logging.js"
import { errorMessage } from "#domain/errors.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import { createScrubber } from "#domain/secret-scrubber.js"
import { JOB_TYPES, type JobType, WORKER_TYPES } from "#domain/workflow-run.js"
import type { Config } from "#main/config.js"
// the adapter factories come from src/main (an entrypoint imports no adapter)
import {
  appJwt,
  connectDatabase,
  createInstallationTokens,
  createModelHandle,
  createOctokitGitHub,
  createStoreMigrator,
  type DetectedSandbox,
  detectSandbox,
  parseAppPrivateKey,
  parseDatabaseUrl,
  probeModel,
  redisWorkersKey,
  WORKER_LIVE_WINDOW_MS,
} from "#main/maintenance.js"

const run = promisify(execFile)

export interface Check {
  name: string
  ok: boolean | "warn"
  detail: string
}

const check = async (name: string, probe: () => Promise<string>): Promise<Check> => {
  try {
    return { name, ok: true, detail: await probe() }
  } catch (error) {
    return { name, ok: false, detail: errorMessage(error) }
  }
}

/** Token or GitHub App: can prwright authenticate, and (with --repo) read that repository? */
const probeGitHub = async (config: Config, repoName: string | undefined): Promise<string> => {
  const { app, token, apiUrl } = config.github
  if (!app && !token) {
    throw new Error(
      "neither GITHUB_TOKEN nor GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY is set: create a token (issues write; contents and pull requests write for PRs) or install a GitHub App",
    )
  }
  if (repoName) {
    const tokens = app
      ? createInstallationTokens({ appId: app.id, privateKey: app.privateKey, baseUrl: apiUrl })
      : undefined
    const github = createOctokitGitHub({
      baseUrl: apiUrl,
      ...(tokens ? { auth: tokens.tokenFor } : { token }),
    })
    const repo = await github.getRepository(parseRepoRef(repoName, "--repo"))
    return `${apiUrl}: ${repo.fullName} is readable with the ${app ? `GitHub App ${app.id}` : "token"} (default branch ${repo.defaultBranch})`
  }
  const response = await fetch(`${apiUrl}/${app ? "app" : "user"}`, {
    headers: {
      authorization: app
        ? `Bearer ${appJwt(app.id, parseAppPrivateKey(app.privateKey), new Date())}`
        : `token ${token}`,
      accept: "application/vnd.github+json",
    },
    signal: AbortSignal.timeout(10_000),
  }).catch((error: Error) => {
    throw new Error(`cannot reach ${apiUrl} (${error.message}): check GITHUB_API_URL`)
  })
  if (response.status === 401) {
    throw new Error(
      app
        ? "GitHub refused the app's JWT (401): check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY"
        : "GitHub refused GITHUB_TOKEN (401): create a new token",
    )
  }
  if (!response.ok && response.status !== 403)
    throw new Error(`GET /${app ? "app" : "user"} answered ${response.status}`)
  const who = response.ok ? ((await response.json()) as { login?: string; slug?: string }) : {}
  const name = who.login ?? who.slug ?? (app ? `app ${app.id}` : "an app installation")
  return `${apiUrl}: ${app ? "GitHub App" : "token"} accepted (${name}); add --repo owner/name to check a repository`
}

/**
 * The store, read only: doctor never creates or migrates a database (a pending migration is reported
 * with the command that applies it).
 */
const probeDatabase = async (config: Config): Promise<string> => {
  if (config.neo4j) {
    const { default: neo4j } = await import("neo4j-driver")
    const { uri, user, password, database } = config.neo4j
    const driver = neo4j.driver(
      uri,
      user !== undefined || password !== undefined
        ? neo4j.auth.basic(user ?? "neo4j", password ?? "")
        : undefined,
      { connectionAcquisitionTimeout: 5_000 },
    )
    try {
      await driver.verifyConnectivity(database ? { database } : {})
      return `Neo4j at ${uri} reachable`
    } catch (error) {
      throw new Error(
        `cannot reach Neo4j at NEO4J_URI=${uri} (${errorMessage(error)}): start the server, check NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD`,
      )
    } finally {
      await driver.close()
    }
  }
  const target = parseDatabaseUrl(config.databaseUrl)
  let db: Kysely<unknown>
  let schema: string | undefined
  if (target.dialect === "sqlite") {
    if (target.filename !== ":memory:" && !existsSync(target.filename))
      throw new Error(
        `no database at ${target.filename} yet: run \`prwright migrate\` (or start \`prwright serve\`, which creates it)`,
      )
    const { default: Database } = await import("better-sqlite3")
    db = new Kysely({
      dialect: new SqliteDialect({
        database: new Database(target.filename, { readonly: true, fileMustExist: true }),
      }),
    })
  } else {
    const connected = await connectDatabase({ url: config.databaseUrl, logger: silentLogger })
    db = connected.db as unknown as Kysely<unknown>
    schema = connected.schema
  }
  try {
    const migrations = await createStoreMigrator(db, {
      dialect: target.dialect,
      migrationTableSchema: schema,
    }).getMigrations()
    const pending = migrations.filter((migration) => !migration.executedAt).map((m) => m.name)
    if (pending.length > 0)
      throw new Error(
        `migration needed (${pending.length} pending: ${pending.join(", ")}): run \`prwright migrate\``,
      )
    return `${target.dialect} reachable, schema up to date`
  } finally {
    await db.destroy()
  }
}

/** Redis for BullMQ: reachable, and kept from evicting queue keys. */
const probeRedis = async (url: string): Promise<string> => {
  let lastError: unknown
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    retryStrategy: () => null,
  })
  // ioredis emits every failed attempt: keep the reason for the message instead of an unhandled error
  redis.on("error", (error) => {
    lastError = error
  })
  try {
    try {
      await redis.connect()
    } catch (error) {
      throw new Error(
        `cannot reach Redis at REDIS_URL=${redactUrl(url)} (${errorMessage(lastError ?? error)}): start Redis, or fix REDIS_URL (unset it to use the embedded queue)`,
      )
    }
    const info = await redis.info("server")
    const policy = await redis.config("GET", "maxmemory-policy").catch(() => [])
    const eviction = Array.isArray(policy) ? String(policy[1] ?? "") : ""
    if (eviction && eviction !== "noeviction") {
      throw new Error(
        `Redis maxmemory-policy is ${eviction}: BullMQ needs noeviction (CONFIG SET maxmemory-policy noeviction)`,
      )
    }
    return `BullMQ on Redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? "?"}`
  } finally {
    redis.disconnect()
  }
}

const redactUrl = (url: string) => url.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/, "$1***@")

/** Live workers per job type, from their heartbeats (read only). */
const probeWorkers = async (config: Config): Promise<string> => {
  const since = Date.now() - WORKER_LIVE_WINDOW_MS
  const live: Partial<Record<JobType, number>> = {}
  if (config.redisUrl) {
    const redis = new Redis(config.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 5000,
      retryStrategy: () => null,
    })
    redis.on("error", () => {})
    try {
      await redis.connect().catch(() => {
        throw new Error("cannot read worker heartbeats: Redis is not reachable (see the queue line)")
      })
      for (const type of JOB_TYPES)
        live[type] = await redis.zcount(redisWorkersKey(config.queuePrefix, type), since, "+inf")
    } finally {
      redis.disconnect()
    }
  } else {
    const file = config.databaseUrl.startsWith("sqlite:")
      ? config.databaseUrl.slice("sqlite:".length)
      : path.join(config.dataDir, "queue.db")
    if (existsSync(file)) {
      const { default: Database } = await import("better-sqlite3")
      const db = new Database(file, { readonly: true, fileMustExist: true })
      try {
        const table = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'queue_workers'").get()
        if (table) {
          const rows = db
            .prepare("SELECT type, count(*) AS n FROM queue_workers WHERE beat_at >= ? GROUP BY type")
            .all(since) as Array<{ type: JobType; n: number }>
          for (const row of rows) live[row.type] = row.n
        }
      } finally {
        db.close()
      }
    }
  }
  const missing = JOB_TYPES.filter((type) => !(live[type] ?? 0))
  const counts = JOB_TYPES.map((type) => `${type} ${live[type] ?? 0}`).join(", ")
  if (missing.length === 0) return `live workers: ${counts}`
  const start = missing.map((type) => `\`prwright worker --type ${workerTypeOf(type)}\``).join(", ")
  throw new Error(
    config.redisUrl
      ? `no live worker for ${missing.join(", ")} (jobs of that type would wait): start ${start}, or one \`prwright worker --type all\``
      : `no live worker for ${missing.join(", ")}: start \`prwright serve\` (it runs the workers), or ${start}`,
  )
}

const workerTypeOf = (type: JobType) =>
  Object.entries(WORKER_TYPES).find(([, jobType]) => jobType === type)?.[0] ?? type

/**
 * The sandbox's isolation, one line each: which sandbox and namespaces, cgroup limits (or why
 * none), and what setup commands may reach. No working bwrap is a failure (repository commands
 * will not run); PRWRIGHT_SANDBOX=process and missing cgroups are warnings.
 */
export const sandboxChecks = async (
  config: Pick<Config, "sandbox" | "setupEgress">,
  options: { bwrapPath?: string | undefined } = {},
): Promise<Check[]> => {
  let chosen: DetectedSandbox
  try {
    chosen = await detectSandbox({
      preference: config.sandbox,
      setupEgress: config.setupEgress,
      bwrapPath: options.bwrapPath,
    })
  } catch (error) {
    return [{ name: "sandbox", ok: false, detail: errorMessage(error) }]
  }
  const { isolation } = chosen
  if (chosen.kind === "process") {
    return [
      {
        name: "sandbox",
        ok: "warn",
        detail:
          "PRWRIGHT_SANDBOX=process: repository commands run WITHOUT isolation (they can read the worker's files, environment and local services); install bubblewrap and unset PRWRIGHT_SANDBOX",
      },
      { name: "cgroups", ok: "warn", detail: isolation.cgroups.detail },
      { name: "egress", ok: "warn", detail: isolation.setupEgress },
    ]
  }
  return [
    {
      name: "sandbox",
      ok: true,
      detail: `bubblewrap: ${isolation.namespaces.join(", ")} namespaces${isolation.userNamespace ? "" : " (no user namespace: capabilities dropped)"}, no capabilities, only the checkout writable; ${isolation.etc}`,
    },
    { name: "cgroups", ok: isolation.cgroups.usable ? true : "warn", detail: isolation.cgroups.detail },
    await check("egress", async () => {
      // a setup-mode `true`: the host proxy and the relay inside the sandbox must start
      const root = await mkdtemp(path.join(tmpdir(), "prwright-doctor-egress-"))
      try {
        const trial = await chosen.run({ command: "true", root, network: "setup", timeoutMs: 20_000 })
        if (trial.exitCode !== 0 || /relay did not start/.test(trial.output)) {
          throw new Error(
            `setup commands could not reach the egress proxy: ${trial.output.trim() || `exit ${trial.exitCode}`}`,
          )
        }
      } finally {
        await rm(root, { recursive: true, force: true })
      }
      return isolation.setupEgress
    }),
  ]
}

/** `prwright doctor`: every configured dependency, one line each, with the fix when it fails. */
export const runDoctor = async (
  config: Config,
  options: { repo?: string; write?: (line: string) => void } = {},
): Promise<number> => {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`))
  const redact = createScrubber(config.secrets)
  const checks: Check[] = []

  checks.push(await check("database", () => probeDatabase(config)))
  checks.push(
    config.redisUrl
      ? await check("queue", () => probeRedis(config.redisUrl as string))
      : { name: "queue", ok: true, detail: "embedded (SQLite); set REDIS_URL to scale out with BullMQ" },
  )
  const workers = await check("workers", () => probeWorkers(config))
  // embedded: the workers live in `prwright serve`, which may simply not be running while you check
  checks.push(workers.ok || config.redisUrl ? workers : { ...workers, ok: "warn" })

  checks.push(await check("github", () => probeGitHub(config, options.repo)))

  checks.push(
    await check("llm", async () => {
      const handle = createModelHandle({
        provider: config.llm.provider,
        model: config.llm.model,
        baseURL: config.llm.baseUrl,
        apiKey: config.llm.apiKey,
      })
      const probe = await probeModel({
        provider: config.llm.provider,
        model: handle.modelId,
        baseURL: config.llm.baseUrl,
        apiKey: config.llm.apiKey,
      })
      if (!probe.ok) throw new Error(probe.detail)
      return `${probe.detail}${handle.pricing ? "" : " (not in the price table: cost shows as $0 and maxCostUsd cannot bind)"}`
    }),
  )

  checks.push(
    await check("git", async () => (await run("git", ["--version"])).stdout.trim()),
    await check("search", async () => {
      try {
        return `ripgrep ${(await run("rg", ["--version"])).stdout.split("\n")[0]?.split(" ")[1] ?? ""}`
      } catch {
        throw new Error(
          "ripgrep (rg) is not installed: searches fall back to git grep; apt-get install ripgrep",
        )
      }
    }),
  )
  checks.push(...(await sandboxChecks(config)))

  for (const c of checks) {
    const mark = c.ok === true ? "✓" : c.ok === "warn" ? "!" : "✗"
    write(redact(`${mark} ${c.name.padEnd(9)} ${c.detail}`))
  }
  return checks.some((c) => c.ok === false) ? 1 : 0
}
