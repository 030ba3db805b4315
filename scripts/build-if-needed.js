// `npm start` runs this first: compile TypeScript when dist/ is missing or older than any source file.
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync, statSync } from "node:fs"
import path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const stamp = path.join(root, "dist", "entrypoints", "cli.js")

const newest = (dir) => {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs)
  }
  return latest
}

// `npm ci` runs this too (package.json "prepare"), so a fresh clone has a runnable prwright. Where the
// sources or the compiler are not there (a Docker layer that installs dependencies first, a production
// install without devDependencies), there is nothing to build here.
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")
if (
  !existsSync(path.join(root, "src")) ||
  !existsSync(path.join(root, "tsconfig.build.json")) ||
  !existsSync(tsc)
)
  process.exit(0)

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0
const sources = Math.max(newest(path.join(root, "src")), statSync(path.join(root, "package.json")).mtimeMs)
if (built < sources) {
  process.stderr.write("prwright: building (tsc)…\n")
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit",
  })
}
