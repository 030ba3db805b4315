/**
 * The Octokit adapter's HTTP client (github-fetch.ts) against real local servers: what it sends and
 * answers, redirects (the token never follows one to another origin), aborts, failures shaped like
 * fetch's, compressed bodies and HTTPS with a certificate made here by openssl.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import http, { type IncomingMessage, type ServerResponse } from "node:http"
import https from "node:https"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { gzipSync } from "node:zlib"
import { Octokit } from "@octokit/rest"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createGitHubFetch } from "#adapters/github/github-fetch.js"

interface Seen {
  method: string
  url: string
  headers: IncomingMessage["headers"]
  body: string
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void

const listen = async (handler: Handler, server = http.createServer()) => {
  const seen: Seen[] = []
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8")
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body })
      handler(req, res, body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return { server, seen, port }
}

describe("github-fetch (the Octokit adapter's HTTP client)", () => {
  const githubFetch = createGitHubFetch()
  let api: Awaited<ReturnType<typeof listen>>
  let storage: Awaited<ReturnType<typeof listen>>
  let base = ""

  beforeAll(async () => {
    // a second origin, like the signed storage URL GitHub sends job logs to
    storage = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" })
      res.end("the log")
    })
    api = await listen((req, res, body) => {
      const url = new URL(req.url ?? "/", "http://x")
      if (url.pathname === "/echo") {
        res.writeHead(201, {
          "content-type": "application/json",
          "x-ratelimit-remaining": "41",
          "set-cookie": ["a=1", "b=2"],
        })
        return res.end(JSON.stringify({ method: req.method, body, auth: req.headers.authorization ?? null }))
      }
      if (url.pathname === "/empty") return res.writeHead(204).end()
      if (url.pathname === "/not-modified") return res.writeHead(304, { etag: '"v1"' }).end()
      if (url.pathname === "/moved") return res.writeHead(301, { location: "/echo" }).end()
      if (url.pathname === "/see-other") return res.writeHead(303, { location: "/echo" }).end()
      if (url.pathname === "/temporary") return res.writeHead(307, { location: "/echo" }).end()
      if (url.pathname === "/logs")
        return res.writeHead(302, { location: `http://127.0.0.1:${storage.port}/signed?sig=1` }).end()
      if (url.pathname === "/loop") return res.writeHead(302, { location: "/loop" }).end()
      if (url.pathname === "/gzip") {
        res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" })
        return res.end(gzipSync(JSON.stringify({ zipped: true })))
      }
      if (url.pathname === "/hang") return // never answers
      res.writeHead(404).end()
    })
    base = `http://127.0.0.1:${api.port}`
  })
  afterAll(async () => {
    for (const s of [api, storage]) {
      s?.server.closeAllConnections()
      await new Promise((resolve) => s?.server.close(resolve))
    }
  })

  it("sends the method, headers and a UTF-8 body with its byte length, and answers status, headers and body", async () => {
    const response = await githubFetch(`${base}/echo`, {
      method: "POST",
      headers: { Authorization: "token ghp_local_0123", "content-type": "application/json" },
      body: JSON.stringify({ text: "héllo ✓" }),
    })
    expect(response.status).toBe(201)
    expect(response.url).toBe(`${base}/echo`)
    expect(response.redirected).toBe(false)
    expect(response.headers.get("x-ratelimit-remaining")).toBe("41")
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"])
    expect(await response.json()).toEqual({
      method: "POST",
      body: JSON.stringify({ text: "héllo ✓" }),
      auth: "token ghp_local_0123",
    })
    const sent = api.seen.at(-1)
    expect(sent?.headers["content-length"]).toBe(String(Buffer.byteLength(sent?.body ?? "")))
  })

  it("answers 204 and 304 without a body, as fetch does", async () => {
    const empty = await githubFetch(`${base}/empty`, { method: "DELETE" })
    expect([empty.status, empty.body]).toEqual([204, null])
    const cached = await githubFetch(`${base}/not-modified`, { headers: { "if-none-match": '"v1"' } })
    expect([cached.status, cached.body, cached.headers.get("etag")]).toEqual([304, null, '"v1"'])
  })

  it("follows redirects like fetch: 301 and 307 keep the method and body, 303 becomes a GET", async () => {
    const moved = await githubFetch(`${base}/moved`, { headers: { authorization: "token t" } })
    expect(moved.redirected).toBe(true)
    expect(moved.url).toBe(`${base}/echo`)
    expect(await moved.json()).toMatchObject({ method: "GET", auth: "token t" })
    const kept = await githubFetch(`${base}/temporary`, { method: "PATCH", body: "x" })
    expect(await kept.json()).toMatchObject({ method: "PATCH", body: "x" })
    const other = await githubFetch(`${base}/see-other`, {
      method: "POST",
      body: "x",
      headers: { "content-type": "text/plain" },
    })
    expect(await other.json()).toMatchObject({ method: "GET", body: "" })
    expect(api.seen.at(-1)?.headers["content-type"]).toBeUndefined()
  })

  it("never sends the token to another origin a redirect points at (GitHub's signed log URLs)", async () => {
    const response = await githubFetch(`${base}/logs`, {
      headers: { authorization: "token ghp_must_not_leave_0123", cookie: "s=1", accept: "text/plain" },
    })
    expect(await response.text()).toBe("the log")
    expect(response.url).toBe(`http://127.0.0.1:${storage.port}/signed?sig=1`)
    const atStorage = storage.seen.at(-1)
    expect(atStorage?.headers.authorization).toBeUndefined()
    expect(atStorage?.headers.cookie).toBeUndefined()
    expect(atStorage?.headers.accept).toBe("text/plain")
    // the first hop had it
    expect(api.seen.at(-1)?.headers.authorization).toBe("token ghp_must_not_leave_0123")
  })

  it("stops after 20 redirects, and obeys redirect: manual and error", async () => {
    const looping = await githubFetch(`${base}/loop`).catch((error: unknown) => error)
    expect(looping).toBeInstanceOf(TypeError)
    expect(String((looping as TypeError).cause)).toMatch(/more than 20 redirects/)
    const manual = await githubFetch(`${base}/moved`, { redirect: "manual" })
    expect([manual.status, manual.headers.get("location")]).toEqual([301, "/echo"])
    await expect(githubFetch(`${base}/moved`, { redirect: "error" })).rejects.toBeInstanceOf(TypeError)
  })

  it("decodes a gzip body", async () => {
    expect(await (await githubFetch(`${base}/gzip`)).json()).toEqual({ zipped: true })
  })

  it("fails like fetch: a refused connection is TypeError('fetch failed') with the cause, an abort is the signal's reason", async () => {
    const closed = await listen(() => {})
    const port = closed.port
    await new Promise((resolve) => closed.server.close(resolve))
    const refused = await githubFetch(`http://127.0.0.1:${port}/`).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(TypeError)
    expect((refused as TypeError).message).toBe("fetch failed")
    expect(String((refused as TypeError).cause)).toMatch(/ECONNREFUSED/)

    const controller = new AbortController()
    const hanging = githubFetch(`${base}/hang`, { signal: controller.signal })
    setTimeout(() => controller.abort(new Error("gave up")), 50)
    await expect(hanging).rejects.toThrow("gave up")
    await expect(githubFetch(`${base}/echo`, { signal: AbortSignal.abort() })).rejects.toBeDefined()

    const impatient = createGitHubFetch({ idleTimeoutMs: 100 })
    const silent = await impatient(`${base}/hang`).catch((error: unknown) => error)
    expect(silent).toBeInstanceOf(TypeError)
    expect(String((silent as TypeError).cause)).toMatch(/no answer .* for 100 ms/)
  })

  it("carries Octokit's requests and errors as the built-in fetch does", async () => {
    const octokit = new Octokit({ baseUrl: base, auth: "ghp_octokit_0123", request: { fetch: githubFetch } })
    const { data, status, headers } = await octokit.request("POST /echo", { answer: 42 })
    expect(status).toBe(201)
    expect(headers["x-ratelimit-remaining"]).toBe("41")
    expect(data).toMatchObject({
      method: "POST",
      body: JSON.stringify({ answer: 42 }),
      auth: "token ghp_octokit_0123",
    })
    const missing = await octokit.request("GET /nothing-here").catch((error: { status?: number }) => error)
    expect(missing.status).toBe(404)
  })

  it("speaks HTTPS (a certificate made here, trusted through `ca`)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "github-fetch-tls-"))
    try {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=localhost",
          "-addext",
          "subjectAltName=IP:127.0.0.1,DNS:localhost",
          "-keyout",
          path.join(dir, "key.pem"),
          "-out",
          path.join(dir, "cert.pem"),
        ],
        { stdio: "ignore" },
      )
      const cert = readFileSync(path.join(dir, "cert.pem"))
      const secure = await listen(
        (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"tls":true}'),
        https.createServer({ key: readFileSync(path.join(dir, "key.pem")), cert }),
      )
      try {
        const trusting = createGitHubFetch({ ca: cert })
        expect(await (await trusting(`https://127.0.0.1:${secure.port}/`)).json()).toEqual({ tls: true })
        // without the certificate trusted, the connection is refused as fetch refuses it
        const strict = await githubFetch(`https://127.0.0.1:${secure.port}/`).catch((error: unknown) => error)
        expect(strict).toBeInstanceOf(TypeError)
        expect(String((strict as TypeError).cause)).toMatch(/self.signed|certificate/i)
      } finally {
        secure.server.closeAllConnections()
        await new Promise((resolve) => secure.server.close(resolve))
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
