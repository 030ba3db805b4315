import { createHmac, timingSafeEqual } from "node:crypto"
import type { IncomingMessage } from "node:http"
import type { Context, Hono } from "hono"
import type { GitHubEventOutcome, HandleGitHubEvent } from "#application/handle-github-event.js"
import type { Logger } from "#application/ports/logging.js"
import { ValidationError } from "#domain/errors.js"

/**
 * `POST /api/webhooks/github`: authenticated by GitHub's HMAC signature over the raw body, not by the
 * API token, so it is mounted outside the bearer-auth routes. Refused while no secret is configured:
 * an unsigned webhook endpoint would let anyone start paid runs.
 */

export const WEBHOOK_PATH = "/api/webhooks/github"
/** GitHub caps payloads at 25 MB; the events prwright reads (issues, comments, reviews, workflow runs) are far below this */
export const WEBHOOK_MAX_BYTES = 1024 * 1024

export interface WebhookDeps {
  /** GITHUB_WEBHOOK_SECRET; undefined disables the endpoint */
  secret?: string | undefined
  handle: HandleGitHubEvent
  logger: Logger
  maxBytes?: number
}

/** `sha256=<hex>` of the raw body, compared in constant time. */
export const verifySignature = (secret: string, raw: Uint8Array, header: string | undefined): boolean => {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? "")
  if (!match?.[1]) return false
  const expected = createHmac("sha256", secret).update(raw).digest()
  const given = Buffer.from(match[1], "hex")
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** The header value GitHub would send for `raw` (for tests and scripts that replay deliveries). */
export const signPayload = (secret: string, raw: string | Uint8Array): string =>
  `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`

const error = (code: string, message: string) => ({ error: { code, message } })

/** Node's request, when @hono/node-server serves the app (it passes `{ incoming, outgoing }` as env). */
const nodeRequestOf = (c: Context): IncomingMessage | undefined => {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming
  return incoming !== null &&
    typeof incoming === "object" &&
    "headers" in incoming &&
    typeof (incoming as IncomingMessage).on === "function"
    ? (incoming as IncomingMessage)
    : undefined
}

/** Collects at most `maxBytes` of a body; "too-large" as soon as it is over (the rest is not kept). */
const collect = (
  source: AsyncIterable<Uint8Array> | IncomingMessage,
  maxBytes: number,
): Promise<Uint8Array | "too-large"> => {
  if (!("on" in source)) {
    return (async () => {
      const chunks: Uint8Array[] = []
      let size = 0
      for await (const chunk of source) {
        size += chunk.byteLength
        if (size > maxBytes) return "too-large"
        chunks.push(chunk)
      }
      return Buffer.concat(chunks)
    })()
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const done = (result: Uint8Array | "too-large") => {
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
      // what is left is drained by the server once the answer is sent
      if (result === "too-large") source.pause()
      resolve(result)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) done("too-large")
      else chunks.push(chunk)
    }
    const onEnd = () => done(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks))
    const onError = (cause: Error) => {
      source.off("data", onData)
      source.off("end", onEnd)
      reject(cause)
    }
    source.on("data", onData)
    source.on("end", onEnd)
    source.on("error", onError)
  })
}

/**
 * The raw body and the headers the intake reads. Under @hono/node-server they come straight from Node's
 * request: building the Web Request (headers object, a ReadableStream over the socket, an AbortSignal)
 * to read a small JSON body cost more CPU than checking its signature (measured by `npm run
 * bench:webhooks`). Elsewhere (tests' `app.request`, other runtimes) through the Request.
 */
const readDelivery = async (
  c: Context,
  maxBytes: number,
): Promise<{ raw: Uint8Array | "too-large"; header: (name: string) => string | undefined }> => {
  const incoming = nodeRequestOf(c)
  const header = incoming
    ? (name: string) => {
        const value = incoming.headers[name]
        return Array.isArray(value) ? value.join(", ") : value
      }
    : (name: string) => c.req.header(name)
  // a declared length over the limit is refused before anything is read
  const declared = Number(header("content-length") ?? Number.NaN)
  if (declared > maxBytes) return { raw: "too-large", header }
  const body = incoming ?? c.req.raw.body
  return { raw: body ? await collect(body, maxBytes) : new Uint8Array(), header }
}

