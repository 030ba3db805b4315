/**
 * Browser sessions for the web UI, and the one authentication middleware of the API.
 *
 * Signing in trades the API token for a random session id in an HttpOnly, SameSite=Strict cookie,
 * so the token never sits in the page, a URL or local storage. Sessions live in this process's
 * memory (a restart asks to sign in again) and expire after 12 hours.
 *
 * CSRF: a request authenticated by the cookie that changes something (any method but GET/HEAD/
 * OPTIONS) must also carry the `X-Prwright-CSRF` header. A cross-site form cannot set a custom
 * header, and a cross-site script cannot either without a CORS preflight, which this server never
 * answers; SameSite=Strict is the second lock. Bearer-token requests need no header: a browser never
 * attaches that token by itself.
 */
import { createHash, randomBytes } from "node:crypto"
import type { Context, Hono, MiddlewareHandler } from "hono"
import { deleteCookie, getCookie, setCookie } from "hono/cookie"
import type { ApiAuth } from "#application/api-auth.js"
import { parseWith } from "#application/job-data.js"
import { PrwrightError } from "#domain/errors.js"
import { CSRF_HEADER, SESSION_COOKIE, SessionRequestSchema } from "./ui-schemas.js"

export interface Sessions {
  create(actor: string): { id: string; expiresAt: Date }
  verify(id: string | undefined): string | undefined
  remove(id: string | undefined): void
}

const keyOf = (id: string) => createHash("sha256").update(id).digest("hex")

export const createSessions = (
  options: { ttlMs?: number; max?: number; now?: () => number } = {},
): Sessions => {
  const ttlMs = options.ttlMs ?? 12 * 60 * 60 * 1000
  const max = options.max ?? 10_000
  const now = options.now ?? Date.now
  // keyed by a hash of the id, so a heap dump holds no usable session
  const sessions = new Map<string, { actor: string; expires: number }>()
  return {
    create(actor) {
      if (sessions.size >= max) {
        for (const [key, session] of sessions) if (session.expires <= now()) sessions.delete(key)
        // still full: the oldest session makes room
        if (sessions.size >= max) sessions.delete(sessions.keys().next().value as string)
      }
      const id = randomBytes(32).toString("base64url")
      const expires = now() + ttlMs
      sessions.set(keyOf(id), { actor, expires })
      return { id, expiresAt: new Date(expires) }
    },
    verify(id) {
      if (!id) return undefined
      const key = keyOf(id)
      const session = sessions.get(key)
      if (!session) return undefined
      if (session.expires <= now()) {
        sessions.delete(key)
        return undefined
      }
      return session.actor
    },
    remove(id) {
      if (id) sessions.delete(keyOf(id))
    },
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"])

const unauthorized = (c: Context, message: string) => {
  c.header("WWW-Authenticate", 'Bearer realm="prwright"')
  return c.json({ error: { code: "unauthorized", message } }, 401)
}

const csrfRefused = (c: Context) =>
  c.json(
    {
      error: {
        code: "forbidden",
        message: `a request signed in by the session cookie that changes something must send the ${CSRF_HEADER} header (any value): the web UI does; scripts should use Authorization: Bearer <token> instead`,
      },
    },
    403,
  )

const isHttps = (c: Context) =>
  new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https"

/**
 * Bearer token first (scripts, the CLI), else the session cookie (the UI, with the CSRF header on
 * mutating requests). Sets `actor` (the token's label or the session's) and `via`.
 */
/** What `authenticate` tells the routes behind it (Hono's typed context variables). */
export type AuthEnv = { Variables: { actor: string; via: "token" | "session" } }

export const authenticate =
  (deps: { auth: ApiAuth; sessions: Sessions }): MiddlewareHandler<AuthEnv> =>
  async (c, next) => {
    const header = c.req.header("authorization")
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header)
      const label = await deps.auth.verify(match?.[1])
      if (!label)
        return unauthorized(
          c,
          match
            ? "the bearer token is not valid: use PRWRIGHT_API_TOKEN (or the token printed at first start)"
            : "the Authorization header must be `Bearer <token>`: send PRWRIGHT_API_TOKEN",
        )
      c.set("actor", label)
      c.set("via", "token")
      return next()
    }
    const actor = deps.sessions.verify(getCookie(c, SESSION_COOKIE))
    if (!actor)
      return unauthorized(
        c,
        "missing Authorization: Bearer <token> header (or a signed-in session): send PRWRIGHT_API_TOKEN (or the token printed at first start), or sign in at /",
      )
    if (!SAFE_METHODS.has(c.req.method) && !c.req.header(CSRF_HEADER)) return csrfRefused(c)
    c.set("actor", actor)
    c.set("via", "session")
    return next()
  }

/**
 * POST /api/session (sign in), GET /api/session (who am I), DELETE /api/session (sign out).
 * Guessing is slowed down: after `maxFailures` wrong tokens within a minute, sign-in answers 429
 * until the minute is over (bearer requests are not affected).
 */
export const registerSessionRoutes = (
  app: Hono,
  deps: { auth: ApiAuth; sessions: Sessions; maxFailures?: number; now?: () => number },
): void => {
  const now = deps.now ?? Date.now
  const maxFailures = deps.maxFailures ?? 20
  let window = { start: 0, failures: 0 }
  app.post("/api/session", async (c) => {
    if (now() - window.start > 60_000) window = { start: now(), failures: 0 }
    if (window.failures >= maxFailures) {
      c.header("Retry-After", String(Math.max(1, Math.ceil((window.start + 60_000 - now()) / 1000))))
      return c.json(
        {
          error: {
            code: "rate_limited",
            message: `too many wrong tokens in the last minute: wait ${Math.ceil((window.start + 60_000 - now()) / 1000)} s and sign in again`,
          },
        },
        429,
      )
    }
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      body = undefined
    }
    const { token } = parseWith(SessionRequestSchema, body ?? {}, "sign-in")
    const label = await deps.auth.verify(token)
    if (!label) {
      window.failures += 1
      return c.json(
        {
          error: {
            code: "unauthorized",
            message:
              "that token is not valid: use PRWRIGHT_API_TOKEN, or the token printed when the server first started",
          },
        },
        401,
      )
    }
    const session = deps.sessions.create(`${label} (web)`)
    setCookie(c, SESSION_COOKIE, session.id, {
      httpOnly: true,
      sameSite: "Strict",
      secure: isHttps(c),
      path: "/",
      expires: session.expiresAt,
    })
    c.header("Cache-Control", "no-store")
    return c.json({
      signedIn: true,
      actor: `${label} (web)`,
      expiresAt: session.expiresAt.toISOString(),
      csrfHeader: CSRF_HEADER,
    })
  })

  app.get("/api/session", (c) => {
    const actor = deps.sessions.verify(getCookie(c, SESSION_COOKIE))
    c.header("Cache-Control", "no-store")
    return c.json(
      actor
        ? { signedIn: true, actor, csrfHeader: CSRF_HEADER }
        : { signedIn: false, csrfHeader: CSRF_HEADER },
    )
  })

  app.delete("/api/session", (c) => {
    const id = getCookie(c, SESSION_COOKIE)
    if (!deps.sessions.verify(id)) {
      throw new PrwrightError("unauthorized", "not signed in: there is no session to end")
    }
    if (!c.req.header(CSRF_HEADER)) return csrfRefused(c)
    deps.sessions.remove(id)
    deleteCookie(c, SESSION_COOKIE, { path: "/", secure: isHttps(c), httpOnly: true, sameSite: "Strict" })
    return c.json({ signedIn: false, csrfHeader: CSRF_HEADER })
  })
}
