/**
 * The Workspace port on the git CLI. One bare mirror per repository (`dataDir/mirrors/<owner>/<repo>.git`)
 * is cloned once and fetched before each run; each run gets a worktree of it (`dataDir/runs/<runId>`), so
 * checkouts are cheap and never share a working tree.
 *
 * The mirror keeps GitHub's branches as `refs/remotes/origin/*` and tags as `refs/tags/*` (not GitHub's
 * refs/pull/*, which can outweigh the code on busy repositories); any other ref or commit is fetched on
 * demand. Its `refs/heads/*` are the runs' local branches, so a fetch never moves a branch that a working
 * copy has checked out. The token reaches git only as an Authorization header in the environment of the
 * one command that talks to GitHub.
 *
 * Just over 300 lines: the mirror's life (create, fetch, lock, prune) is one piece; a checkout's own
 * operations are in git-checkout.ts and checkout-*.ts.
 */
import { randomBytes } from "node:crypto"
import { access, mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from "node:fs/promises"
import path from "node:path"
import type { Logger } from "#application/ports/logging.js"
import type { Checkout, Workspace } from "#application/ports/workspace.js"
import { assertBranchName } from "#domain/branch-name.js"
import { CancelledError, NotFoundError, RetryableError, ValidationError } from "#domain/errors.js"
import { createOneAtATime } from "#domain/one-at-a-time.js"
import type { RepoRef } from "#domain/repo-ref.js"
import { prepareSandboxGit } from "./checkout-mounts.js"
import { createGitCheckout, type SearchBackend } from "./git-checkout.js"
import { GitCommandError, networkGitError, runGit } from "./run-git.js"
import { createSparePool } from "./spare-worktrees.js"

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
  /** disposed working trees kept per repository for reuse by later checkouts (default 2; 0 = none) */
  spareCheckouts?: number
  /** how long a failed run's checkout stays for inspection (default 24 h; 0 removes it at once) */
  keepFailedMs?: number
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const FETCH_REFSPECS = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]
const COMMIT_ID = /^[0-9a-f]{4,64}$/i

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
  const spares = createSparePool({ dataDir, gitBinary, limit: options.spareCheckouts ?? 2 })

  /** One mirror-changing operation at a time per mirror, within this process. */
  const serialize = createOneAtATime()

  const git = (
    args: string[],
    cwd: string,
    extra: { signal?: AbortSignal | undefined; auth?: { origin: string; header: string } | undefined } = {},
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
    const specs = await git(["config", "--get-all", "remote.origin.fetch"], mirrorDir).catch(() => "")
    if (specs !== FETCH_REFSPECS.join("\n")) {
      // a mirror from an earlier layout copied GitHub's branches into refs/heads: those copies go
      await git(["config", "--unset-all", "remote.origin.fetch"], mirrorDir).catch(() => undefined)
      for (const spec of FETCH_REFSPECS)
        await git(["config", "--add", "remote.origin.fetch", spec], mirrorDir)
      const stale = await git(["for-each-ref", "--format=delete %(refname)", "refs/heads/"], mirrorDir)
      if (stale)
        await runGit({ args: ["update-ref", "--stdin"], cwd: mirrorDir, gitBinary, input: `${stale}\n` })
    }
  }

  const resolveCommit = (mirrorDir: string, ref: string): Promise<string | undefined> =>
    git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], mirrorDir).catch(() => undefined)

  /** GitHub's branch, then tag, then (for something that looks like one) a commit id. */
  const resolveRef = async (mirrorDir: string, ref: string): Promise<string | undefined> => {
    const candidates = ref.startsWith("refs/heads/")
      ? [`refs/remotes/origin/${ref.slice("refs/heads/".length)}`]
      : ref.startsWith("refs/")
        ? [ref]
        : [`refs/remotes/origin/${ref}`, `refs/tags/${ref}`, ...(COMMIT_ID.test(ref) ? [ref] : [])]
    for (const candidate of candidates) {
      const sha = await resolveCommit(mirrorDir, candidate)
      if (sha) return sha
    }
    return undefined
  }

  /** `ref` from the mirror, or fetched on its own: pull request heads and unadvertised commits are not mirrored. */
  const fetchRef = async (
    mirrorDir: string,
    ref: string,
    context: {
      signal?: AbortSignal | undefined
      auth?: { origin: string; header: string } | undefined
      repo: RepoRef

      cloneUrl: string
    },
  ): Promise<string | undefined> => {
    const sha = await resolveRef(mirrorDir, ref)
    if (sha) return sha
    try {
      await git(["fetch", "--quiet", "origin", ref], mirrorDir, {
        signal: context.signal,
        auth: context.auth,
      })
      return await resolveCommit(mirrorDir, "FETCH_HEAD")
    } catch (error) {
      if (
        error instanceof GitCommandError &&
        /couldn't find remote ref|not our ref|invalid refspec/i.test(error.stderr)
      )
        return undefined
      throw networkGitError(error, { fullName: context.repo.fullName, cloneUrl: context.cloneUrl })
    }
  }

  const keepFailedMs = options.keepFailedMs ?? 24 * 60 * 60_000
  const keptMarker = (dir: string) => `${dir}.kept-until`
  const markKept = async (dir: string) => {
    const until = new Date(Date.now() + keepFailedMs).toISOString()
    await writeFile(keptMarker(dir), `${until}\n`)
    logger?.info("a failed run's checkout is kept for inspection", { dir, until })
  }
  /** Removes failed runs' checkouts whose retention time has passed (git's own records are pruned per mirror). */
  const removeExpiredKept = async () => {
    const runsDir = path.join(dataDir, "runs")
    const names = await readdir(runsDir).catch(() => [] as string[])
    for (const name of names.filter((n) => n.endsWith(".kept-until"))) {
      const marker = path.join(runsDir, name)
      const until = Date.parse((await readFile(marker, "utf8").catch(() => "")).trim())
      if (Number.isFinite(until) && until > Date.now()) continue
      await rm(marker.slice(0, -".kept-until".length), { recursive: true, force: true })
      await rm(marker, { force: true })
    }
    // sandbox git dirs of runs whose checkout is gone (a process that died before disposing it); only
    // old ones, so a checkout another process is making right now keeps its own
    const sandboxGit = path.join(dataDir, "sandbox-git")
    for (const name of await readdir(sandboxGit).catch(() => [] as string[])) {
      const dir = path.join(sandboxGit, name)
      const age = Date.now() - ((await stat(dir).catch(() => undefined))?.mtimeMs ?? Date.now())
      if (age > 60 * 60_000 && !(await exists(path.join(runsDir, name))))
        await rm(dir, { recursive: true, force: true })
    }
  }

  const removeWorktree = async (mirrorDir: string, runDir: string) => {
    if (await exists(runDir)) {
      await git(["worktree", "remove", "--force", runDir], mirrorDir).catch(() => undefined)
      await rm(runDir, { recursive: true, force: true })
    }
    await git(["worktree", "prune"], mirrorDir).catch(() => undefined)
  }

  return {
    async checkout({ repo, cloneUrl, ref, runId, branch, signal }): Promise<Checkout> {
      await removeExpiredKept().catch((error: unknown) =>
        logger?.warn("could not remove expired kept checkouts", { error: String(error) }),
      )
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
      if (branch !== undefined) assertBranchName(branch)
      if (signal?.aborted) throw new CancelledError()

      const getHeader = options.authHeader
      const header = await getHeader?.(cloneUrl)
      const auth = header ? { origin: url.origin, header } : undefined
      const mirrorDir = path.join(dataDir, "mirrors", repo.owner, `${repo.name}.git`)
      const runDir = path.join(dataDir, "runs", runId)
      const log = logger?.child({ repo: repo.fullName, runId })

      const {
        sha: headSha,
        baseSha,
        gitDir,
      } = await serialize(mirrorDir, async () => {
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
        // an earlier attempt's work in progress wins over the base ref
        const branchTip = branch ? await resolveCommit(mirrorDir, `refs/remotes/origin/${branch}`) : undefined
        const baseSha = await fetchRef(mirrorDir, ref, { signal, auth, repo, cloneUrl })
        const sha = branchTip ?? baseSha
        if (!sha || !baseSha)
          throw new NotFoundError(
            `ref ${JSON.stringify(ref)} was not found in ${repo.fullName}: check the branch, tag or commit name`,
          )
        await removeWorktree(mirrorDir, runDir)
        await mkdir(path.dirname(runDir), { recursive: true })
        const reused = await spares.take({ mirrorDir, runDir, sha, branch, signal })
        if (reused) {
          log?.info("checked out", { ref, branch, sha, reused: true, ms: Date.now() - started })
          return { sha, baseSha, gitDir: reused.gitDir }
        }
        let gitDir: string
        try {
          const target = branch ? ["-B", branch] : ["--detach"]
          await git(["worktree", "add", "--quiet", ...target, runDir, sha], mirrorDir, { signal })
          // read now, before anything runs in the checkout and could rewrite its `.git` file
          gitDir = path.resolve(runDir, await git(["rev-parse", "--git-dir"], runDir))
        } catch (error) {
          await removeWorktree(mirrorDir, runDir)
          if (
            branch &&
            error instanceof GitCommandError &&
            /already (checked out|used by worktree)/.test(error.stderr)
          ) {
            throw new RetryableError(
              `branch ${branch} of ${repo.fullName} is checked out by another run's working copy on this worker: the run will be retried once that one finishes (or cancel it)`,
              { cause: error, code: "conflict" },
            )
          }
          throw error
        }
        log?.info("checked out", {
          ref,
          branch,
          sha,
          resumed: branchTip !== undefined,
          ms: Date.now() - started,
        })
        return { sha, baseSha, gitDir }
      })

      const root = await realpath(runDir)
      const sandboxGitDir = path.join(dataDir, "sandbox-git", runId)
      const sandboxGit = { dir: sandboxGitDir, mirrorDir, gitDir, root, gitBinary }
      let mounts: Checkout["mounts"]
      try {
        mounts = await prepareSandboxGit(sandboxGit)
      } catch (error) {
        await serialize(mirrorDir, () => removeWorktree(mirrorDir, runDir))
        await rm(sandboxGitDir, { recursive: true, force: true })
        throw error
      }
      return createGitCheckout({
        root,
        mirrorDir,
        gitDir,
        mounts,
        sandboxGitDir,
        refreshSandboxGit: () => prepareSandboxGit(sandboxGit),
        branch,
        cloneUrl,
        fullName: repo.fullName,
        authHeader: getHeader && (() => getHeader(cloneUrl)),
        headSha,
        baseSha,
        ref,
        gitBinary,
        ripgrepBinary: options.ripgrepBinary ?? "rg",
        searchBackend: options.search ?? "auto",
        maxFileBytes: options.maxFileBytes ?? 1024 * 1024,
        logger: log,
        serialize: (work) => serialize(mirrorDir, work),
        park: () => spares.park(mirrorDir, { dir: root, gitDir }),
        keepFor: keepFailedMs > 0 ? (dir: string) => markKept(dir) : undefined,
      })
    },
  }
}
