/**
 * Branch names: the one prwright gives an issue's work, and the check every name passes before git
 * sees it (as `git check-ref-format --branch` accepts them, checked without a process, and stricter
 * where a name could be read as an option or a revision expression).
 */
import { ValidationError } from "./errors.js"

/** `prwright/issue-12-add-clamp-helper`: stable for an issue, so retries and re-runs find their branch and PR. */
export const branchNameFor = (prefix: string, issueNumber: number, title: string): string => {
  const slug = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "")
  const base = prefix.endsWith("/") || prefix === "" ? prefix : `${prefix}/`
  return `${base}issue-${issueNumber}${slug ? `-${slug}` : ""}`
}

// control characters, space, ~ ^ : ? * [ \ and DEL are never allowed in a ref name
// biome-ignore lint/suspicious/noControlCharactersInRegex: those are exactly what is refused
const FORBIDDEN_CHARACTERS = /[\u0000-\u0020~^:?*[\\\u007f]/

export const branchNameProblem = (name: string): string | undefined => {
  if (typeof name !== "string" || name.length === 0) return "is empty"
  if (name.length > 200) return "is longer than 200 characters"
  if (name.startsWith("-")) return "starts with '-'"
  if (FORBIDDEN_CHARACTERS.test(name)) return "contains a space, a control character or one of ~ ^ : ? * [ \\"
  if (name.includes("..")) return "contains '..'"
  if (name.includes("@{")) return "contains '@{'"
  if (name === "@" || name === "HEAD") return `is the reserved name ${name}`
  if (name.startsWith("/") || name.endsWith("/") || name.includes("//")) return "has an empty path component"
  if (name.endsWith(".")) return "ends with '.'"
  for (const part of name.split("/")) {
    if (part.startsWith(".")) return "has a component that starts with '.'"
    if (part.endsWith(".lock")) return "has a component that ends with '.lock'"
  }
  return undefined
}

/** Throws a ValidationError naming `field` when `name` is not a usable branch name. */
export const assertBranchName = (name: string, field = "branch"): void => {
  const problem = branchNameProblem(name)
  if (problem) {
    throw new ValidationError(
      `branch name ${JSON.stringify(name)} ${problem}: use letters, digits and '/', '-', '_', '.' (e.g. prwright/issue-12-fix-login)`,
      [{ field, message: problem }],
    )
  }
}