/** GitHub sends JSON, or `payload=<json>` when the hook's content type is form-encoded. */
const payloadOf = (raw: Uint8Array, contentType: string): unknown => {
  let text = Buffer.from(raw).toString("utf8")
  if (/application\/x-www-form-urlencoded/i.test(contentType)) {
    text = new URLSearchParams(text).get("payload") ?? ""
  }
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new ValidationError(
      "the webhook body is not JSON: set the hook's content type to application/json",
      [{ field: "(body)", message: "not valid JSON" }],
    )
  }
}

const answer = (outcome: GitHubEventOutcome) => {
  if (outcome.outcome === "started") {
    const statusUrl = `/api/jobs/${outcome.jobId}`
    return {
      status: 202 as const,
      body: {
        status: "started",
        jobId: outcome.jobId,
        type: outcome.type,
        repoFullName: outcome.repoFullName,
        issueNumber: outcome.issueNumber,
        statusUrl,
        eventsUrl: `${statusUrl}/events`,
      },
    }
  }
  return {
    status: 200 as const,
    body: {
      status: outcome.outcome,
      reason: outcome.reason,
      ...("jobId" in outcome ? { jobId: outcome.jobId } : {}),
    },
  }
}

export const registerWebhookRoutes = (app: Hono, deps: WebhookDeps): void => {
  const maxBytes = deps.maxBytes ?? WEBHOOK_MAX_BYTES
  const log = deps.logger.child({ component: "webhooks" })
  app.post(WEBHOOK_PATH, async (c) => {
    // before reading the body: a disabled endpoint does no work for anyone
    if (!deps.secret)
      return c.json(
        error(
          "unavailable",
          "GitHub webhooks are disabled on this server: set GITHUB_WEBHOOK_SECRET to the secret of the repository's (or app's) webhook and restart",
        ),
        503,
      )
    const { raw, header } = await readDelivery(c, maxBytes)
    if (raw === "too-large")
      return c.json(
        error(
          "too_large",
          `webhook body is over ${maxBytes} bytes; prwright reads issues, comments, reviews and workflow runs only: send only those events`,
        ),
        413,
      )
    const signature = header("x-hub-signature-256")
    if (!verifySignature(deps.secret, raw, signature)) {
      log.warn("webhook refused: bad or missing signature", {
        delivery: header("x-github-delivery"),
        signed: signature !== undefined,
      })
      return c.json(
        error(
          "unauthorized",
          signature
            ? "X-Hub-Signature-256 does not match the body: the webhook's secret differs from GITHUB_WEBHOOK_SECRET"
            : "missing X-Hub-Signature-256: give the GitHub webhook a secret equal to GITHUB_WEBHOOK_SECRET",
        ),
        401,
      )
    }
    const name = header("x-github-event")
    const deliveryId = header("x-github-delivery")
    if (!name || !deliveryId) {
      throw new ValidationError("a GitHub webhook carries X-GitHub-Event and X-GitHub-Delivery headers", [
        ...(name ? [] : [{ field: "X-GitHub-Event", message: "missing" }]),
        ...(deliveryId ? [] : [{ field: "X-GitHub-Delivery", message: "missing" }]),
      ])
    }
    if (name === "ping") return c.json({ status: "pong" }, 200)
    const payload = payloadOf(raw, header("content-type") ?? "")
    const outcome = await deps.handle({ name, deliveryId, payload })
    log.debug("webhook handled", { event: name, delivery: deliveryId, outcome: outcome.outcome })
    const { status, body } = answer(outcome)
    return c.json(body, status)
  })
}
