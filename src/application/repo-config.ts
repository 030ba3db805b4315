import { parse as parseYaml } from "yaml"
import { z } from "zod"
import { ValidationError } from "#domain/errors.js"
import type { Checkout } from "./ports/workspace.js"

/**
 * How to set up and test a repository: `.prwright.yml` when present, else detected from its files
 * (Node, Python, Go, Rust, Maven, Ruby, make). Setup runs on the setup network with the run's
 * persistent HOME, so installs land there (a venv, Go's module cache, ~/.cargo, ~/.m2, the bundle)
 * and the offline phases after it can build and test. Detection prefers commands that do not
 * rewrite lockfiles; the commit holds only the agent phase's work regardless.
 */
export const RepoFileConfigSchema = z.strictObject({
  setup: z.string().min(1).optional(),
  test: z.string().min(1).optional(),
  lint: z.string().min(1).optional(),
  branchPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._/-]+$/, "may hold letters, digits, '.', '_', '-' and '/'")
    .optional(),
  // any positive value parses: the run takes min(operator, repository), so a large one changes nothing
  maxSteps: z.number().int().min(1).optional(),
  maxCostUsd: z.number().positive().optional(),
  /** repair failing CI on prwright's pull requests (read from the default branch only) */
  fixCi: z.boolean().optional(),
  /** CI repair attempts per pull request (default 2) */
  fixCiAttempts: z.number().int().min(1).max(10).optional(),
})
export type RepoFileConfig = z.infer<typeof RepoFileConfigSchema>

export type Ecosystem = "node" | "python" | "go" | "rust" | "maven" | "ruby" | "make"

export interface RepoConfig {
  setup?: string
  test?: string
  lint?: string
  branchPrefix: string
  /** what the repository asks for; the run applies min(operator, repository) */
  maxSteps?: number
  maxCostUsd?: number
  fixCi: boolean
  /** the toolchains detected from the repository's files (whatever the commands' source) */
  ecosystems: Ecosystem[]
  /** where each command came from, for the PR body and the event log */
  source: { setup: string; test: string }
}

interface Detected {
  ecosystem: Ecosystem
  setup?: string
  test?: string
}

const exists = async (checkout: Checkout, path: string) => (await checkout.stat(path))?.kind === "file"

const readJson = async (checkout: Checkout, path: string): Promise<Record<string, unknown> | undefined> => {
  try {
    return JSON.parse(await checkout.readFile(path)) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/** The `test` script of package.json, when it is a real one (not npm's placeholder). */
export const nodeTestScript = (pkg: Record<string, unknown> | undefined): string | undefined => {
  const scripts = (pkg?.scripts ?? {}) as Record<string, unknown>
  const test = scripts.test
  return typeof test === "string" && !/no test specified/.test(test) ? test : undefined
}

const detectNode = async (checkout: Checkout): Promise<Detected | undefined> => {
  const pkg = await readJson(checkout, "package.json")
  if (!pkg) return undefined
  const test = nodeTestScript(pkg)
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
  return { ecosystem: "node", ...(setup ? { setup } : {}), ...(test ? { test } : {}) }
}

/** A venv in the run's HOME ($VIRTUAL_ENV, see run-environment.ts): `uv` when present, else `python3 -m venv`. */
export const PYTHON_VENV =
  'if command -v uv >/dev/null 2>&1; then [ -x "$VIRTUAL_ENV/bin/python" ] || uv venv -q "$VIRTUAL_ENV"; pip() { uv pip "$@"; }; else [ -x "$VIRTUAL_ENV/bin/python" ] || python3 -m venv "$VIRTUAL_ENV"; fi'

const detectPython = async (checkout: Checkout): Promise<Detected | undefined> => {
  const project = (await exists(checkout, "pyproject.toml")) || (await exists(checkout, "setup.py"))
  const requirements = await exists(checkout, "requirements.txt")
  const devRequirements = await exists(checkout, "requirements-dev.txt")
  if (!project && !requirements) return undefined
  const setup = [
    PYTHON_VENV,
    requirements ? "pip install -q -r requirements.txt" : "",
    devRequirements ? "pip install -q -r requirements-dev.txt" : "",
    project ? "pip install -q -e ." : "",
    // the test runner itself, unless the project's own requirements brought it
    '{ python -c "import pytest" 2>/dev/null || pip install -q pytest; }',
  ]
    .filter(Boolean)
    .join(" && ")
  return { ecosystem: "python", setup, test: "python -m pytest -q" }
}

const detectOther = async (checkout: Checkout): Promise<Detected | undefined> => {
  if (await exists(checkout, "go.mod"))
    return { ecosystem: "go", setup: "go mod download", test: "go test ./..." }
  if (await exists(checkout, "Cargo.toml")) {
    return { ecosystem: "rust", setup: "cargo fetch", test: "cargo test" }
  }
  if (await exists(checkout, "pom.xml")) {
    // go-offline misses the test runner's provider, which surefire resolves only when tests run: one
    // test run during setup (its failures ignored) fetches it, so the offline runs after it can test
    return {
      ecosystem: "maven",
      setup: "mvn -B -q dependency:go-offline test -Dmaven.test.failure.ignore=true",
      test: "mvn -B -o -q test",
    }
  }
  if (await exists(checkout, "Gemfile")) {
    const rspec = (await checkout.stat("spec"))?.kind === "dir"
    return {
      ecosystem: "ruby",
      setup: "bundle install",
      test: rspec ? "bundle exec rspec" : "bundle exec rake test",
    }
  }
  if (await exists(checkout, "Makefile")) {
    const makefile = await checkout.readFile("Makefile")
    if (/^test\s*:/m.test(makefile)) return { ecosystem: "make", test: "make test" }
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
    (await detectNode(checkout)) ?? (await detectPython(checkout)) ?? (await detectOther(checkout))
  const setup = file?.setup ?? detected?.setup
  const test = file?.test ?? detected?.test
  return {
    ...(setup ? { setup } : {}),
    ...(test ? { test } : {}),
    ...(file?.lint ? { lint: file.lint } : {}),
    branchPrefix: file?.branchPrefix ?? "prwright/",
    ...(file?.maxSteps ? { maxSteps: file.maxSteps } : {}),
    ...(file?.maxCostUsd ? { maxCostUsd: file.maxCostUsd } : {}),
    fixCi: file?.fixCi ?? false,
    ecosystems: detected ? [detected.ecosystem] : [],
    source: {
      setup: file?.setup ? ".prwright.yml" : setup ? "detected" : "none",
      test: file?.test ? ".prwright.yml" : test ? "detected" : "none",
    },
  }
}
