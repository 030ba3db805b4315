#!/usr/bin/env node
// Runs the compiled CLI. `npm start` builds first when needed; from a git checkout run `npm run build`.
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

const entry = new URL("../dist/entrypoints/cli.js", import.meta.url)
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("prwright: dist/ is missing: run `npm run build` (npm start does it for you)\n")
  process.exit(1)
}
await import(entry.href)
