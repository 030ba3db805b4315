// `npm start` and `npm ci` (package.json "prepare") run this: compile TypeScript when dist/ is missing or older than any source file,
// and build the web UI (Vite, into dist/ui) when it is missing or older than ui/ or the code it shares.
// `--ui` checks the UI only (the browser tests run the server from src/ but need the built UI).
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync, statSync } from "node:fs"
import path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const uiOnly = process.argv.includes("--ui")

const newest = (dir) => {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs)
  }
  return latest
}
// Where the sources or the compiler are not there (a Docker layer that installs dependencies first, a
// production install without devDependencies), there is nothing to build here.
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")
if (
  !existsSync(path.join(root, "src")) ||
  !existsSync(path.join(root, "tsconfig.build.json")) ||
  !existsSync(tsc)
)
  process.exit(0)

const builtAt = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0)
const packageJson = statSync(path.join(root, "package.json")).mtimeMs

if (
  !uiOnly &&
  builtAt(path.join(root, "dist", "entrypoints", "cli.js")) <
    Math.max(newest(path.join(root, "src")), packageJson)
) {
  process.stderr.write("prwright: building (tsc)…\n")
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" })
}

// the UI imports its types and the transcript model from src/entrypoints
const uiSources = Math.max(
  newest(path.join(root, "ui")),
  newest(path.join(root, "src", "entrypoints")),
  packageJson,
)
if (existsSync(path.join(root, "ui")) && builtAt(path.join(root, "dist", "ui", "index.html")) < uiSources) {
  const vite = path.join(root, "node_modules", "vite", "bin", "vite.js")
  if (!existsSync(vite)) {
    process.stderr.write(
      "prwright: the web UI is not built and Vite is not installed (npm ci installs it); serving the API only\n",
    )
  } else {
    process.stderr.write("prwright: building the web UI (vite)…\n")
    execFileSync(process.execPath, [vite, "build", "--config", "ui/vite.config.ts", "--logLevel", "warn"], {
      cwd: root,
      stdio: "inherit",
      // a production React build even when started from a test runner (vitest sets NODE_ENV=test)
      env: { ...process.env, NODE_ENV: "production" },
    })
  }
}
