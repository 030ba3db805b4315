// Over ~300 lines: the proxy, its address policy (what counts as public) and the in-sandbox relay are one security boundary, reviewed together.
/**
 * The only way out of the sandbox for a setup command (network "setup"): an HTTP proxy the worker
 * runs on the host, listening on a unix socket that is bound into the sandbox (whose own network
 * namespace has nothing but loopback). It forwards plain-HTTP requests and CONNECT tunnels to the
 * hosts the operator lists (PRWRIGHT_SETUP_ALLOW) on ports 80 and 443, resolves names itself, and
 * refuses any address that is not public unicast (loopback, private, link-local/metadata, CGNAT,
 * ULA, multicast …), even for an allowed name, so that DNS cannot point it at the host's services.
 * It connects to the exact address it checked. What it refused is kept for the run's events.
 * See docs/decisions/0005-setup-egress.md.
 */
import { randomUUID } from "node:crypto"
import { lookup } from "node:dns/promises"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http"
import { BlockList, connect, isIP, type Socket } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import type { Duplex } from "node:stream"
import type { Logger } from "#application/ports/logging.js"
import { ConfigError, errorMessage } from "#domain/errors.js"

/** The package registries of the common toolchains: npm, PyPI, Go, crates.io, RubyGems, Maven Central. */
export const DEFAULT_SETUP_ALLOW: readonly string[] = [
  "registry.npmjs.org",
  "registry.yarnpkg.com",
  "pypi.org",
  "files.pythonhosted.org",
  "proxy.golang.org",
  "sum.golang.org",
  "crates.io",
  "index.crates.io",
  "static.crates.io",
  "rubygems.org",
  "index.rubygems.org",
  "repo.maven.apache.org",
  "repo1.maven.org",
]

export const DEFAULT_SETUP_PORTS: readonly number[] = [80, 443]

const NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/

/**
 * PRWRIGHT_SETUP_ALLOW: comma-separated host names, `*.example.com` (any subdomain) or `*` (any
 * public host); `none` or an empty value allows nothing; unset gives DEFAULT_SETUP_ALLOW. Addresses
 * and URLs are refused: the list names hosts, and addresses are checked after resolution anyway.
 */
export const parseSetupAllow = (value: string | undefined): string[] => {
  if (value === undefined) return [...DEFAULT_SETUP_ALLOW]
  const entries = value
    .split(",")
    .map((entry) => entry.trim().toLowerCase().replace(/\.$/, ""))
    .filter((entry) => entry !== "")
  if (entries.length === 1 && entries[0] === "none") return []
  for (const entry of entries) {
    if (entry === "*") continue
    if (
      isIP(entry.replace(/^\[|\]$/g, "")) !== 0 ||
      !NAME.test(entry) ||
      entry === "localhost" ||
      entry.endsWith(".localhost")
    ) {
      throw new ConfigError(
        `invalid configuration: PRWRIGHT_SETUP_ALLOW entry "${entry}" is not a host name: list registry host names separated by commas (e.g. registry.npmjs.org,pypi.org,*.example.com), "*" for any public host or "none"; addresses, ports, URLs and localhost are not allowed`,
      )
    }
  }
  return entries
}

/**
 * PRWRIGHT_SETUP_ALLOW_NETWORKS: comma-separated CIDRs of non-public networks that setup may reach
 * (an internal registry mirror); unset or empty: none. Loopback and link-local are refused anyway.
 */
