import { ValidationError } from "./errors.js"

/** A GitHub repository, `owner/name`. */
export interface RepoRef {
  owner: string
  name: string
  fullName: string
}

/** An issue in a repository, written `owner/name#N`. */
export interface IssueRef {
  repo: RepoRef
  number: number
}

// GitHub's own limits: owners are alphanumerics and single hyphens (max 39), repos [A-Za-z0-9._-] (max 100).
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/
const NAME = /^[A-Za-z0-9._-]{1,100}$/
export const REPO_FULL_NAME_PATTERN =
  /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/[A-Za-z0-9._-]{1,100}$/

export const isRepoFullName = (value: string): boolean => {
  const [owner, name, ...rest] = value.split("/")
  return (
    rest.length === 0 &&
    owner !== undefined &&
    name !== undefined &&
    OWNER.test(owner) &&
    NAME.test(name) &&
    name !== "." &&
    name !== ".."
  )
}

export const parseRepoRef = (value: string, field = "repoFullName"): RepoRef => {
  if (!isRepoFullName(value)) {
    throw new ValidationError(`${field} must look like "owner/repo" (got ${JSON.stringify(value)})`, [
      { field, message: 'expected "owner/repo"' },
    ])
  }
  const [owner, name] = value.split("/") as [string, string]
  return { owner, name, fullName: `${owner}/${name}` }
}

/** Parses `owner/repo#12` (also accepts `owner/repo/issues/12` and a github.com issue URL). */
export const parseIssueRef = (value: string, field = "issue"): IssueRef => {
  const trimmed = value.trim().replace(/^https?:\/\/[^/]+\//, "")
  const match = /^([^#\s]+?)(?:#|\/issues\/)(\d+)$/.exec(trimmed)
  if (!match) {
    throw new ValidationError(`${field} must look like "owner/repo#12" (got ${JSON.stringify(value)})`, [
      { field, message: 'expected "owner/repo#N"' },
    ])
  }
  const number = Number(match[2])
  if (!Number.isSafeInteger(number) || number < 1) {
    throw new ValidationError(`${field}: the issue number must be a positive integer`, [
      { field, message: "issue number must be a positive integer" },
    ])
  }
  return { repo: parseRepoRef(match[1] as string, field), number }
}

export const formatIssueRef = (ref: IssueRef): string => `${ref.repo.fullName}#${ref.number}`
