import { createPrivateKey } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import path from "node:path"
import { z } from "zod"
import { MODEL_PROVIDERS } from "#adapters/model/ai-sdk-model.js"
import { parseSetupAllow, parseSetupNetworks } from "#adapters/sandbox/setup-egress.js"
import { DEFAULT_RUN_LIMITS, type RunLimits } from "#application/job-data.js"
import type { KeepJobs } from "#application/ports/job-queue.js"
import { ConfigError } from "#domain/errors.js"
import { type ModelTableOverrides, parseModelTableOverrides } from "#domain/model-table.js"

/**
 * The environment, validated once at start-up. A bad value stops start-up with one line per
 * variable that names it and the fix. Secrets stay here and in the adapters built from them.
 *
 * Over 300 lines on purpose: one schema for the whole environment, so every bad variable is reported
 * in the same start-up, and one place to read what prwright can be told. Split a group out (with its
 * own schema merged in here) when one grows past a screen.
 */

// the providers are the model adapter's: one list
const PROVIDERS = MODEL_PROVIDERS
const SANDBOXES = ["bwrap", "process", "docker"] as const

const optionalString = z
  .string()
  .transform((v) => v.trim())
  .transform((v) => (v === "" ? undefined : v))
  .optional()

const url = (fix: string) =>
  optionalString.refine((v) => v === undefined || URL.canParse(v), { message: `must be a URL: ${fix}` })

const int = (fallback: number, min: number, max: number, fix: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback
      const n = Number(v)
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({
          code: "custom",
          message: `must be an integer from ${min} to ${max} (got "${v}"): ${fix}`,
        })
        return z.NEVER
      }
      return n
    })

const HOUR = 3_600_000
const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: HOUR, d: 24 * HOUR }

/** How many finished jobs the queue keeps: "1000" (a count), "24h" (an age: s, m, h, d) or "1000,24h". */
const keepJobs = (fallback: KeepJobs) =>
  z
    .string()
    .optional()
    .transform((v, ctx): KeepJobs => {
      if (v === undefined || v.trim() === "") return fallback
      const keep: KeepJobs = {}
      for (const part of v.split(",").map((p) => p.trim())) {
        const age = /^(\d+)([smhd])$/.exec(part)
        if (/^\d+$/.test(part)) keep.count = Number(part)
        else if (age) keep.ageMs = Number(age[1]) * DURATION_UNITS[age[2]!]!
        else {
          ctx.addIssue({
            code: "custom",
            message: `must be a count ("1000"), an age ("24h", "7d") or both ("1000,24h"), got "${v}"`,
          })
          return z.NEVER
        }
      }
      return keep
    })

/** an optional limit in US dollars: unset or empty means none */
const usdLimit = (v: string | undefined, ctx: z.RefinementCtx): number | undefined => {
  if (v === undefined || v.trim() === "") return undefined
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) {
    ctx.addIssue({
      code: "custom",
      message: `must be a number of US dollars, 0 or more (got "${v}"), e.g. 20`,
    })
    return z.NEVER
  }
  return n
}

