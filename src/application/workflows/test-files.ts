/**
 * Which paths are tests, and which decide how the tests run. Verification uses the repository's
 * own versions of both (as at the run's starting commit): a change that edits or deletes them is
 * flagged in the pull request and cannot make verification pass by it.
 */
import { nodeTestScript } from "../repo-config.js"

const TEST_PATHS = [
  /(^|\/)(test|tests|__tests__|spec|specs)\//,
  /(^|\/)src\/test\//, // Maven, Gradle
  /(^|\/)test_[^/]*\.py$/,
  /_test\.py$/,
  /(^|\/)conftest\.py$/,
  /_test\.go$/,
  /\.(test|spec)\.[cm]?[jt]sx?$/,
  /_(spec|test)\.rb$/,
]

/** Files that choose what the test command runs (besides package.json's `test` script). */
const TEST_CONFIG = [
  /^\.prwright\.ya?ml$/,
  /(^|\/)pytest\.ini$/,
  /(^|\/)tox\.ini$/,
  /(^|\/)(jest|vitest|playwright)\.config\.[cm]?[jt]s$/,
  /(^|\/)\.mocharc(\.[a-z]+)?$/,
  /^Makefile$/,
]

export const isTestPath = (path: string): boolean => TEST_PATHS.some((pattern) => pattern.test(path))

export const isTestConfig = (path: string): boolean => TEST_CONFIG.some((pattern) => pattern.test(path))

const parse = (text: string | undefined): Record<string, unknown> | undefined => {
  try {
    return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>)
  } catch {
    return undefined
  }
}

/** True when package.json's `test` script differs between two versions of the file. */
export const testScriptChanged = (before: string | undefined, after: string | undefined): boolean =>
  nodeTestScript(parse(before)) !== nodeTestScript(parse(after))
