#!/usr/bin/env node
// The layer table of ARCHITECTURE.md, checked from the imports (run by `npm run check`).
//
//   domain       imports nothing outside src/domain (no package either: no I/O, no framework)
//   application  imports no adapter, main or entrypoint; a port (application/ports/) imports only
//                domain and other ports, so an adapter that imports a port reaches nothing else
//   adapters     import no entrypoint or main; from the application only its ports
//                (src/application/ports/); no sibling adapter: a file in adapters/<port>/<technology>/
//                imports only its own folder and the shared modules of its port, the files directly
//                in adapters/<port>/ (for example adapters/queue/job-timeouts.ts); where a port's
//                adapters are single files (events, sandbox: `technologyFiles`), those do not import
//                each other
//   entrypoints  import no adapter (src/main builds them)
//   main         may import everything (it is the composition root)
//
// and no import circle inside src/ (type-only imports count: a circle of types is still a knot).
// Every import form is read (static, `import type`, `export … from`, dynamic `import()`), through the
// TypeScript scanner, so comments and strings do not confuse it.
// Usage: node scripts/check-layers.js [srcDir]   exit 1 and one line per offence when a rule is broken.

import { readdirSync, readFileSync, statSync } from "node:fs"
import path from "node:path"
import ts from "typescript"

const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, "..", "src"))

/**
 * Imports the rules allow for now, each with the reason and who removes it. Keep this short: an entry
 * here is a debt with a name on it, not a way to silence the check.
 */
const allowed = [
  // none
]

/** Circles known and being taken apart elsewhere; the check fails on any other circle. */
const knownCircles = [
  // none: resolve-issue became named phases without a circle
]

function sourceFiles(dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full))
    else if (/\.tsx?$/.test(name) && !name.endsWith(".d.ts")) out.push(full)
  }
  return out
}

const aliases = ["domain", "application", "adapters", "entrypoints", "main"]

/** The file (relative to src/, with .ts) an import names, or undefined for a package or node builtin. */
function resolve(fromFile, specifier) {
  let target
  if (specifier.startsWith("#")) {
    const [alias, ...rest] = specifier.slice(1).split("/")
    if (!aliases.includes(alias)) return { unknownAlias: specifier }
    target = path.join(root, alias, ...rest)
  } else if (specifier.startsWith(".")) {
    target = path.resolve(path.dirname(fromFile), specifier)
  } else {
    return undefined
  }
  const relative = path.relative(root, target).split(path.sep).join("/")
  return { file: relative.replace(/\.js$/, ".ts").replace(/\.jsx$/, ".tsx") }
}

function layerOf(file) {
  return file.split("/")[0]
}

/** Why `from` may not import `to` (paths relative to src/), or undefined when it may. */
function offence(from, to, specifier) {
  const fromLayer = layerOf(from)
  if (to === undefined) {
    if (fromLayer === "domain") return `domain imports the package "${specifier}": domain imports nothing`
    return undefined
  }
  const toLayer = layerOf(to)
  if (
    from.startsWith("application/ports/") &&
    toLayer === "application" &&
    !to.startsWith("application/ports/")
  )
    return "a port imports application code: a port holds what its users and adapters share, nothing more"
  if (fromLayer === toLayer && fromLayer !== "adapters") return undefined
  switch (fromLayer) {
    case "domain":
      return "domain imports nothing outside src/domain"
    case "application":
      if (["adapters", "main", "entrypoints"].includes(toLayer))
        return `application imports ${toLayer}: it depends on ports, and src/main wires the adapters`
      return undefined
    case "adapters": {
      if (toLayer === "entrypoints" || toLayer === "main") return `an adapter imports ${toLayer}`
      if (toLayer === "application") {
        if (to.startsWith("application/ports/")) return undefined
        return "an adapter imports application code that is not a port (move it to the port, or keep it in the application)"
      }
      if (toLayer !== "adapters") return undefined
      return siblingAdapterOffence(from, to)
    }
    case "entrypoints":
      if (toLayer === "adapters") return "an entrypoint imports an adapter: get it from src/main"
      return undefined
    default:
      return undefined
  }
}

/**
 * Where a port's adapters are single files beside their shared helpers (no technology folders), the
 * files that are one technology each: they may share the helpers, not each other.
 */
const technologyFiles = {
  events: ["memory-event-bus.ts", "redis-event-bus.ts"],
  sandbox: ["bwrap-sandbox.ts", "process-sandbox.ts"],
}

