/**
 * GitHub App authentication: an app JWT (RS256, signed with node:crypto) finds the installation that covers
 * a repository and mints an installation token for it. Installation ids are cached per repository and
 * tokens per installation until 5 minutes before they expire; concurrent callers share one request.
 * Neither the key, the JWT nor a token ever appears in an error message.
 */
import { createPrivateKey, type KeyObject, sign } from "node:crypto"
import { GitHubError } from "#domain/errors.js"
import type { RepoRef } from "#domain/repo-ref.js"

export interface InstallationTokensOptions {
  /** GITHUB_APP_ID (the numeric app id, or its client id): the JWT's `iss` */
  appId: string
  /** the app's private key, PEM text */
  privateKey: string
  /** REST root; `https://api.github.com` by default */
  baseUrl?: string
  userAgent?: string
  fetch?: typeof fetch | undefined
  clock?: { now(): Date }
}

export interface InstallationTokens {
  /** a token of the installation that covers `repo`, valid for at least 5 more minutes */
  tokenFor(repo: RepoRef): Promise<string>
}

const REFRESH_BEFORE_MS = 5 * 60_000

const base64url = (value: string | Buffer): string => Buffer.from(value).toString("base64url")

/** Parses the key once; a malformed key throws here (start-up), not on the first job. */
export const parseAppPrivateKey = (pem: string): KeyObject => createPrivateKey({ key: pem, format: "pem" })

/** The app JWT GitHub accepts: iat 60 s in the past (clock drift), exp 9 min ahead (GitHub allows 10). */
export const appJwt = (appId: string, key: KeyObject, now: Date): string => {
  const seconds = Math.floor(now.getTime() / 1000)
  const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT" }))
  const payload = base64url(JSON.stringify({ iat: seconds - 60, exp: seconds + 9 * 60, iss: appId }))
  const signature = sign("sha256", Buffer.from(`${header}.${payload}`), key)
  return `${header}.${payload}.${base64url(signature)}`
}

/** `owner/repo` of a clone URL such as `https://github.com/owner/repo.git`. */
export const repoOfCloneUrl = (cloneUrl: string): RepoRef => {
  const parts = new URL(cloneUrl).pathname
    .replace(/\.git\/?$/, "")
    .split("/")
    .filter(Boolean)
  const owner = parts.at(-2)
  const name = parts.at(-1)
  if (!owner || !name)
    throw new GitHubError(`cannot tell the repository of clone URL ${new URL(cloneUrl).origin}/…`, {
      retryable: false,
    })
  return { owner, name, fullName: `${owner}/${name}` }
}

interface CachedToken {
  token: string
  expiresAt: number
}

export const createInstallationTokens = (options: InstallationTokensOptions): InstallationTokens => {
  const { appId } = options
  const key = parseAppPrivateKey(options.privateKey)
  const baseUrl = (options.baseUrl ?? "https://api.github.com").replace(/\/+$/, "")
  const doFetch = options.fetch ?? fetch
  const now = () => options.clock?.now() ?? new Date()
  const installations = new Map<string, Promise<number>>()
  const tokens = new Map<number, CachedToken>()
  const minting = new Map<number, Promise<CachedToken>>()

  const request = async (
    method: "GET" | "POST",
    path: string,
    repo: RepoRef,
  ): Promise<{ status: number; body: Record<string, unknown> }> => {
    const jwt = appJwt(appId, key, now())
    let response: Response
    try {
      response = await doFetch(`${baseUrl}${path}`, {
        method,
        headers: {
          accept: "application/vnd.github+json",
          authorization: `Bearer ${jwt}`,
          "user-agent": options.userAgent ?? "prwright",
          "x-github-api-version": "2022-11-28",
        },
      })
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new GitHubError(
        `could not reach GitHub at ${baseUrl} to get an installation token for ${repo.fullName} (${reason.split(jwt).join("[redacted]")}): check GITHUB_API_URL and the network; the run will be retried`,
        { retryable: true, cause: error },
      )
    }
    const text = await response.text().catch(() => "")
    let body: Record<string, unknown> = {}
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {}
    } catch {}
    return { status: response.status, body }
  }

  const failure = (
    status: number,
    body: Record<string, unknown>,
    repo: RepoRef,
    what: string,
  ): GitHubError => {
    const said = typeof body.message === "string" ? ` ${body.message}` : ""
    if (status === 401)
      return new GitHubError(
        `GitHub refused the app's JWT: check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY (the key must be one of app ${appId}'s private keys) and this machine's clock (401${said})`,
        { status, retryable: false },
      )
    if (status === 429 || status >= 500 || (status === 403 && /rate limit/i.test(said)))
      return new GitHubError(
        `GitHub answered ${status} while ${what} for ${repo.fullName}: the run will be retried`,
        { status, retryable: true },
      )
    if (status === 403)
      return new GitHubError(
        `GitHub refused ${what} for ${repo.fullName} (403${said}): the installation of GitHub App ${appId} may be suspended; unsuspend it in the account's settings (Settings → GitHub Apps)`,
        { status, retryable: false },
      )
    return new GitHubError(`GitHub answered ${status}${said} while ${what} for ${repo.fullName}`, { status })
  }

  const installationOf = (repo: RepoRef): Promise<number> => {
    const cacheKey = repo.fullName.toLowerCase()
    const cached = installations.get(cacheKey)
    if (cached) return cached
    const lookup = (async () => {
      const { status, body } = await request(
        "GET",
        `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}/installation`,
        repo,
      )
      if (status === 404)
        throw new GitHubError(
          `the GitHub App (id ${appId}) is not installed on ${repo.fullName}: install it on the repository (the app's page → Install App, or add ${repo.fullName} to the installation's repositories), then retry the job`,
          { status, retryable: false },
        )
      if (status !== 200 || typeof body.id !== "number")
        throw failure(status, body, repo, "finding the app installation")
      return body.id
    })()
    installations.set(cacheKey, lookup)
    // a failed lookup is not cached: the app may be installed a minute later
    lookup.catch(() => installations.delete(cacheKey))
    return lookup
  }

  const mint = (installationId: number, repo: RepoRef): Promise<CachedToken> => {
    const pending = minting.get(installationId)
    if (pending) return pending
    const created = (async () => {
      const { status, body } = await request(
        "POST",
        `/app/installations/${installationId}/access_tokens`,
        repo,
      )
      if (status === 404) {
        // the installation went away (uninstalled and maybe reinstalled): look it up again next time
        installations.clear()
        throw new GitHubError(
          `installation ${installationId} of the GitHub App (id ${appId}) no longer exists: install the app on ${repo.fullName} again, then retry the job`,
          { status, retryable: true },
        )
      }
      const expiresAt = typeof body.expires_at === "string" ? Date.parse(body.expires_at) : Number.NaN
      if (status !== 201 || typeof body.token !== "string" || !Number.isFinite(expiresAt))
        throw failure(status, body, repo, "creating an installation token")
      const token: CachedToken = { token: body.token, expiresAt }
      tokens.set(installationId, token)
      return token
    })()
    minting.set(installationId, created)
    const forget = () => minting.delete(installationId)
    created.then(forget, forget)
    return created
  }

  return {
    async tokenFor(repo) {
      const installationId = await installationOf(repo)
      const cached = tokens.get(installationId)
      if (cached && cached.expiresAt - REFRESH_BEFORE_MS > now().getTime()) return cached.token
      return (await mint(installationId, repo)).token
    },
  }
}
