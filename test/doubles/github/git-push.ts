/**
 * Test helper: commit files on a branch of a repository served over HTTP and push them, authenticating the
 * way prwright does (an Authorization header given to git through the environment, never in the URL).
 */
import { execFile } from "node:child_process"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { promisify } from "node:util"

const run = promisify(execFile)

export const basicAuthHeader = (token: string): string =>
  `Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`

/** Environment that hands git one extra header for requests under `url`'s origin. */
export const gitHeaderEnv = (url: string, header: string): NodeJS.ProcessEnv => ({
  ...process.env,
  GIT_TERMINAL_PROMPT: "0",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_COUNT: "2",
  GIT_CONFIG_KEY_0: `http.${new URL(url).origin}/.extraHeader`,
  GIT_CONFIG_VALUE_0: `Authorization: ${header}`,
  GIT_CONFIG_KEY_1: "credential.helper",
  GIT_CONFIG_VALUE_1: "",
  GIT_AUTHOR_NAME: "Test Pusher",
  GIT_AUTHOR_EMAIL: "pusher@example.invalid",
  GIT_COMMITTER_NAME: "Test Pusher",
  GIT_COMMITTER_EMAIL: "pusher@example.invalid",
})

/** Clones `branch` (or `baseBranch` when the branch is new), writes `files`, commits and pushes; returns the new sha. */
export const pushFiles = async (options: {
  cloneUrl: string
  token: string
  branch: string
  baseBranch?: string
  files: Record<string, string>
  message?: string
}): Promise<string> => {
  const work = await mkdtemp(path.join(tmpdir(), "double-push-"))
  const env = gitHeaderEnv(options.cloneUrl, basicAuthHeader(options.token))
  const git = async (args: string[]) => (await run("git", args, { cwd: work, env })).stdout.trim()
  try {
    await git(["clone", "--quiet", "--branch", options.baseBranch ?? options.branch, options.cloneUrl, "."])
    if (options.baseBranch) await git(["checkout", "--quiet", "-b", options.branch])
    for (const [file, content] of Object.entries(options.files)) {
      await mkdir(path.dirname(path.join(work, file)), { recursive: true })
      await writeFile(path.join(work, file), content)
    }
    await git(["add", "-A"])
    await git(["-c", "commit.gpgsign=false", "commit", "--quiet", "-m", options.message ?? "Update files"])
    await git(["push", "--quiet", "origin", `HEAD:refs/heads/${options.branch}`])
    return await git(["rev-parse", "HEAD"])
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
