/**
 * Pushing a checkout's HEAD to a branch on GitHub. The URL is the clone URL without credentials; the token
 * travels as an Authorization header in the environment of this one `git push`, as for fetches.
 */

import { assertBranchName } from "#domain/branch-name.js"
import { GitHubError, NonRetryableError } from "#domain/errors.js"
import { GitCommandError, networkGitError } from "./run-git.js"

export interface PushRequest {
  branch: string
  force?: boolean | undefined
  signal?: AbortSignal | undefined
  cloneUrl: string
  fullName: string
  /** runs `git push` with the given args and auth (explicit git dir, scrubbed errors) */
  run: (
    args: string[],
    options: { auth?: { origin: string; header: string } | undefined; signal?: AbortSignal | undefined },
  ) => Promise<unknown>
  authHeader?: (() => Promise<string | undefined>) | undefined
}

/** Turns a failed push into an error that says what to do; `stderr` is already scrubbed. */
export const pushError = (error: unknown, request: Pick<PushRequest, "branch" | "fullName" | "cloneUrl">) => {
  if (!(error instanceof GitCommandError)) return networkGitError(error, request)
  const { stderr } = error
  const { branch, fullName } = request
  if (/\[rejected\].*\((non-fast-forward|fetch first|stale info)\)/.test(stderr)) {
    return new NonRetryableError(
      `push to ${fullName} branch ${branch} was rejected (non-fast-forward): the branch on GitHub has commits this checkout does not have; start the run again from that branch, or push with force to replace it`,
      { cause: error, code: "conflict" },
    )
  }
  const remoteRejected = /\[remote rejected\][^(]*\(([^)]*)\)/.exec(stderr)
  if (remoteRejected) {
    return new NonRetryableError(
      `GitHub refused to update ${fullName} branch ${branch} (${remoteRejected[1]}): check branch protection rules and that the token may push to this branch (contents: write)`,
      { cause: error, code: "forbidden" },
    )
  }
  if (/returned error: 403|permission to .* denied/i.test(stderr)) {
    return new GitHubError(
      `GitHub refused the push to ${fullName} (403): give the token contents: write on ${fullName} (for a GitHub App, the "Contents: Read and write" permission), or check branch protection`,
      { status: 403, cause: error, retryable: false },
    )
  }
  return networkGitError(error, request)
}

export const pushHead = async (request: PushRequest): Promise<void> => {
  assertBranchName(request.branch)
  const header = await request.authHeader?.()
  const auth = header ? { origin: new URL(request.cloneUrl).origin, header } : undefined
  const refspec = `${request.force ? "+" : ""}HEAD:refs/heads/${request.branch}`
  try {
    await request.run(["push", "--quiet", "--no-verify", "--no-follow-tags", request.cloneUrl, refspec], {
      auth,
      signal: request.signal,
    })
  } catch (error) {
    throw pushError(error, request)
  }
}
