import { parse as parseYaml } from "yaml"
import { z } from "zod"
import { ValidationError } from "#domain/errors.js"
import type { Checkout } from "./ports/workspace.js"

/**
 * How to set up and test a repository: `.prwright.yml` when present, else detected from its files.
 * Detection prefers commands that do not rewrite lockfiles, so setup leaves the tree as it found it
 * where it can (and the commit holds only the model's edits regardless).
 */
export const RepoFileConfigSchema = z.strictObject({
  setup: z.string().min(1).optional(),
  test: z.string().min(1).optional(),
  lint: z.string().min(1).optional(),
  branchPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._/-]+$/, "may hold letters, digits, '.', '_', '-' and '/'")
    .optional(),
  maxSteps: z.number().int().min(1).max(500).optional(),
  maxCostUsd: z.number().positive().max(1000).optional(),
  /** repair failing CI on prwright's pull requests (read from the default branch only) */
  fixCi: z.boolean().optional(),
  /** CI repair attempts per pull request (default 2) */
  fixCiAttempts: z.number().int().min(1).max(10).optional(),
})
export type RepoFileConfig = z.infer<typeof RepoFileConfigSchema>

export interface RepoConfig {
  setup?: string
  test?: string
  lint?: string
  branchPrefix: string
  maxSteps?: number
  maxCostUsd?: number
  /** where each command came from, for the PR body and the event log */
  source: { setup: string; test: string }
}

const exists = async (checkout: Checkout, path: string) => (await checkout.stat(path))?.kind === "file"

const readJson = async (checkout: Checkout, path: string): Promise<Record<string, unknown> | undefined> => {
  try {
    return JSON.parse(await checkout.readFile(path)) as Record<string, unknown>
  } catch {
    return undefined
  }
}

const detectNode = async (checkout: Checkout): Promise<{ setup?: string; test?: string } | undefined> => {
  const pkg = await readJson(checkout, "package.json")
  if (!pkg) return undefined
  const scripts = (pkg.scripts ?? {}) as Record<string, string>
  const test =
    scripts.test && !/no test specified/.test(scripts.test)
      ? (await exists(checkout, "pnpm-lock.yaml"))
        ? "pnpm test"
        : (await exists(checkout, "yarn.lock"))
          ? "yarn test"
          : "npm test"
      : undefined
  const deps = { ...(pkg.dependencies as object), ...(pkg.devDependencies as object) }
  const hasDeps = Object.keys(deps).length > 0
  let setup: string | undefined
  if (await exists(checkout, "package-lock.json")) setup = "npm ci --no-audit --no-fund"
  else if (await exists(checkout, "pnpm-lock.yaml")) setup = "pnpm install --frozen-lockfile"
  else if (await exists(checkout, "yarn.lock")) setup = "yarn install --frozen-lockfile"
  else if (hasDeps) setup = "npm install --no-package-lock --no-audit --no-fund"
  return { ...(setup ? { setup } : {}), ...(test ? { test } : {}) }
}

const detectPython = async (checkout: Checkout): Promise<{ setup?: string; test?: string } | undefined> => {
  const pyproject = (await exists(checkout, "pyproject.toml")) || (await exists(checkout, "setup.py"))
  const requirements = await exists(checkout, "requirements.txt")
  if (!pyproject && !requirements) return undefined
  const setup = [requirements ? "pip install -r requirements.txt" : "", pyproject ? "pip install -e ." : ""]
    .filter(Boolean)
    .join(" && ")
  return { setup, test: "python -m pytest -q" }
}

const detectOther = async (checkout: Checkout): Promise<{ setup?: string; test?: string } | undefined> => {
  if (await exists(checkout, "Cargo.toml")) return { test: "cargo test" }
  if (await exists(checkout, "go.mod")) return { test: "go test ./..." }
  if (await exists(checkout, "Makefile")) {
    const makefile = await checkout.readFile("Makefile")
    if (/^test\s*:/m.test(makefile)) return { test: "make test" }
  }
  return undefined
}

/** Parses `.prwright.yml` text; errors name the field and the fix. */
export const parseRepoFileConfig = (text: string): RepoFileConfig => {
  let raw: unknown
  try {
    raw = parseYaml(text) ?? {}
  } catch (error) {
    throw new ValidationError(`.prwright.yml is not valid YAML: ${(error as Error).message}`, [
      { field: ".prwright.yml", message: "not valid YAML" },
    ])
  }
  const parsed = RepoFileConfigSchema.safeParse(raw)
  if (parsed.success) return parsed.data
  const issues = parsed.error.issues.map((issue) => ({
    field: `.prwright.yml ${issue.path.join(".") || (issue.code === "unrecognized_keys" ? issue.keys.join(",") : "")}`,
    message: issue.message,
  }))
  throw new ValidationError(
    `.prwright.yml is invalid: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")} (allowed keys: setup, test, lint, branchPrefix, maxSteps, maxCostUsd, fixCi, fixCiAttempts)`,
    issues,
  )
}

/** `.prwright.yml` is a few lines; anything larger is refused before it is read or parsed. */
export const MAX_REPO_CONFIG_BYTES = 64 * 1024

/**
 * Reads the repository's own files through the checkout only: its reads are confined to the checkout,
 * never follow a symlink out of it, refuse FIFOs, sockets and devices, and are capped in size.
 */
const readRepoFileConfig = async (checkout: Checkout): Promise<RepoFileConfig | undefined> => {
  const info = await checkout.stat(".prwright.yml")
  if (!info) return undefined
  if (info.kind !== "file" || info.size > MAX_REPO_CONFIG_BYTES)
    throw new ValidationError(
      `.prwright.yml must be a regular file of at most ${MAX_REPO_CONFIG_BYTES / 1024} KiB (it is ${info.kind === "file" ? `${info.size} bytes` : "a directory"})`,
      [{ field: ".prwright.yml", message: "not a small regular file" }],
    )
  return parseRepoFileConfig(await checkout.readFile(".prwright.yml"))
}

export const loadRepoConfig = async (checkout: Checkout): Promise<RepoConfig> => {
  const file = await readRepoFileConfig(checkout)
  const detected =
    (await detectNode(checkout)) ?? (await detectPython(checkout)) ?? (await detectOther(checkout)) ?? {}
  const setup = file?.setup ?? detected.setup
  const test = file?.test ?? detected.test
  return {
    ...(setup ? { setup } : {}),
    ...(test ? { test } : {}),
    ...(file?.lint ? { lint: file.lint } : {}),
    branchPrefix: file?.branchPrefix ?? "prwright/",
    ...(file?.maxSteps ? { maxSteps: file.maxSteps } : {}),
    ...(file?.maxCostUsd ? { maxCostUsd: file.maxCostUsd } : {}),
    source: {
      setup: file?.setup ? ".prwright.yml" : setup ? "detected" : "none",
      test: file?.test ? ".prwright.yml" : test ? "detected" : "none",
    },
  }
}
