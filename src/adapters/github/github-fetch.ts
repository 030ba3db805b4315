/**
 * The HTTP client under the Octokit adapter: `fetch`'s contract on node:http/node:https with kept-alive
 * connections. Node's built-in fetch (undici) spent about 1 ms of CPU on each GitHub request (a Request,
 * an AbortSignal and Web streams per call, its HTTP parser in WebAssembly); the webhook intake sends one
 * per command comment (its reaction), and that was a third of the intake's CPU under a burst (`npm run
 * bench:webhooks`). This client does what Octokit asks of fetch and nothing else:
 *
 * - method, headers (a plain object, a Headers or pairs) and a string or byte body; any other body
 *   (a stream, a Blob, FormData) goes to the built-in fetch unchanged;
 * - redirects as fetch follows them: at most 20; 303 (and 301/302 after a POST) become a GET without
 *   body; `Authorization`, `Cookie` and `Proxy-Authorization` are dropped when a redirect leaves the
 *   origin (GitHub sends job logs to a signed storage URL that must never see the token);
 *   `redirect: "manual"` returns the 3xx, `"error"` fails;
 * - `signal`: an abort fails the call with the signal's reason and closes the connection;
 * - gzip, deflate and brotli bodies are decoded (none is asked for, but a proxy may send one);
 * - a connection or protocol failure rejects with `TypeError("fetch failed", { cause })`, as fetch does,
 *   so Octokit and rate-limits.ts see the same failure; a connection idle for `idleTimeoutMs` (5 min,
 *   like fetch's header and body timeouts) fails that way too.
 *
 * The answer is a real `Response` (status, statusText, headers, the final `url`, `redirected`).
 */
import http from "node:http"
import https from "node:https"
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib"

export interface GitHubFetchOptions {
  /** connections kept per host (default 32) */
  maxSockets?: number
  /** a connection silent this long fails the request (default 300,000) */
  idleTimeoutMs?: number
  /** extra trusted certificates (tests; GitHub Enterprise with a private CA uses NODE_EXTRA_CA_CERTS) */
  ca?: string | Buffer | undefined
}

const MAX_REDIRECTS = 20
const REDIRECTS = new Set([301, 302, 303, 307, 308])
/** statuses whose Response must have no body */
const NULL_BODY = new Set([101, 103, 204, 205, 304])
/** dropped when a redirect goes to another origin (as fetch does) */
const ORIGIN_BOUND = ["authorization", "cookie", "proxy-authorization"]

const failed = (cause: unknown): TypeError => new TypeError("fetch failed", { cause })

const headersOf = (init: RequestInit["headers"]): Record<string, string> => {
  const out: Record<string, string> = {}
  if (!init) return out
  if (init instanceof Headers || Array.isArray(init)) {
    for (const [name, value] of init instanceof Headers ? init.entries() : init)
      out[String(name).toLowerCase()] = String(value)
    return out
  }
  for (const [name, value] of Object.entries(init)) out[name.toLowerCase()] = String(value)
  return out
}

const decode = (body: Buffer, encoding: string | undefined): Buffer => {
  switch (encoding?.trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return gunzipSync(body)
    case "deflate":
      return inflateSync(body)
    case "br":
      return brotliDecompressSync(body)
    default:
      return body
  }
}