export const parseSetupNetworks = (value: string | undefined): string[] => {
  const entries = (value ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
  for (const entry of entries) {
    const [address, prefix, rest] = entry.split("/")
    const family = isIP(address ?? "")
    const bits = Number(prefix)
    if (
      family === 0 ||
      rest !== undefined ||
      prefix === undefined ||
      !Number.isInteger(bits) ||
      bits < 0 ||
      bits > (family === 6 ? 128 : 32)
    ) {
      throw new ConfigError(
        `invalid configuration: PRWRIGHT_SETUP_ALLOW_NETWORKS entry "${entry}" is not a CIDR: list networks such as 10.20.0.0/16 or fd00:1::/64, separated by commas`,
      )
    }
  }
  return entries
}

const blocked = (() => {
  const list = new BlockList()
  const v4: Array<[string, number]> = [
    ["0.0.0.0", 8], // "this network"
    ["10.0.0.0", 8],
    ["100.64.0.0", 10], // carrier-grade NAT
    ["127.0.0.0", 8],
    ["169.254.0.0", 16], // link-local, cloud metadata
    ["172.16.0.0", 12],
    ["192.0.0.0", 24],
    ["192.0.2.0", 24],
    ["192.88.99.0", 24],
    ["192.168.0.0", 16],
    ["198.18.0.0", 15],
    ["198.51.100.0", 24],
    ["203.0.113.0", 24],
    ["224.0.0.0", 4], // multicast
    ["240.0.0.0", 4], // reserved, broadcast
  ]
  for (const [network, prefix] of v4) list.addSubnet(network, prefix, "ipv4")
  const v6: Array<[string, number]> = [
    ["::", 127], // unspecified and loopback
    ["::", 96], // IPv4-compatible
    ["64:ff9b::", 96], // NAT64 (embeds an IPv4 address)
    ["64:ff9b:1::", 48],
    ["100::", 64], // discard
    ["2001:db8::", 32], // documentation
    ["2002::", 16], // 6to4 (embeds an IPv4 address)
    ["fc00::", 7], // unique local
    ["fe80::", 10], // link-local
    ["fec0::", 10], // site-local
    ["ff00::", 8], // multicast
  ]
  for (const [network, prefix] of v6) list.addSubnet(network, prefix, "ipv6")
  return list
})()

/** true only for a public unicast address: never loopback, private, link-local, ULA, multicast … */
export const isPublicAddress = (address: string): boolean => {
  const bare = address.replace(/^\[|\]$/g, "")
  const family = isIP(bare)
  if (family === 4) return !blocked.check(bare, "ipv4")
  if (family !== 6) return false
  const mapped = /^::ffff:(?:0:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)
  if (mapped) return isPublicAddress(mapped[1] as string)
  if (/^::ffff:/i.test(bare)) return false
  return !blocked.check(bare, "ipv6")
}

const isLoopback = (address: string): boolean => {
  const bare = address.replace(/^\[|\]$/g, "")
  return bare === "::1" || (isIP(bare) === 4 && bare.startsWith("127."))
}

const nameAllowed = (host: string, allow: readonly string[]): boolean =>
  allow.some(
    (entry) =>
      entry === "*" ||
      entry === host ||
      (entry.startsWith("*.") && host.endsWith(entry.slice(1)) && host.length > entry.length - 1),
  )

export interface SetupEgressOptions {
  /** host names (`name`, `*.suffix`, `*`), as parseSetupAllow returns them */
  allow: readonly string[]
  /** destination ports allowed (default 80 and 443) */
  ports?: readonly number[]
  /** host name → addresses (default: the system resolver, on the host) */
  resolve?: (host: string) => Promise<string[]>
  /**
   * TESTS ONLY: also accept loopback addresses (never private or link-local ones), so that a test
   * can stand a loopback server in for a registry. Never set in production wiring.
   */
  allowLoopbackForTests?: boolean
  /**
   * Non-public networks the operator vouches for, as CIDRs ("10.20.0.0/16", "203.0.113.80/32"): an
   * internal registry mirror, or an egress gateway that answers for every name. Loopback and
   * link-local stay refused whatever is listed here.
   */
  exemptNetworks?: readonly string[]
  connectTimeoutMs?: number
  /** simultaneous connections from the sandbox (default 128) */
  maxConnections?: number
  logger?: Logger | undefined
}

export interface SetupEgressProxy {
  /** the unix socket to bind into the sandbox */
  readonly socketPath: string
  /** `host:port` of every refused destination so far, in order, without repeats */
  refusedHosts(): string[]
  close(): Promise<void>
}

const systemResolve = async (host: string): Promise<string[]> =>
  (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address)

class Refusal extends Error {}

/** `host:port` (IPv6 in brackets) → parts, or undefined when malformed */
const splitTarget = (target: string): { host: string; port: number } | undefined => {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(target)
  if (!match) return undefined
  const port = Number(match[3])
  if (port < 1 || port > 65_535) return undefined
  return { host: (match[1] ?? match[2] ?? "").toLowerCase().replace(/\.$/, ""), port }
}

const display = (host: string, port: number) => `${isIP(host) === 6 ? `[${host}]` : host}:${port}`

const isLinkLocal = (address: string): boolean => {
  const bare = address.replace(/^\[|\]$/g, "")
  return (isIP(bare) === 4 && bare.startsWith("169.254.")) || /^fe[89ab]/i.test(bare)
}

const exemptList = (networks: readonly string[]): BlockList | undefined => {
  if (networks.length === 0) return undefined
  const list = new BlockList()
  for (const network of networks) {
    const [address, prefix] = network.split("/")
    const family = isIP(address ?? "")
    const bits = Number(prefix ?? (family === 6 ? 128 : 32))
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) {
      throw new ConfigError(`setup egress exempt network "${network}" is not a CIDR such as 10.20.0.0/16`)
    }
    list.addSubnet(address as string, bits, family === 6 ? "ipv6" : "ipv4")
  }
  return list
}

