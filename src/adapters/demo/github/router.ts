/**
 * The GitHub double's handler table: `router.add("GET", "/repos/:owner/:repo/pulls/:number", handler)`.
 * Paths are relative to the API root (`/api/v3`). Handlers return `{ status, body }` or throw `HttpError`;
 * the server turns both into JSON in GitHub's shape.
 */
import type { IncomingHttpHeaders } from "node:http"

export interface Identity {
  token: string
  login: string
  /** GitHub user id of the login */
  id: number
  repos: string[] | "*"
}

export interface RouteContext {
  method: string
  params: Record<string, string>
  query: URLSearchParams
  /** parsed JSON body (undefined when the request had none) */
  body: unknown
  headers: IncomingHttpHeaders
  /** the caller, already authenticated (routes run only for a valid token) */
  identity: Identity
}

export interface RouteResult {
  status: number
  body?: unknown
  headers?: Record<string, string>
  /** send `body` (a string) as it is instead of as JSON (logs, raw media types) */
  raw?: boolean
}

export type RouteHandler = (context: RouteContext) => RouteResult | Promise<RouteResult>

/** Thrown by a handler to answer with GitHub's error shape. */
export class HttpError extends Error {
  readonly status: number
  readonly body: Record<string, unknown>
  constructor(status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message)
    this.status = status
    this.body = {
      message,
      documentation_url: "https://docs.github.com/rest",
      status: String(status),
      ...extra,
    }
  }
}

interface Route {
  method: string
  segments: string[]
  handler: RouteHandler
}

export interface Router {
  add(method: string, pattern: string, handler: RouteHandler): Router
  match(method: string, path: string): { handler: RouteHandler; params: Record<string, string> } | undefined
  /** true when the path exists for some other method (so the answer is 404 rather than nothing) */
  knows(path: string): boolean
}

const split = (path: string): string[] => path.split("/").filter((part) => part.length > 0)

const matchSegments = (pattern: string[], actual: string[]): Record<string, string> | undefined => {
  if (pattern.length !== actual.length) return undefined
  const params: Record<string, string> = {}
  for (const [index, part] of pattern.entries()) {
    const value = actual[index] as string
    if (part.startsWith(":")) params[part.slice(1)] = decodeURIComponent(value)
    else if (part.toLowerCase() !== value.toLowerCase()) return undefined
  }
  return params
}

export const createRouter = (): Router => {
  const routes: Route[] = []
  const router: Router = {
    add(method, pattern, handler) {
      routes.push({ method: method.toUpperCase(), segments: split(pattern), handler })
      return router
    },
    match(method, path) {
      const actual = split(path)
      for (const route of routes) {
        if (route.method !== method.toUpperCase()) continue
        const params = matchSegments(route.segments, actual)
        if (params) return { handler: route.handler, params }
      }
      return undefined
    },
    knows(path) {
      const actual = split(path)
      return routes.some((route) => matchSegments(route.segments, actual) !== undefined)
    },
  }
  return router
}