export const createGitHubFetch = (options: GitHubFetchOptions = {}): typeof fetch => {
  // an idle kept-alive connection is closed after 4 s (undici's default; Node also honours a shorter
  // `Keep-Alive: timeout=` from the server), so a request rarely meets one the server already dropped
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 32, timeout: 4_000 }
  const agents = {
    "http:": new http.Agent(agentOptions),
    "https:": new https.Agent({ ...agentOptions, ...(options.ca ? { ca: options.ca } : {}) }),
  }
  const idleTimeoutMs = options.idleTimeoutMs ?? 300_000

  /** one exchange, no redirect handling */
  const exchange = (
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: Uint8Array | undefined,
    signal: AbortSignal | undefined,
  ) =>
    new Promise<{ status: number; statusText: string; headers: Headers; body: Buffer }>((resolve, reject) => {
      const agent = agents[url.protocol as keyof typeof agents]
      if (!agent) return reject(failed(new Error(`unsupported protocol ${url.protocol}`)))
      const request = (url.protocol === "https:" ? https : http).request(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ""),
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          method,
          headers: body === undefined ? headers : { ...headers, "content-length": String(body.byteLength) },
          agent,
        },
        (response) => {
          const chunks: Buffer[] = []
          response.on("data", (chunk: Buffer) => chunks.push(chunk))
          response.on("error", (error) => reject(failed(error)))
          response.on("end", () => {
            const answer = new Headers()
            for (let i = 0; i + 1 < response.rawHeaders.length; i += 2)
              answer.append(response.rawHeaders[i] as string, response.rawHeaders[i + 1] as string)
            let bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
            try {
              bytes = decode(bytes, answer.get("content-encoding") ?? undefined)
            } catch (error) {
              return reject(failed(error))
            }
            signal?.removeEventListener("abort", onAbort)
            resolve({
              status: response.statusCode ?? 0,
              statusText: response.statusMessage ?? "",
              headers: answer,
              body: bytes,
            })
          })
        },
      )
      const onAbort = () => {
        request.destroy()
        reject(signal?.reason)
      }
      signal?.addEventListener("abort", onAbort, { once: true })
      request.setTimeout(idleTimeoutMs, () =>
        request.destroy(new Error(`no answer from ${url.host} for ${idleTimeoutMs} ms`)),
      )
      request.on("error", (error) => {
        signal?.removeEventListener("abort", onAbort)
        reject(signal?.aborted ? signal.reason : failed(error))
      })
      request.end(body)
    })

  const githubFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = init.body ?? undefined
    // what this client does not speak goes to the built-in fetch: a Request, a streamed or form body
    if (
      input instanceof Request ||
      (body !== undefined && typeof body !== "string" && !(body instanceof Uint8Array))
    )
      return fetch(input, init)
    const signal = init.signal ?? undefined
    if (signal?.aborted) throw signal.reason
    let url = new URL(String(input))
    let method = (init.method ?? "GET").toUpperCase()
    let headers = headersOf(init.headers)
    let sent: Uint8Array | undefined = typeof body === "string" ? Buffer.from(body) : body
    for (let hop = 0; ; hop++) {
      const answer = await exchange(url, method, headers, sent, signal)
      const location = answer.headers.get("location")
      if (REDIRECTS.has(answer.status) && location !== null && init.redirect !== "manual") {
        // where to, without its query: a signed URL's signature is a credential
        if (init.redirect === "error")
          throw failed(new Error(`unexpected redirect to ${new URL(location, url).origin}`))
        if (hop >= MAX_REDIRECTS) throw failed(new Error(`more than ${MAX_REDIRECTS} redirects`))
        const next = new URL(location, url)
        if (next.protocol !== "http:" && next.protocol !== "https:")
          throw failed(new Error(`redirect to a ${next.protocol} URL`))
        if (answer.status === 303 ? method !== "HEAD" : method === "POST" && answer.status <= 302) {
          method = "GET"
          sent = undefined
          const { "content-type": _type, "content-length": _length, ...rest } = headers
          headers = rest
        }
        if (next.origin !== url.origin)
          headers = Object.fromEntries(
            Object.entries(headers).filter(([name]) => !ORIGIN_BOUND.includes(name)),
          )
        url = next
        continue
      }
      const response = new Response(NULL_BODY.has(answer.status) || method === "HEAD" ? null : answer.body, {
        status: answer.status,
        statusText: answer.statusText,
        headers: answer.headers,
      })
      Object.defineProperty(response, "url", { value: url.href })
      Object.defineProperty(response, "redirected", { value: hop > 0 })
      return response
    }
  }
  return githubFetch as typeof fetch
}
