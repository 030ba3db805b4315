import { existsSync } from "node:fs"
import path from "node:path"
import { z } from "zod"
import { ConfigError } from "#domain/errors.js"

/**
 * The environment, validated once at start-up. A bad value stops start-up with one line per
 * variable that names it and the fix. Secrets stay here and in the adapters built from them.
 */

const PROVIDERS = ["openai", "anthropic", "openai-compatible"] as const
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
  OPENAI_API_KEY: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  PRWRIGHT_API_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, {
    message: "must be at least 16 characters: use a long random value, e.g. `openssl rand -hex 24`",
  }),
  PRWRIGHT_SECRET_KEY: optionalString,
  PRWRIGHT_SANDBOX: z.enum(SANDBOXES, { error: `must be one of ${SANDBOXES.join(", ")}` }).optional(),
  PRWRIGHT_PUBLIC_URL: url("the address users reach this server at, e.g. https://prwright.example.com"),
  LOG_LEVEL: z
    .enum(["debug", "info", "warn", "error"], { error: "must be debug, info, warn or error" })
    .optional(),
  SHUTDOWN_GRACE_MS: int(30_000, 0, 3_600_000, "milliseconds a stopping worker waits for running jobs"),
  PRWRIGHT_MAX_PLAN_STEPS: int(30, 1, 500, "the most model steps a planning run may take"),
  PRWRIGHT_QUEUE_BACKOFF_MS: int(2000, 1, 600_000, "base delay of the exponential retry backoff"),
  WORKER_CONCURRENCY_COMMENT: int(3, 1, 100, "parallel planning runs per worker"),
  WORKER_CONCURRENCY_AUTO_RESOLVE: int(1, 1, 100, "parallel auto-resolve runs per worker"),
  WORKER_CONCURRENCY_RESOLVE: int(1, 1, 100, "parallel resolve runs per worker"),
})

export type LlmProvider = (typeof PROVIDERS)[number]

export interface Config {
  port: number
  host: string
  dataDir: string
  databaseUrl: string
  redisUrl?: string
  queuePrefix: string
  github: { apiUrl: string; token?: string; webhookSecret?: string }
  llm: { provider: LlmProvider; model?: string; baseUrl?: string; apiKey?: string }
  apiToken?: string
  publicUrl?: string
  logLevel: "debug" | "info" | "warn" | "error"
  shutdownGraceMs: number
  maxPlanSteps: number
  queueBackoffMs: number
  concurrency: { comment: number; "auto-resolve": number; resolve: number }
  /** every secret value, so logs and errors can be scrubbed of them */
  secrets: string[]
}

const passwordOf = (value: string | undefined): string | undefined => {
  if (!value || !URL.canParse(value)) return undefined
  const password = new URL(value).password
  return password ? decodeURIComponent(password) : undefined
}

/** Reads `.env` (if present) without overriding variables that are already set. */
export const loadDotEnv = (file = ".env"): void => {
  if (existsSync(file)) process.loadEnvFile(file)
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
    e.GITHUB_WEBHOOK_SECRET,
    e.LLM_API_KEY,
    e.OPENAI_API_KEY,
    e.ANTHROPIC_API_KEY,
    e.PRWRIGHT_API_TOKEN,
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
    ...(e.REDIS_URL ? { redisUrl: e.REDIS_URL } : {}),
    queuePrefix: e.PRWRIGHT_QUEUE_PREFIX ?? "prwright",
    github: {
      apiUrl: (e.GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, ""),
      ...(e.GITHUB_TOKEN ? { token: e.GITHUB_TOKEN } : {}),
      ...(e.GITHUB_WEBHOOK_SECRET ? { webhookSecret: e.GITHUB_WEBHOOK_SECRET } : {}),
    },
    llm: {
      provider: e.LLM_PROVIDER,
      ...(e.LLM_MODEL ? { model: e.LLM_MODEL } : {}),
      ...(e.LLM_BASE_URL ? { baseUrl: e.LLM_BASE_URL } : {}),
      ...(llmKey ? { apiKey: llmKey } : {}),
    },
    ...(e.PRWRIGHT_API_TOKEN ? { apiToken: e.PRWRIGHT_API_TOKEN } : {}),
    ...(e.PRWRIGHT_PUBLIC_URL ? { publicUrl: e.PRWRIGHT_PUBLIC_URL.replace(/\/+$/, "") } : {}),
    logLevel: e.LOG_LEVEL ?? "info",
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    maxPlanSteps: e.PRWRIGHT_MAX_PLAN_STEPS,
    queueBackoffMs: e.PRWRIGHT_QUEUE_BACKOFF_MS,
    concurrency: {
      comment: e.WORKER_CONCURRENCY_COMMENT,
      "auto-resolve": e.WORKER_CONCURRENCY_AUTO_RESOLVE,
      resolve: e.WORKER_CONCURRENCY_RESOLVE,
    },
    secrets,
  }
}
