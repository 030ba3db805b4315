/**
 * The Workspace port on the git CLI. One bare mirror per repository (`dataDir/mirrors/<owner>/<repo>.git`)
 * is cloned once and fetched before each run; each run gets a detached worktree of it
 * (`dataDir/runs/<runId>`), so checkouts are cheap and never share a working tree.
 *
 * The mirror fetches branches and tags only (not GitHub's refs/pull/*, which can outweigh the code on busy
 * repositories); any other ref or commit is fetched on demand. The token reaches git only as an
 * Authorization header in the environment of the one command that talks to GitHub.
 */
import { randomBytes } from "node:crypto"
import { access, mkdir, realpath, rename, rm } from "node:fs/promises"
import path from "node:path"
import type { Checkout, Logger, Workspace } from "#application/ports.js"
import { CancelledError, NotFoundError, ValidationError } from "#domain/errors.js"
import { createGitCheckout, type SearchBackend } from "./git-checkout.js"
import { GitCommandError, networkGitError, runGit } from "./run-git.js"

export interface GitCliWorkspaceOptions {
  dataDir: string
  /** the Authorization header value for git requests to `cloneUrl` (e.g. gitAuthHeader(token)); undefined for none */
  authHeader?: (cloneUrl: string) => Promise<string | undefined>
  logger?: Logger
  gitBinary?: string
  ripgrepBinary?: string
  /** "auto" (default): ripgrep when installed, else git grep */
  search?: SearchBackend
  /** readFile refuses larger files; default 1 MiB */
  maxFileBytes?: number
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const FETCH_REFSPECS = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  )

const invalid = (field: string, message: string) => new ValidationError(message, [{ field, message }])