const EnvSchema = z.object({
  PORT: int(3000, 0, 65535, "set PORT to a free TCP port, e.g. 3000 (0 picks one)"),
  HOST: optionalString,
  PRWRIGHT_DATA_DIR: optionalString,
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^(sqlite:|postgres(ql)?:\/\/)/.test(v), {
    message: 'must start with "sqlite:" (e.g. sqlite:./.prwright/prwright.db) or "postgres://"',
  }),
  NEO4J_URI: optionalString,
  NEO4J_USER: optionalString,
  NEO4J_PASSWORD: optionalString,
  NEO4J_DATABASE: optionalString,
  REDIS_URL: optionalString.refine((v) => v === undefined || /^rediss?:\/\//.test(v), {
    message: 'must be a Redis URL like "redis://127.0.0.1:6379" (or unset it to use the embedded queue)',
  }),
  PRWRIGHT_QUEUE_PREFIX: optionalString.refine((v) => v === undefined || /^[A-Za-z0-9:_-]+$/.test(v), {
    message: "may hold only letters, digits, ':', '_' and '-'",
  }),
  GITHUB_API_URL: url("e.g. https://api.github.com or https://ghe.example.com/api/v3"),
  GITHUB_TOKEN: optionalString,
  GITHUB_APP_ID: optionalString,
  GITHUB_APP_PRIVATE_KEY: optionalString,
  GITHUB_WEBHOOK_SECRET: optionalString,
  LLM_PROVIDER: z
    .enum(PROVIDERS, { error: `must be one of ${PROVIDERS.join(", ")}` })
    .optional()
    .default("openai"),
  LLM_MODEL: optionalString,
  LLM_BASE_URL: url("e.g. http://localhost:11434/v1 for an OpenAI-compatible server"),
  LLM_API_KEY: optionalString,
  LLM_REASONING_EFFORT: z
    .enum(["minimal", "low", "medium", "high"], { error: "must be minimal, low, medium or high" })
    .optional(),
  LLM_THINKING_BUDGET: int(0, 0, 200_000, "Anthropic extended thinking tokens (≥ 1024), 0 = off"),
  LLM_OPENAI_API: z.enum(["responses", "chat"], { error: "must be responses or chat" }).optional(),
  PRWRIGHT_MODEL_PRICES: optionalString,
  PRWRIGHT_ALLOW_UNPRICED: z
    .enum(["0", "1", "true", "false"], { error: "must be 1 (allow) or 0" })
    .optional(),
  OPENAI_API_KEY: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  PRWRIGHT_API_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, {
    message: "must be at least 16 characters: use a long random value, e.g. `openssl rand -hex 24`",
  }),
  PRWRIGHT_SECRET_KEY: optionalString,
  PRWRIGHT_METRICS_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, {
    message: "must be at least 16 characters: use a long random value, e.g. `openssl rand -hex 24`",
  }),
  PRWRIGHT_SANDBOX: z.enum(SANDBOXES, { error: `must be one of ${SANDBOXES.join(", ")}` }).optional(),
  PRWRIGHT_SETUP_ALLOW: optionalString,
  PRWRIGHT_SETUP_ALLOW_NETWORKS: optionalString,
  PRWRIGHT_PUBLIC_URL: url("the address users reach this server at, e.g. https://prwright.example.com"),
  LOG_LEVEL: z
    .enum(["debug", "info", "warn", "error"], { error: "must be debug, info, warn or error" })
    .optional(),
  SHUTDOWN_GRACE_MS: int(30_000, 0, 3_600_000, "milliseconds a stopping worker waits for running jobs"),
  PRWRIGHT_MAX_PLAN_STEPS: int(30, 1, 500, "the most model steps a planning run may take"),
  PRWRIGHT_MAX_STEPS: int(50, 1, 1000, "the most model steps an implementing run may take"),
  PRWRIGHT_MAX_COST_USD: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return 5
      const n = Number(v)
      if (!Number.isFinite(n) || n <= 0) {
        ctx.addIssue({
          code: "custom",
          message: `must be a positive number of US dollars (got "${v}"), e.g. 2.5`,
        })
        return z.NEVER
      }
      return n
    }),
  PRWRIGHT_DAILY_LIMIT_USD: z
    .string()
    .optional()
    .transform((v, ctx) => usdLimit(v, ctx)),
  PRWRIGHT_MONTHLY_LIMIT_USD: z
    .string()
    .optional()
    .transform((v, ctx) => usdLimit(v, ctx)),
  PRWRIGHT_MAX_INPUT_TOKENS: int(0, 0, 1_000_000_000, "total input tokens per run; 0 = no limit"),
  PRWRIGHT_MAX_OUTPUT_TOKENS: int(0, 0, 1_000_000_000, "total output tokens per run; 0 = no limit"),
  PRWRIGHT_AGENT_WALL_MS: int(
    45 * 60_000,
    1000,
    86_400_000,
    "wall-clock milliseconds for the agent phase of a run",
  ),
  PRWRIGHT_AGENT_IDLE_MS: int(5 * 60_000, 1000, 86_400_000, "milliseconds the model may stay silent"),
  PRWRIGHT_SETUP_TIMEOUT_MS: int(10 * 60_000, 1000, 86_400_000, "milliseconds the setup command may take"),
  PRWRIGHT_TEST_TIMEOUT_MS: int(10 * 60_000, 1000, 86_400_000, "milliseconds one test run may take"),
  PRWRIGHT_KEEP_FAILED_CHECKOUT_MS: int(
    24 * 3_600_000,
    0,
    30 * 86_400_000,
    "how long a failed run's checkout stays for inspection; 0 removes it at once",
  ),
  PRWRIGHT_GIT_AUTHOR_NAME: optionalString,
  PRWRIGHT_GIT_AUTHOR_EMAIL: optionalString.refine((v) => v === undefined || /^[^\s@]+@[^\s@]+$/.test(v), {
    message: "must be an e-mail address",
  }),
  PRWRIGHT_QUEUE_BACKOFF_MS: int(2000, 1, 600_000, "base delay of the exponential retry backoff"),
  WORKER_CONCURRENCY_COMMENT: int(3, 1, 100, "parallel planning runs per worker"),
  WORKER_CONCURRENCY_AUTO_RESOLVE: int(1, 1, 100, "parallel auto-resolve runs per worker"),
  WORKER_CONCURRENCY_RESOLVE: int(1, 1, 100, "parallel resolve runs per worker"),
  PRWRIGHT_MAX_RUNS_PER_REPO: int(
    DEFAULT_RUN_LIMITS.perRepository,
    0,
    1_000,
    "runs one repository may have active at once, more wait in line (0: no limit)",
  ),
  PRWRIGHT_MAX_RUNS_PER_INSTALLATION: int(
    DEFAULT_RUN_LIMITS.perInstallation,
    0,
    10_000,
    "runs one installation (the account owning the repositories) may have active at once, more wait in line (0: no limit)",
  ),
  PRWRIGHT_QUEUE_KEEP_COMPLETED: keepJobs({ count: 1_000, ageMs: 24 * HOUR }),
  PRWRIGHT_QUEUE_KEEP_FAILED: keepJobs({ count: 5_000, ageMs: 7 * 24 * HOUR }),
  PRWRIGHT_QUEUE_LOCK_MS: int(
    10_000,
    1_000,
    3_600_000,
    "how long a job stays owned by a silent worker before it is retried",
  ),
  PRWRIGHT_PENDING_SWEEP_MS: int(
    60_000,
    1_000,
    86_400_000,
    "age after which a queued run without a job is queued again",
  ),
  JOB_WALL_TIMEOUT_MS_COMMENT: int(
    15 * 60_000,
    0,
    86_400_000,
    "longest a planning attempt may run (0: no limit)",
  ),
  JOB_IDLE_TIMEOUT_MS_COMMENT: int(
    5 * 60_000,
    0,
    86_400_000,
    "longest a planning attempt may go without progress (0: no limit)",
  ),
  JOB_WALL_TIMEOUT_MS_AUTO_RESOLVE: int(
    60 * 60_000,
    0,
    86_400_000,
    "longest an auto-resolve attempt may run (0: no limit)",
  ),
  JOB_IDLE_TIMEOUT_MS_AUTO_RESOLVE: int(
    10 * 60_000,
    0,
    86_400_000,
    "longest an auto-resolve attempt may go without progress (0: no limit)",
  ),
  JOB_WALL_TIMEOUT_MS_RESOLVE: int(
    60 * 60_000,
    0,
    86_400_000,
    "longest a resolve attempt may run (0: no limit)",
  ),
  JOB_IDLE_TIMEOUT_MS_RESOLVE: int(
    10 * 60_000,
    0,
    86_400_000,
    "longest a resolve attempt may go without progress (0: no limit)",
  ),
})

