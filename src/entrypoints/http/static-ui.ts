/**
 * Serves the built web UI (Vite's output, `dist/ui/`): hashed assets cached for a year, and
 * index.html for every UI route (the app routes in the browser). Before the UI is built, `/` says
 * how to build it.
 */
import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import path from "node:path"
import type { Context, Hono } from "hono"
import { homePage } from "./home-page.js"

/** Where `npm run build` puts the UI: dist/ui beside dist/entrypoints (also right when run from src/). */
export const defaultUiDir = (): string => path.resolve(import.meta.dirname, "../../../dist/ui")

/** The pages of the UI; anything else under them is the app's business (e.g. /runs/<id>). */
export const UI_ROUTES = ["/", "/sign-in", "/runs", "/runs/*", "/start", "/overview", "/setup"] as const

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".map": "application/json",
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ")

const secure = (c: Context) => {
  c.header("Content-Security-Policy", CSP)
  c.header("X-Content-Type-Options", "nosniff")
  c.header("X-Frame-Options", "DENY")
  c.header("Referrer-Policy", "no-referrer")
}

export const registerStaticUi = (
  app: Hono,
  options: { uiDir?: string | undefined; version: string },
): void => {
  const dir = options.uiDir ?? defaultUiDir()
  let index: Promise<string | undefined> | undefined
  const indexHtml = () => {
    // read once when present; re-checked while absent, so a build after start is picked up
    index ??= readFile(path.join(dir, "index.html"), "utf8").catch(() => {
      index = undefined
      return undefined
    })
    return index
  }

  for (const route of UI_ROUTES) {
    app.get(route, async (c) => {
      secure(c)
      c.header("Cache-Control", "no-cache")
      const html = await indexHtml()
      return c.html(html ?? homePage(options.version))
    })
  }

  app.get("/assets/*", async (c) => {
    const assets = path.join(dir, "assets")
    const file = path.resolve(assets, `.${c.req.path.slice("/assets".length)}`)
    if (!file.startsWith(`${assets}${path.sep}`) || !existsSync(file)) {
      return c.json({ error: { code: "not_found", message: `no asset ${c.req.path}` } }, 404)
    }
    secure(c)
    c.header("Content-Type", TYPES[path.extname(file)] ?? "application/octet-stream")
    // file names carry a content hash
    c.header("Cache-Control", "public, max-age=31536000, immutable")
    return c.body(await readFile(file))
  })
}
