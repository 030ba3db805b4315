/** A small client for prwright's own HTTP API, used by the CLI commands that talk to a server. */
export interface ApiClient {
  baseUrl: string
  request<T>(method: string, path: string, body?: unknown): Promise<T>
  /** yields parsed SSE messages until the server ends the stream */
  events(path: string, lastEventId?: number): AsyncGenerator<{ id?: string; event?: string; data: string }>
}

export class ApiRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
    this.name = "ApiRequestError"
  }
}

export const createApiClient = (options: {
  baseUrl: string
  token?: string | undefined
  fetch?: typeof fetch
}): ApiClient => {
  const doFetch = options.fetch ?? fetch
  const baseUrl = options.baseUrl.replace(/\/+$/, "")
  const headers = (extra: Record<string, string> = {}) => ({
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...extra,
  })
  const send = async (method: string, path: string, init: RequestInit): Promise<Response> => {
    try {
      return await doFetch(`${baseUrl}${path}`, { method, ...init })
    } catch (error) {
      throw new ApiRequestError(
        `cannot reach prwright at ${baseUrl} (${(error as Error).message}): start it with \`prwright serve\`, or set PRWRIGHT_URL`,
        0,
      )
    }
  }
  const fail = async (response: Response): Promise<never> => {
    const text = await response.text()
    let message = text
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text
    } catch {}
    if (response.status === 401) message += " (set PRWRIGHT_API_TOKEN to the server's API token)"
    throw new ApiRequestError(`${response.status}: ${message}`, response.status)
  }
  return {
    baseUrl,
    async request<T>(method: string, path: string, body?: unknown) {
      const response = await send(method, path, {
        headers: headers(body === undefined ? {} : { "content-type": "application/json" }),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      if (!response.ok) await fail(response)
      return (await response.json()) as T
    },
    async *events(path, lastEventId) {
      const response = await send("GET", path, {
        headers: headers({
          accept: "text/event-stream",
          ...(lastEventId ? { "last-event-id": String(lastEventId) } : {}),
        }),
      })
      if (!response.ok || !response.body) await fail(response)
      const decoder = new TextDecoder()
      let buffer = ""
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        let index = buffer.indexOf("\n\n")
        while (index >= 0) {
          const block = buffer.slice(0, index)
          buffer = buffer.slice(index + 2)
          const message: { id?: string; event?: string; data: string } = { data: "" }
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue
            const [field, ...rest] = line.split(":")
            const value = rest.join(":").replace(/^ /, "")
            if (field === "id") message.id = value
            else if (field === "event") message.event = value
            else if (field === "data") message.data += message.data ? `\n${value}` : value
          }
          if (message.data || message.event) yield message
          index = buffer.indexOf("\n\n")
        }
      }
    },
  }
}