export const startSetupEgressProxy = async (options: SetupEgressOptions): Promise<SetupEgressProxy> => {
  const ports = options.ports ?? DEFAULT_SETUP_PORTS
  const exempt = exemptList(options.exemptNetworks ?? [])
  const resolve = options.resolve ?? systemResolve
  const connectTimeoutMs = options.connectTimeoutMs ?? 15_000
  const refused: string[] = []
  const sockets = new Set<Socket | Duplex>()
  const directory = mkdtempSync(path.join(tmpdir(), "prwright-egress-"))
  const socketPath = path.join(directory, `${randomUUID().slice(0, 8)}.sock`)

  const refuse = (host: string, port: number, reason: string): never => {
    const shown = display(host, port)
    if (!refused.includes(shown)) refused.push(shown)
    options.logger?.info("setup egress refused", { host: shown, reason })
    throw new Refusal(`prwright setup egress refused ${shown}: ${reason}`)
  }

  /** the address to connect to, or a Refusal saying why not */
  const decide = async (host: string, port: number): Promise<string> => {
    if (!ports.includes(port)) refuse(host, port, `port ${port} is not allowed (only ${ports.join(", ")})`)
    if (!nameAllowed(host, options.allow)) {
      refuse(host, port, "not in PRWRIGHT_SETUP_ALLOW (the operator lists the registries setup may reach)")
    }
    const usable = (address: string) =>
      isPublicAddress(address) ||
      (options.allowLoopbackForTests === true && isLoopback(address)) ||
      (exempt !== undefined &&
        !isLoopback(address) &&
        !isLinkLocal(address) &&
        exempt.check(
          address.replace(/^\[|\]$/g, ""),
          isIP(address.replace(/^\[|\]$/g, "")) === 6 ? "ipv6" : "ipv4",
        ))
    if (isIP(host) !== 0) {
      if (!usable(host))
        refuse(host, port, "not a public address (loopback, private and link-local are never reachable)")
      return host
    }
    let addresses: string[]
    try {
      addresses = await resolve(host)
    } catch (error) {
      throw new Refusal(`prwright setup egress could not resolve ${host}: ${errorMessage(error)}`)
    }
    if (addresses.length === 0) throw new Refusal(`prwright setup egress found no address for ${host}`)
    // one non-public answer refuses the name: a registry has no business resolving into the host's networks
    if (!addresses.every(usable)) {
      refuse(host, port, "resolves to a loopback, private or link-local address")
    }
    return addresses[0] as string
  }

  const answer = (socket: Duplex, status: string, body: string) => {
    if (socket.destroyed) return
    socket.end(
      `HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body) + 1}\r\nconnection: close\r\n\r\n${body}\n`,
    )
  }

  const onConnect = async (request: IncomingMessage, client: Duplex, head: Buffer) => {
    sockets.add(client)
    client.on("close", () => sockets.delete(client))
    client.on("error", () => client.destroy())
    const target = splitTarget(request.url ?? "")
    if (!target) {
      answer(client, "400 Bad Request", "prwright setup egress: CONNECT needs host:port")
      return
    }
    let address: string
    try {
      address = await decide(target.host, target.port)
    } catch (error) {
      answer(
        client,
        error instanceof Refusal && !/could not resolve|no address/.test(error.message)
          ? "403 Forbidden"
          : "502 Bad Gateway",
        errorMessage(error),
      )
      return
    }
    const upstream = connect({ host: address, port: target.port, timeout: connectTimeoutMs })
    sockets.add(upstream)
    upstream.on("close", () => sockets.delete(upstream))
    upstream.once("timeout", () => upstream.destroy(new Error("connect timed out")))
    upstream.once("connect", () => {
      upstream.setTimeout(0)
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on("error", (error) => {
      if (upstream.connecting || !client.writable)
        answer(client, "502 Bad Gateway", `prwright setup egress: ${error.message}`)
      client.destroy()
    })
    client.on("close", () => upstream.destroy())
  }

  const HOP_BY_HOP = new Set([
    "connection",
    "proxy-connection",
    "proxy-authorization",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
  ])

  const onRequest = async (request: IncomingMessage, response: ServerResponse) => {
    const fail = (status: number, message: string) => {
      if (response.headersSent) {
        response.destroy()
        return
      }
      response.writeHead(status, { "content-type": "text/plain", connection: "close" })
      response.end(`${message}\n`)
    }
    let url: URL
    try {
      url = new URL(request.url ?? "")
    } catch {
      fail(400, "prwright setup egress: send absolute http:// URLs (or CONNECT for https)")
      return
    }
    if (url.protocol !== "http:") {
      fail(400, "prwright setup egress: only http:// is forwarded as a request; https goes through CONNECT")
      return
    }
    const host = url.hostname
      .replace(/^\[|\]$/g, "")
      .toLowerCase()
      .replace(/\.$/, "")
    const port = url.port === "" ? 80 : Number(url.port)
    let address: string
    try {
      address = await decide(host, port)
    } catch (error) {
      fail(
        error instanceof Refusal && !/could not resolve|no address/.test(error.message) ? 403 : 502,
        errorMessage(error),
      )
      return
    }
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) headers[name] = value
    }
    headers.host = url.host
    const upstream = httpRequest(
      {
        host: address,
        port,
        method: request.method,
        path: `${url.pathname}${url.search}`,
        headers,
        setHost: false,
        timeout: connectTimeoutMs,
      },
      (upstreamResponse) => {
        const out: Record<string, string | string[]> = {}
        for (const [name, value] of Object.entries(upstreamResponse.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) out[name] = value
        }
        response.writeHead(upstreamResponse.statusCode ?? 502, out)
        upstreamResponse.pipe(response)
      },
    )
    upstream.on("timeout", () => upstream.destroy(new Error("timed out")))
    upstream.on("error", (error) => fail(502, `prwright setup egress: ${error.message}`))
    request.pipe(upstream)
  }

  const server = createServer()
  // a setup command must not exhaust the worker's file descriptors (each tunnel holds two)
  server.maxConnections = options.maxConnections ?? 128
  server.on("connect", (request: IncomingMessage, client: Duplex, head: Buffer) => {
    onConnect(request, client, head).catch((error) => {
      options.logger?.warn("setup egress proxy failed on a tunnel", { error: errorMessage(error) })
      client.destroy()
    })
  })
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    onRequest(request, response).catch((error) => {
      options.logger?.warn("setup egress proxy failed on a request", { error: errorMessage(error) })
      response.destroy()
    })
  })
  server.on("connection", (socket: Socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  server.on("clientError", (_error, socket) => socket.destroy())

  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once("error", reject)
      server.listen(socketPath, () => {
        server.off("error", reject)
        resolveListen()
      })
    })
  } catch (error) {
    rmSync(directory, { recursive: true, force: true })
    throw error
  }

  let closed: Promise<void> | undefined
  return {
    socketPath,
    refusedHosts: () => [...refused],
    close() {
      closed ??= new Promise<void>((resolveClose) => {
        server.close(() => resolveClose())
        for (const socket of sockets) socket.destroy()
      }).finally(() => rmSync(directory, { recursive: true, force: true }))
      return closed
    },
  }
}