/** adapters/<port>/<technology>/… may import its own technology folder and adapters/<port>/*.ts only. */
function siblingAdapterOffence(from, to) {
  const [, fromPort, fromTech] = from.split("/")
  const toParts = to.split("/")
  const [, toPort] = toParts
  const fromIsShared = from.split("/").length === 3 // adapters/<port>/<file>.ts
  const toIsShared = toParts.length === 3
  if (fromPort !== toPort) return `an adapter of ${fromPort} imports an adapter of ${toPort}`
  // adapters/demo is one piece: the stand-ins for GitHub and the model that `prwright demo` serves
  if (fromPort === "demo") return undefined
  const technologies = technologyFiles[fromPort] ?? []
  if (fromIsShared && toIsShared && technologies.includes(fromTech) && technologies.includes(toParts[2]))
    return `the ${fromTech} adapter imports its sibling ${toParts[2]}: move the shared part to its own file`
  if (toIsShared) return undefined
  if (fromIsShared) return `a shared ${fromPort} module imports the ${toParts[2]} adapter`
  if (toParts[2] === fromTech) return undefined
  return `the ${fromTech} adapter imports its sibling ${toParts[2]}: move the shared part to adapters/${fromPort}/ or to the port`
}

const files = sourceFiles(root)
const graph = new Map()
const problems = []
for (const full of files) {
  const from = path.relative(root, full).split(path.sep).join("/")
  const text = readFileSync(full, "utf8")
  const { importedFiles } = ts.preProcessFile(text, true, true)
  const edges = new Set()
  for (const { fileName: specifier } of importedFiles) {
    const resolved = resolve(full, specifier)
    if (resolved?.unknownAlias) {
      problems.push(`${from}: imports ${specifier}: not one of #${aliases.join(", #")}`)
      continue
    }
    const to = resolved?.file
    if (to !== undefined) edges.add(to)
    const why = offence(from, to, specifier)
    if (why === undefined) continue
    if (allowed.some((entry) => entry.from === from && entry.to === to)) continue
    problems.push(`src/${from}: imports ${specifier}: ${why}`)
  }
  graph.set(from, edges)
}

const sameFiles = (a, b) => a.length === b.length && a.every((file, i) => file === b[i])
const circles = stronglyConnected(graph).map((circle) => [...circle].sort())
for (const circle of circles) {
  if (knownCircles.some((entry) => sameFiles(circle, [...entry.files].sort()))) continue
  problems.push(`import circle: ${circle.map((file) => `src/${file}`).join(" ⇄ ")}`)
}

// A stale entry only warns: the branch that removed the import should not fail the check of another.
const stale = [
  ...allowed
    .filter((entry) => !graph.get(entry.from)?.has(entry.to))
    .map((entry) => `the allowance ${entry.from} → ${entry.to}`),
  ...knownCircles
    .filter((entry) => !circles.some((circle) => sameFiles(circle, [...entry.files].sort())))
    .map((entry) => `the known circle ${entry.files.join(" ⇄ ")}`),
]
for (const entry of stale)
  console.warn(`layer check: ${entry} is no longer needed: remove it from scripts/check-layers.js`)

if (problems.length > 0) {
  console.error(`layer check: ${problems.length} problem(s) (rules in ARCHITECTURE.md, "Layers")`)
  for (const problem of problems) console.error(`  ${problem}`)
  process.exit(1)
}
console.log(`layer check: ${files.length} files, layer rules hold, no import circle`)

/** Tarjan's algorithm: the groups of two or more files that import each other (and self-imports). */
function stronglyConnected(edges) {
  let index = 0
  const indexOf = new Map()
  const low = new Map()
  const stack = []
  const onStack = new Set()
  const groups = []
  const visit = (node) => {
    indexOf.set(node, index)
    low.set(node, index)
    index++
    stack.push(node)
    onStack.add(node)
    for (const next of edges.get(node) ?? []) {
      if (!edges.has(next)) continue
      if (!indexOf.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node), low.get(next)))
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node), indexOf.get(next)))
      }
    }
    if (low.get(node) === indexOf.get(node)) {
      const group = []
      let member
      do {
        member = stack.pop()
        onStack.delete(member)
        group.push(member)
      } while (member !== node)
      if (group.length > 1 || edges.get(node)?.has(node)) groups.push(group)
    }
  }
  for (const node of edges.keys()) if (!indexOf.has(node)) visit(node)
  return groups
}