export type LlmProvider = (typeof PROVIDERS)[number]

export interface Config {
  port: number
  host: string
  dataDir: string
  databaseUrl: string
  redisUrl?: string | undefined
  /** set when NEO4J_URI is: runs, events and the other records live in Neo4j instead of DATABASE_URL */
  neo4j?:
    | { uri: string; user?: string | undefined; password?: string | undefined; database?: string | undefined }
    | undefined
  /** PRWRIGHT_SECRET_KEY; unset means a key generated into `<dataDir>/secret.key` on first use */
  secretKey?: string | undefined
  queuePrefix: string
  /** `app` (GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY, PEM text) wins over `token` when both are set */
  github: {
    apiUrl: string
    token?: string | undefined
    app?: { id: string; privateKey: string } | undefined
    webhookSecret?: string | undefined
  }
  llm: {
    provider: LlmProvider
    model?: string | undefined
    baseUrl?: string | undefined
    apiKey?: string | undefined
    /** LLM_REASONING_EFFORT (OpenAI reasoning models, OpenAI-compatible servers that take it) */
    reasoningEffort?: "minimal" | "low" | "medium" | "high" | undefined
    /** LLM_THINKING_BUDGET: Anthropic extended thinking */
    thinkingBudgetTokens?: number | undefined
    /** LLM_OPENAI_API */
    openaiApi?: "responses" | "chat" | undefined
    /** PRWRIGHT_MODEL_PRICES: prices, context windows, reasoning support beside the built-in model table */
    modelTable?: ModelTableOverrides | undefined
    /**
     * a cost cap (the default one too) may run over a model without a price, where it cannot bind:
     * only with PRWRIGHT_ALLOW_UNPRICED=1; token caps still apply
     */
    allowUnpriced: boolean
  }
  apiToken?: string | undefined
  /** bearer token for GET /metrics; unset: /metrics answers only on loopback */
  metricsToken?: string | undefined
  publicUrl?: string | undefined
  logLevel: "debug" | "info" | "warn" | "error"
  shutdownGraceMs: number
  maxPlanSteps: number
  /** limits of one implementing run; .prwright.yml may lower maxSteps and maxCostUsd */
  /** spending limits per repository (US dollars, UTC day/month); unset: none */
  spending: { dailyUsd?: number | undefined; monthlyUsd?: number | undefined }
  agent: {
    maxSteps: number
    maxCostUsd: number
    maxInputTokens?: number | undefined
    maxOutputTokens?: number | undefined
    wallClockMs: number
    idleMs: number
    setupTimeoutMs: number
    testTimeoutMs: number
  }
  sandbox?: "bwrap" | "process" | "docker" | undefined
  /**
   * What setup commands may reach (through the host's egress proxy): registry host names
   * (PRWRIGHT_SETUP_ALLOW) and non-public networks the operator vouches for (PRWRIGHT_SETUP_ALLOW_NETWORKS)
   */
  setupEgress: { allow: string[]; exemptNetworks: string[] }
  keepFailedCheckoutMs: number
  gitAuthor: { name: string; email: string }
  queueBackoffMs: number
  concurrency: { comment: number; "auto-resolve": number; resolve: number; ask: number }
  /** finished jobs kept by the queue (Redis or the embedded table); the run store keeps all history */
  queueRetention: { completed: KeepJobs; failed: KeepJobs }
  /** active runs per repository / installation; more wait in line (0: no limit) */
  runLimits: RunLimits
  /** job lock / lease duration: a killed worker's job is retried about this long after it died */
  queueLockMs: number
  /** a run still pending after this long without a queue job is queued again */
  pendingSweepMs: number
  /** per worker type; 0 means no limit */
  timeouts: Record<"comment" | "auto-resolve" | "resolve" | "ask", { wallMs: number; idleMs: number }>
  /** every secret value, so logs and errors can be scrubbed of them */
  secrets: string[]
}