export const createGitCliWorkspace = (options: GitCliWorkspaceOptions): Workspace => {
  const dataDir = path.resolve(options.dataDir)
  const gitBinary = options.gitBinary ?? "git"
  const logger = options.logger
  const queues = new Map<string, Promise<unknown>>()

  /** One mirror-changing operation at a time per mirror, within this process. */
  const serialize = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const previous = queues.get(key) ?? Promise.resolve()
    const next = previous.then(work, work)
    const settled = next.catch(() => undefined)
    queues.set(key, settled)
    void settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key)
    })
    return next
  }

  const git = (
    args: string[],
    cwd: string,
    extra: { signal?: AbortSignal; auth?: { origin: string; header: string } } = {},
  ) => runGit({ args, cwd, gitBinary, ...extra }).then((out) => out.stdout.trim())

  const ensureMirror = async (mirrorDir: string, cloneUrl: string) => {
    if (!(await exists(path.join(mirrorDir, "HEAD")))) {
      await mkdir(path.dirname(mirrorDir), { recursive: true })
      // built aside and renamed, so another process never sees a half-made mirror
      const staging = `${mirrorDir}.tmp-${randomBytes(4).toString("hex")}`
      await git(["init", "--bare", "--quiet", staging], dataDir)
      await git(["config", "remote.origin.url", cloneUrl], staging)
      for (const spec of FETCH_REFSPECS) await git(["config", "--add", "remote.origin.fetch", spec], staging)
      await rename(staging, mirrorDir).catch(async (error) => {
        await rm(staging, { recursive: true, force: true })
        if (!(await exists(path.join(mirrorDir, "HEAD")))) throw error
      })
      return
    }
    const current = await git(["config", "--get", "remote.origin.url"], mirrorDir).catch(() => "")
    if (current !== cloneUrl) await git(["config", "remote.origin.url", cloneUrl], mirrorDir)
  }

  const resolveRef = async (mirrorDir: string, ref: string): Promise<string | undefined> =>
    git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], mirrorDir).catch(() => undefined)

  const removeWorktree = async (mirrorDir: string, runDir: string) => {
    if (await exists(runDir)) {
      await git(["worktree", "remove", "--force", runDir], mirrorDir).catch(() => undefined)
      await rm(runDir, { recursive: true, force: true })
    }
    await git(["worktree", "prune"], mirrorDir).catch(() => undefined)
  }

  return {
    async checkout({ repo, cloneUrl, ref, runId, signal }): Promise<Checkout> {
      if (!RUN_ID.test(runId))
        throw invalid(
          "runId",
          `runId ${JSON.stringify(runId)} must be 1-128 letters, digits, '.', '_' or '-'`,
        )
      if (!ref || ref.startsWith("-") || /[\s\0~^:?*[\\]/.test(ref) || ref.includes("..")) {
        throw invalid("ref", `ref ${JSON.stringify(ref)} is not a valid branch, tag or commit name`)
      }
      let url: URL
      try {
        url = new URL(cloneUrl)
      } catch {
        throw invalid(
          "cloneUrl",
          `cloneUrl ${JSON.stringify(cloneUrl)} is not a URL: pass the clone_url the GitHub API returns`,
        )
      }
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        throw invalid(
          "cloneUrl",
          `cloneUrl must be an http(s) URL (got ${url.protocol}): pass the clone_url the GitHub API returns`,
        )
      }
      if (url.username || url.password || url.search) {
        throw invalid(
          "cloneUrl",
          "cloneUrl must not carry credentials or a query: the token is sent in a header, never in the URL",
        )
      }
      if (signal?.aborted) throw new CancelledError()

      const header = await options.authHeader?.(cloneUrl)
      const auth = header ? { origin: url.origin, header } : undefined
      const mirrorDir = path.join(dataDir, "mirrors", repo.owner, `${repo.name}.git`)
      const runDir = path.join(dataDir, "runs", runId)
      const log = logger?.child({ repo: repo.fullName, runId })

      const headSha = await serialize(mirrorDir, async () => {
        const started = Date.now()
        await ensureMirror(mirrorDir, cloneUrl)
        try {
          await git(["fetch", "--prune", "--quiet", "--update-head-ok", "origin"], mirrorDir, {
            signal,
            auth,
          })
        } catch (error) {
          throw networkGitError(error, { fullName: repo.fullName, cloneUrl })
        }
        log?.debug("mirror updated", { ms: Date.now() - started })
        let sha = await resolveRef(mirrorDir, ref)
        if (!sha) {
          // pull request heads and unadvertised commits are not in the mirror's refspecs
          try {
            await git(["fetch", "--quiet", "origin", ref], mirrorDir, { signal, auth })
            sha = await resolveRef(mirrorDir, "FETCH_HEAD")
          } catch (error) {
            if (
              !(error instanceof GitCommandError) ||
              !/couldn't find remote ref|not our ref|invalid refspec/i.test(error.stderr)
            ) {
              throw networkGitError(error, { fullName: repo.fullName, cloneUrl })
            }
          }
        }
        if (!sha)
          throw new NotFoundError(
            `ref ${JSON.stringify(ref)} was not found in ${repo.fullName}: check the branch, tag or commit name`,
          )
        await removeWorktree(mirrorDir, runDir)
        await mkdir(path.dirname(runDir), { recursive: true })
        try {
          await git(["worktree", "add", "--detach", "--quiet", runDir, sha], mirrorDir, { signal })
        } catch (error) {
          await removeWorktree(mirrorDir, runDir)
          throw error
        }
        log?.info("checked out", { ref, sha, ms: Date.now() - started })
        return sha
      })

      return createGitCheckout({
        root: await realpath(runDir),
        mirrorDir,
        headSha,
        ref,
        gitBinary,
        ripgrepBinary: options.ripgrepBinary ?? "rg",
        searchBackend: options.search ?? "auto",
        maxFileBytes: options.maxFileBytes ?? 1024 * 1024,
        logger: log,
        serialize: (work) => serialize(mirrorDir, work),
      })
    },
  }
}
