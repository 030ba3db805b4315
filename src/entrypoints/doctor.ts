import { execFile } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { promisify } from "node:util"
import { Redis } from "ioredis"
import { errorMessage } from "#domain/errors.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import { createScrubber } from "#domain/secret-scrubber.js"
import type { Config } from "#main/config.js"
// the adapter factories come from src/main (an entrypoint imports no adapter)
import {
  appJwt,
  createInstallationTokens,
  createModelHandle,
  createOctokitGitHub,
  createSqlRunStore,
  type DetectedSandbox,
  detectSandbox,
  parseAppPrivateKey,
  probeModel,
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
 * The sandbox's isolation, one line each: which sandbox and namespaces, cgroup limits (or why
 * none), and what setup commands may reach. No working bwrap is a failure (repository commands
 * will not run); PRWRIGHT_SANDBOX=process and missing cgroups are warnings.
 */
export const sandboxChecks = async (
  config: Pick<Config, "sandbox" | "setupEgress">,
  options: { bwrapPath?: string } = {},
): Promise<Check[]> => {
  let chosen: DetectedSandbox
  try {
    chosen = await detectSandbox({
      ...(config.sandbox ? { preference: config.sandbox } : {}),
      setupEgress: config.setupEgress,
      ...(options.bwrapPath ? { bwrapPath: options.bwrapPath } : {}),
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

  checks.push(
    await check("database", async () => {
      if (config.neo4j) return `Neo4j at ${config.neo4j.uri} (checked when the service starts)`
      const store = await createSqlRunStore({ url: config.databaseUrl })
      try {
        await store.listRuns({ limit: 1 })
        return `${config.databaseUrl.split(":")[0]} reachable, schema up to date`
      } finally {
        await store.close()
      }
    }),
  )

  checks.push(
    config.redisUrl
      ? await check("queue", async () => {
          const redis = new Redis(config.redisUrl as string, {
            lazyConnect: true,
            maxRetriesPerRequest: 1,
            connectTimeout: 5000,
          })
          // the failure is reported by connect() below; ioredis would also print it unhandled
          redis.on("error", () => undefined)
          try {
            await redis.connect()
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
        })
      : { name: "queue", ok: true, detail: "embedded (SQLite); set REDIS_URL to scale out with BullMQ" },
  )

  checks.push(await check("github", () => probeGitHub(config, options.repo)))

  checks.push(
    await check("llm", async () => {
      const handle = createModelHandle({
        provider: config.llm.provider,
        ...(config.llm.model ? { model: config.llm.model } : {}),
        ...(config.llm.baseUrl ? { baseURL: config.llm.baseUrl } : {}),
        ...(config.llm.apiKey ? { apiKey: config.llm.apiKey } : {}),
      })
      const probe = await probeModel({
        provider: config.llm.provider,
        model: handle.modelId,
        ...(config.llm.baseUrl ? { baseURL: config.llm.baseUrl } : {}),
        ...(config.llm.apiKey ? { apiKey: config.llm.apiKey } : {}),
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