const passwordOf = (value: string | undefined): string | undefined => {
  if (!value || !URL.canParse(value)) return undefined
  const password = new URL(value).password
  return password ? decodeURIComponent(password) : undefined
}

/**
 * GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY together, or neither. The key is PEM text (env files often hold
 * it on one line with literal `\n`) or the path of the .pem file; it is parsed here so a bad key stops
 * start-up rather than the first job.
 */
const githubApp = (
  appId: string | undefined,
  keyValue: string | undefined,
  cwd: string,
): { id: string; privateKey: string } | undefined => {
  if (!appId && !keyValue) return undefined
  if (!appId)
    throw new ConfigError(
      'invalid configuration: GITHUB_APP_ID is not set but GITHUB_APP_PRIVATE_KEY is: set GITHUB_APP_ID to the app\'s id (its settings page, "App ID"), or unset GITHUB_APP_PRIVATE_KEY',
    )
  if (!keyValue)
    throw new ConfigError(
      "invalid configuration: GITHUB_APP_PRIVATE_KEY is not set but GITHUB_APP_ID is: set it to the app's private key (PEM text or the path of the .pem file), or unset GITHUB_APP_ID",
    )
  if (!/^(\d+|Iv[0-9A-Za-z.]+)$/.test(appId))
    throw new ConfigError(
      'invalid configuration: GITHUB_APP_ID must be the app\'s numeric id (its settings page, "App ID"), e.g. 123456',
    )
  let pem: string
  if (keyValue.includes("-----BEGIN")) pem = keyValue.replace(/\\r/g, "").replace(/\\n/g, "\n")
  else {
    const file = path.resolve(cwd, keyValue)
    try {
      pem = readFileSync(file, "utf8")
    } catch {
      // the value may be a key pasted without its PEM armour: never echo it
      throw new ConfigError(
        "invalid configuration: GITHUB_APP_PRIVATE_KEY is neither PEM text (-----BEGIN … PRIVATE KEY-----) nor the path of a readable file: paste the .pem GitHub generated for the app, or give its path",
      )
    }
  }
  try {
    const key = createPrivateKey({ key: pem, format: "pem" })
    if (key.asymmetricKeyType !== "rsa") throw new Error("not RSA")
  } catch {
    throw new ConfigError(
      "invalid configuration: GITHUB_APP_PRIVATE_KEY is not a valid RSA private key in PEM form: use the .pem file from the app's settings (Private keys → Generate a private key), as text or as its path",
    )
  }
  return { id: appId, privateKey: pem.trim() }
}

