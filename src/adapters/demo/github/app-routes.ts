/**
 * GitHub App auth for the double: the two endpoints that take an app JWT (RS256, verified with the app's
 * public key) instead of a token, and installation tokens that the rest of the double accepts for the
 * installation's repositories (REST and git) until they expire.
 *   GET  /repos/{owner}/{repo}/installation            (apps/get-repo-installation)
 *   POST /app/installations/{installation_id}/access_tokens (apps/create-installation-access-token)
 */
import { createPublicKey, type KeyObject, randomBytes, verify } from "node:crypto"
import type { TokenGrant } from "./request-log.js"
import { simpleUser, timestamp, type Urls } from "./shapes.js"

export interface DoubleAppInstallation {
  /** full names the installation covers */
  repos: string[]
  /** true: minting a token answers 403, as for a suspended installation */
  suspended?: boolean
}

export interface DoubleApp {
  /** PEM text or a KeyObject */
  publicKey: string | KeyObject
  /** defaults to `app-<id>` */
  slug?: string
  installations: Record<string, DoubleAppInstallation>
}

export interface MintedToken {
  token: string
  appId: string
  installationId: number
  expiresAt: number
}

interface AppAnswer {
  status: number
  body: unknown
}

const INSTALLATION_PATH = /^\/repos\/([^/]+)\/([^/]+)\/installation$/i
const ACCESS_TOKENS_PATH = /^\/app\/installations\/(\d+)\/access_tokens$/i

const unauthorized = (message: string): AppAnswer => ({
  status: 401,
  body: { message, documentation_url: "https://docs.github.com/rest", status: "401" },
})

const PERMISSIONS = { contents: "write", issues: "write", pull_requests: "write", metadata: "read" }

export const createAppAuth = (options: {
  apps: Record<string, DoubleApp>
  /** the double's token table: minted tokens are added to it */
  tokens: Record<string, TokenGrant>
  urls: Urls
  tokenTtlMs: number
}) => {
  const keys = new Map<string, KeyObject>(
    Object.entries(options.apps).map(([id, app]) => [
      id,
      typeof app.publicKey === "string" ? createPublicKey(app.publicKey) : app.publicKey,
    ]),
  )
  const minted: MintedToken[] = []
  const jwtsSeen: string[] = []
  const slugOf = (appId: string) => options.apps[appId]?.slug ?? `app-${appId}`

  /** the app id a valid JWT was issued by, or the 401 GitHub would give */
  const verifyJwt = (authorization: string | undefined): { appId: string } | AppAnswer => {
    const [scheme = "", jwt = ""] = (authorization ?? "").trim().split(/\s+/, 2)
    if (!/^bearer$/i.test(scheme) || jwt.split(".").length !== 3)
      return unauthorized("A JSON web token could not be decoded")
    jwtsSeen.push(jwt)
    const [header = "", payload = "", signature = ""] = jwt.split(".")
    let claims: { iat?: unknown; exp?: unknown; iss?: unknown }
    let alg: unknown
    try {
      alg = (JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { alg?: unknown }).alg
      claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as typeof claims
    } catch {
      return unauthorized("A JSON web token could not be decoded")
    }
    const appId = String(claims.iss ?? "")
    const key = keys.get(appId)
    if (alg !== "RS256" || !key) return unauthorized("A JSON web token could not be decoded")
    const valid = verify(
      "sha256",
      Buffer.from(`${header}.${payload}`),
      key,
      Buffer.from(signature, "base64url"),
    )
    if (!valid) return unauthorized("A JSON web token could not be decoded")
    const now = Math.floor(Date.now() / 1000)
    if (typeof claims.iat !== "number" || claims.iat > now + 60)
      return unauthorized("'Issued at' claim ('iat') must be an Integer representing a time in the past.")
    if (typeof claims.exp !== "number" || claims.exp <= now || claims.exp - claims.iat > 600)
      return unauthorized(
        "'Expiration time' claim ('exp') is too far in the future or in the past, or expired.",
      )
    return { appId }
  }

  const installationJson = (appId: string, id: number, repo: { owner: string }) => {
    const account = simpleUser(options.urls, repo.owner)
    const created = timestamp(new Date(Date.now() - 86_400_000))
    return {
      id,
      account,
      repository_selection: "selected",
      access_tokens_url: `${options.urls.api}/app/installations/${id}/access_tokens`,
      repositories_url: `${options.urls.api}/installation/repositories`,
      html_url: `${options.urls.web}/settings/installations/${id}`,
      app_id: Number(appId) || 1,
      app_slug: slugOf(appId),
      target_id: account.id,
      target_type: "User",
      permissions: PERMISSIONS,
      events: ["issues", "issue_comment"],
      created_at: created,
      updated_at: created,
      single_file_name: null,
      suspended_by: null,
      suspended_at: null,
    }
  }

  const findInstallation = (appId: string, fullName: string) =>
    Object.entries(options.apps[appId]?.installations ?? {}).find(([, installation]) =>
      installation.repos.some((name) => name.toLowerCase() === fullName.toLowerCase()),
    )

  return {
    minted,
    /** every JWT presented to the double, valid or not (to check none leaked anywhere) */
    jwtsSeen,
    /** true when the request is one of the JWT endpoints, which the token check must not handle */
    handles: (method: string, apiPath: string): boolean =>
      (method === "GET" && INSTALLATION_PATH.test(apiPath)) ||
      (method === "POST" && ACCESS_TOKENS_PATH.test(apiPath)),

    handle(method: string, apiPath: string, authorization: string | undefined): AppAnswer {
      const verified = verifyJwt(authorization)
      if ("status" in verified) return verified
      const { appId } = verified
      const repoMatch = INSTALLATION_PATH.exec(apiPath)
      if (method === "GET" && repoMatch) {
        const fullName = `${decodeURIComponent(repoMatch[1] ?? "")}/${decodeURIComponent(repoMatch[2] ?? "")}`
        const found = findInstallation(appId, fullName)
        if (!found) return { status: 404, body: { message: "Not Found", status: "404" } }
        return {
          status: 200,
          body: installationJson(appId, Number(found[0]), { owner: fullName.split("/")[0]! }),
        }
      }
      const tokenMatch = ACCESS_TOKENS_PATH.exec(apiPath)
      const installationId = Number(tokenMatch?.[1])
      const installation = options.apps[appId]?.installations[String(installationId)]
      if (!installation) return { status: 404, body: { message: "Not Found", status: "404" } }
      if (installation.suspended)
        return { status: 403, body: { message: "This installation has been suspended", status: "403" } }
      const token = `ghs_${randomBytes(18).toString("base64url").replace(/[-_]/g, "x")}`
      const expiresAt = Date.now() + options.tokenTtlMs
      options.tokens[token] = {
        login: `${slugOf(appId)}[bot]`,
        repos: [...installation.repos],
        expiresAt,
      }
      minted.push({ token, appId, installationId, expiresAt })
      return {
        status: 201,
        body: {
          token,
          expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
          permissions: PERMISSIONS,
          repository_selection: "selected",
        },
      }
    },

    /** makes every minted token expired now (the double then answers 401 to it) */
    expireTokens(): void {
      for (const entry of minted) {
        entry.expiresAt = 0
        const grant = options.tokens[entry.token]
        if (grant) grant.expiresAt = 0
      }
    },
  }
}

/** true when a token grant has an expiry that has passed */
export const expired = (grant: TokenGrant): boolean =>
  grant.expiresAt !== undefined && grant.expiresAt <= Date.now()
