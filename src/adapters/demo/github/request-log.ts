/**
 * Who called the double and how: each request's method, path, status and headers, with every known token
 * redacted, plus a flag raised when a token ever travelled in a URL (query or userinfo).
 */
import type { IncomingMessage, ServerResponse } from "node:http"

export interface TokenGrant {
  login: string
  /** full names the token may see, or "*" for all */
  repos: string[] | "*"
  /** false: git pushes are refused with 403, as for a read-only token (default true) */
  push?: boolean
  /** epoch ms after which the token is refused with 401 (GitHub App installation tokens) */
  expiresAt?: number
}

export interface RecordedRequest {
  kind: "api" | "git" | "other"
  method: string
  /** path and query, with any token string replaced by "[token]" */
  path: string
  status: number
  /** request headers; Authorization keeps only its scheme ("Basic [redacted]") */
  headers: Record<string, string>
  /** the URL carried a known token (query or userinfo): must never happen */
  tokenInUrl: boolean
}

/** The token a request carries: `token X`, `Bearer X`, or Basic with the token as password (or user). */
export const presentedToken = (
  header: string | undefined,
  known: Record<string, TokenGrant>,
): string | undefined => {
  if (!header) return undefined
  const [scheme = "", value = ""] = header.trim().split(/\s+/, 2)
  if (/^(token|bearer)$/i.test(scheme)) return value
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, "base64").toString("utf8")
    const colon = decoded.indexOf(":")
    const user = colon === -1 ? decoded : decoded.slice(0, colon)
    const password = colon === -1 ? "" : decoded.slice(colon + 1)
    return password in known ? password : user in known ? user : password || user
  }
  return value || scheme
}

export const createRequestLog = (tokens: Record<string, TokenGrant>) => {
  const requests: RecordedRequest[] = []
  let tokenSeenInUrl = false
  const redact = (text: string): string =>
    Object.keys(tokens).reduce((acc, token) => acc.replaceAll(token, "[token]"), text)

  const record = (req: IncomingMessage, res: ServerResponse, kind: RecordedRequest["kind"]): void => {
    const rawUrl = req.url ?? "/"
    let decoded = rawUrl
    try {
      decoded = decodeURIComponent(rawUrl)
    } catch {}
    const tokenInUrl =
      Object.keys(tokens).some((token) => decoded.includes(token)) ||
      /^[a-z]+:\/\/[^/]*@/i.test(rawUrl) ||
      /[?&](access_token|token)=/i.test(rawUrl)
    if (tokenInUrl) tokenSeenInUrl = true
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(req.headers)) {
      const text = Array.isArray(value) ? value.join(", ") : String(value ?? "")
      headers[name] = name === "authorization" ? `${text.split(/\s+/)[0]} [redacted]` : redact(text)
    }
    res.on("finish", () => {
      requests.push({
        kind,
        method: req.method ?? "GET",
        path: redact(rawUrl),
        status: res.statusCode,
        headers,
        tokenInUrl,
      })
    })
  }

  return {
    requests,
    record,
    get tokenSeenInUrl() {
      return tokenSeenInUrl
    },
  }
}
