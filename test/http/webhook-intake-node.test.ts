/**
 * The webhook route as Node serves it (@hono/node-server on a real port): under Node the intake reads
 * the body and headers straight from Node's request (webhooks.ts), and `app.request` (the other tests)
 * takes the Web Request path. Both must agree on what is accepted: a body arriving in many chunks, a
 * form-encoded delivery, a bad signature, and bodies over the limit with and without Content-Length.
 */
import { request as httpRequest } from "node:http"
import type { AddressInfo } from "node:net"
import { serve } from "@hono/node-server"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { signPayload } from "#entrypoints/http/webhooks.js"
import { commentPayload, signedDelivery } from "../doubles/github/webhook-payloads.js"
import { startTestHttpApp, type TestHttpApp } from "../support/http-app.js"

const SECRET = "whsec_node_intake_0123456789"
const MAX = 1024 * 1024

describe("POST /api/webhooks/github served by Node", () => {
  let served: TestHttpApp
  let server: ReturnType<typeof serve>
  let port = 0

  beforeAll(async () => {
    served = await startTestHttpApp({
      token: "prw_node_intake_token_0123",
      prefix: "prwright-node-intake-",
      // no GitHub request is made: every delivery here is one the intake ignores or refuses
      env: { GITHUB_TOKEN: "ghp_unused_0123456789", GITHUB_API_URL: "http://127.0.0.1:9/api/v3" },
      extra: (container) => ({ webhooks: { secret: SECRET, handle: container.webhooks.handle } }),
    })
    server = serve({ fetch: served.app.fetch, port: 0, hostname: "127.0.0.1" })
    await new Promise((resolve) => server.once("listening", resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve))
    await served?.close()
  })

  /** posts `chunks` one write each; without `length` the body goes chunked (no Content-Length) */
  const post = (headers: Record<string, string>, chunks: Array<string | Buffer>, length = true) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const total = chunks.reduce((n, chunk) => n + Buffer.byteLength(chunk), 0)
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port,
          path: "/api/webhooks/github",
          method: "POST",
          headers: { ...headers, ...(length ? { "content-length": String(total) } : {}) },
        },
        (res) => {
          let text = ""
          res.setEncoding("utf8")
          res.on("data", (chunk: string) => (text += chunk))
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || "{}") }))
        },
      )
      // the server may answer 413 and stop reading before the whole body is written
      req.on("error", (error: NodeJS.ErrnoException) =>
        error.code === "EPIPE" || error.code === "ECONNRESET" ? undefined : reject(error),
      )
      const write = (index: number) => {
        if (index >= chunks.length) return void req.end()
        req.write(chunks[index], () => setImmediate(() => write(index + 1)))
      }
      write(0)
    })

  const comment = () =>
    signedDelivery(
      "issue_comment",
      commentPayload({ repo: "acme/widgets", issue: 3, body: "lgtm, thanks", sender: { login: "alice" } }),
      { secret: SECRET },
    )

  it("reads a body that arrives in many chunks, whole, and checks its signature over every byte", async () => {
    const delivery = comment()
    const pieces = delivery.body.match(/[\s\S]{1,97}/g) ?? []
    expect(pieces.length).toBeGreaterThan(10)
    const answer = await post(delivery.headers, pieces)
    expect(answer).toEqual({ status: 200, body: expect.objectContaining({ status: "ignored" }) })
    // the same bytes, one flipped: the signature no longer matches
    const flipped = [...pieces]
    flipped[5] = `${flipped[5]?.slice(0, -1)}${flipped[5]?.endsWith("a") ? "b" : "a"}`
    const refused = await post(delivery.headers, flipped)
    expect(refused.status).toBe(401)
    expect(JSON.stringify(refused.body)).toContain("does not match the body")
  })

  it("takes a form-encoded delivery (payload=…), signed over the form body", async () => {
    const delivery = comment()
    const form = `payload=${encodeURIComponent(delivery.body)}`
    const answer = await post(
      {
        ...delivery.headers,
        "content-type": "application/x-www-form-urlencoded",
        "x-hub-signature-256": signPayload(SECRET, form),
      },
      [form],
    )
    expect(answer).toEqual({ status: 200, body: expect.objectContaining({ status: "ignored" }) })
  })

  it("refuses a body over the limit, declared or streamed without a length, before handling it", async () => {
    const big = JSON.stringify({ padding: "x".repeat(MAX + 10) })
    const headers = {
      "content-type": "application/json",
      "x-github-event": "issues",
      "x-github-delivery": "d-big",
      "x-hub-signature-256": signPayload(SECRET, big),
    }
    const declared = await post(headers, [big])
    expect(declared.status).toBe(413)
    expect(JSON.stringify(declared.body)).toContain("too_large")
    const chunked = await post(headers, big.match(/[\s\S]{1,65536}/g) ?? [], false)
    expect(chunked.status).toBe(413)
    // the server is still fine for the next delivery
    const delivery = comment()
    expect((await post(delivery.headers, [delivery.body], false)).status).toBe(200)
  })
})