/** Reads `.env` (if present) without overriding variables that are already set. */
export const loadDotEnv = (file = ".env"): void => {
  if (existsSync(file)) process.loadEnvFile(file)
}

/** PRWRIGHT_MODEL_PRICES: the JSON itself, or the path of a file holding it. */
const modelTableOf = (value: string, cwd: string): ModelTableOverrides => {
  let text = value
  let source = "PRWRIGHT_MODEL_PRICES"
  if (!value.trimStart().startsWith("{")) {
    const file = path.resolve(cwd, value)
    if (!existsSync(file))
      throw new ConfigError(
        `PRWRIGHT_MODEL_PRICES is neither JSON nor an existing file (${file}): set it to e.g. {"my-model": {"input": 0.5, "output": 1.5}} or to the path of a file with that JSON`,
      )
    text = readFileSync(file, "utf8")
    source = `PRWRIGHT_MODEL_PRICES (${file})`
  }
  try {
    return parseModelTableOverrides(text, source)
  } catch (error) {
    throw new ConfigError((error as Error).message)
  }
}

export const loadConfig = (
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): Config => {
  const parsed = EnvSchema.safeParse(env)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`)
    throw new ConfigError(`invalid configuration: ${lines.join("; ")}`)
  }
  const e = parsed.data
  const app = githubApp(e.GITHUB_APP_ID, e.GITHUB_APP_PRIVATE_KEY, cwd)
  const dataDir = path.resolve(cwd, e.PRWRIGHT_DATA_DIR ?? ".prwright")
  const llmKey =
    e.LLM_API_KEY ??
    (e.LLM_PROVIDER === "anthropic"
      ? e.ANTHROPIC_API_KEY
      : e.LLM_PROVIDER === "openai"
        ? e.OPENAI_API_KEY
        : undefined)
  const secrets = [
    e.GITHUB_TOKEN,
    e.GITHUB_APP_PRIVATE_KEY,
    app?.privateKey,
    e.GITHUB_WEBHOOK_SECRET,
    e.LLM_API_KEY,
    e.OPENAI_API_KEY,
    e.ANTHROPIC_API_KEY,
    e.PRWRIGHT_API_TOKEN,
    e.PRWRIGHT_METRICS_TOKEN,
    e.PRWRIGHT_SECRET_KEY,
    e.NEO4J_PASSWORD,
    passwordOf(e.DATABASE_URL),
    passwordOf(e.REDIS_URL),
  ].filter((s): s is string => typeof s === "string" && s.length >= 4)

  return {
    port: e.PORT,
    host: e.HOST ?? "0.0.0.0",
    dataDir,
    databaseUrl: e.DATABASE_URL ?? `sqlite:${path.join(dataDir, "prwright.db")}`,
    redisUrl: e.REDIS_URL,
    neo4j: e.NEO4J_URI
      ? { uri: e.NEO4J_URI, user: e.NEO4J_USER, password: e.NEO4J_PASSWORD, database: e.NEO4J_DATABASE }
      : undefined,
    secretKey: e.PRWRIGHT_SECRET_KEY,
    queuePrefix: e.PRWRIGHT_QUEUE_PREFIX ?? "prwright",
    github: {
      apiUrl: (e.GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, ""),
      token: e.GITHUB_TOKEN,
      app,
      webhookSecret: e.GITHUB_WEBHOOK_SECRET,
    },
    llm: {
      provider: e.LLM_PROVIDER,
      model: e.LLM_MODEL,
      baseUrl: e.LLM_BASE_URL,
      apiKey: llmKey,
      reasoningEffort: e.LLM_REASONING_EFFORT,
      thinkingBudgetTokens: e.LLM_THINKING_BUDGET > 0 ? e.LLM_THINKING_BUDGET : undefined,
      openaiApi: e.LLM_OPENAI_API,
      modelTable: e.PRWRIGHT_MODEL_PRICES ? modelTableOf(e.PRWRIGHT_MODEL_PRICES, cwd) : undefined,
      allowUnpriced: e.PRWRIGHT_ALLOW_UNPRICED === "1" || e.PRWRIGHT_ALLOW_UNPRICED === "true",
    },
    apiToken: e.PRWRIGHT_API_TOKEN,
    metricsToken: e.PRWRIGHT_METRICS_TOKEN,
    publicUrl: e.PRWRIGHT_PUBLIC_URL?.replace(/\/+$/, ""),
    logLevel: e.LOG_LEVEL ?? "info",
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    maxPlanSteps: e.PRWRIGHT_MAX_PLAN_STEPS,
    spending: {
      dailyUsd: e.PRWRIGHT_DAILY_LIMIT_USD,
      monthlyUsd: e.PRWRIGHT_MONTHLY_LIMIT_USD,
    },
    agent: {
      maxSteps: e.PRWRIGHT_MAX_STEPS,
      maxCostUsd: e.PRWRIGHT_MAX_COST_USD,
      maxInputTokens: e.PRWRIGHT_MAX_INPUT_TOKENS > 0 ? e.PRWRIGHT_MAX_INPUT_TOKENS : undefined,
      maxOutputTokens: e.PRWRIGHT_MAX_OUTPUT_TOKENS > 0 ? e.PRWRIGHT_MAX_OUTPUT_TOKENS : undefined,
      wallClockMs: e.PRWRIGHT_AGENT_WALL_MS,
      idleMs: e.PRWRIGHT_AGENT_IDLE_MS,
      setupTimeoutMs: e.PRWRIGHT_SETUP_TIMEOUT_MS,
      testTimeoutMs: e.PRWRIGHT_TEST_TIMEOUT_MS,
    },
    sandbox: e.PRWRIGHT_SANDBOX,

    setupEgress: {
      allow: parseSetupAllow(e.PRWRIGHT_SETUP_ALLOW),
      exemptNetworks: parseSetupNetworks(e.PRWRIGHT_SETUP_ALLOW_NETWORKS),
    },
    keepFailedCheckoutMs: e.PRWRIGHT_KEEP_FAILED_CHECKOUT_MS,
    gitAuthor: {
      name: e.PRWRIGHT_GIT_AUTHOR_NAME ?? "prwright[bot]",
      email: e.PRWRIGHT_GIT_AUTHOR_EMAIL ?? "prwright-bot@users.noreply.github.com",
    },
    queueBackoffMs: e.PRWRIGHT_QUEUE_BACKOFF_MS,
    concurrency: {
      comment: e.WORKER_CONCURRENCY_COMMENT,
      "auto-resolve": e.WORKER_CONCURRENCY_AUTO_RESOLVE,
      resolve: e.WORKER_CONCURRENCY_RESOLVE,
      // questions are read-only runs like plans: they share the comment worker's settings
      ask: e.WORKER_CONCURRENCY_COMMENT,
    },
    queueRetention: { completed: e.PRWRIGHT_QUEUE_KEEP_COMPLETED, failed: e.PRWRIGHT_QUEUE_KEEP_FAILED },
    runLimits: {
      perRepository: e.PRWRIGHT_MAX_RUNS_PER_REPO,
      perInstallation: e.PRWRIGHT_MAX_RUNS_PER_INSTALLATION,
    },
    queueLockMs: e.PRWRIGHT_QUEUE_LOCK_MS,
    pendingSweepMs: e.PRWRIGHT_PENDING_SWEEP_MS,
    timeouts: {
      comment: { wallMs: e.JOB_WALL_TIMEOUT_MS_COMMENT, idleMs: e.JOB_IDLE_TIMEOUT_MS_COMMENT },
      "auto-resolve": {
        wallMs: e.JOB_WALL_TIMEOUT_MS_AUTO_RESOLVE,
        idleMs: e.JOB_IDLE_TIMEOUT_MS_AUTO_RESOLVE,
      },
      resolve: { wallMs: e.JOB_WALL_TIMEOUT_MS_RESOLVE, idleMs: e.JOB_IDLE_TIMEOUT_MS_RESOLVE },
      ask: { wallMs: e.JOB_WALL_TIMEOUT_MS_COMMENT, idleMs: e.JOB_IDLE_TIMEOUT_MS_COMMENT },
    },
    secrets,
  }
}
