/**
 * How to run only the tests a change added or touched, for the proof of a fix: a subset of the
 * detected test command where the runner takes one (pytest files, `node --test` files, Go packages,
 * Cargo integration tests, Maven test classes); undefined means "run the whole test command".
 * A repository's own `test:` command is never rewritten.
 */
import type { RepoConfig } from "../repo-config.js"

const quote = (text: string) => `'${text.replaceAll("'", `'"'"'`)}'`
const dirOf = (path: string) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".")

export const subsetCommand = (
  config: Pick<RepoConfig, "test" | "ecosystems" | "source">,
  tests: string[],
  nodeTestScript: string | undefined,
): string | undefined => {
  if (config.source.test !== "detected" || tests.length === 0) return undefined
  const [ecosystem] = config.ecosystems
  const all = (pattern: RegExp) => tests.every((path) => pattern.test(path))
  switch (ecosystem) {
    case "python":
      return all(/\.py$/) ? `python -m pytest -q ${tests.map(quote).join(" ")}` : undefined
    case "node":
      return nodeTestScript?.trim() === "node --test" && all(/\.[cm]?js$/)
        ? `node --test ${tests.map(quote).join(" ")}`
        : undefined
    case "go": {
      if (!all(/_test\.go$/)) return undefined
      const packages = [...new Set(tests.map((path) => `./${dirOf(path)}`.replace(/^\.\/\.$/, ".")))]
      return `go test ${packages.map(quote).join(" ")}`
    }
    case "rust":
      return all(/^tests\/[^/]+\.rs$/)
        ? `cargo test ${tests.map((path) => `--test ${quote(path.slice("tests/".length, -".rs".length))}`).join(" ")}`
        : undefined
    case "maven": {
      if (!all(/(^|\/)src\/test\/java\/.+\.java$/)) return undefined
      const classes = tests.map((path) => path.slice(path.lastIndexOf("/") + 1, -".java".length))
      return `mvn -B -o -q test -Dsurefire.failIfNoSpecifiedTests=false -Dtest=${quote(classes.join(","))}`
    }
    default:
      return undefined
  }
}
