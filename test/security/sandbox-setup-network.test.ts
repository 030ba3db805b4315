/**
 * Weakness 2: setup shared the host's network. A repository's setup command (network "setup") tries
 * the worker's own services on 127.0.0.1 (Redis, PostgreSQL, a host server, an abstract unix socket),
 * the cloud metadata address and private ranges. It must reach none of them: the sandbox has its own
 * network namespace (only its own loopback, no route), and the only way out is the host-side proxy,
 * which allows only listed registry names, resolves them itself and refuses any non-public address.
 * No test here sends a packet off this machine: refusals happen before any connection is made.
 */
import { randomUUID } from "node:crypto"
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs"
import { createServer as createHttpServer, type Server as HttpServer } from "node:http"
import { connect, createConnection, createServer, type Server } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { createBwrapSandbox } from "#adapters/sandbox/bwrap-sandbox.js"
import {
  DEFAULT_SETUP_ALLOW,
  isPublicAddress,
  parseSetupAllow,
  type SetupEgressProxy,
  startSetupEgressProxy,
} from "#adapters/sandbox/setup-egress.js"
import type { SandboxCommand } from "#application/ports/sandbox.js"
import { ConfigError } from "#domain/errors.js"
import { bwrapWorks, SKIP_NO_BWRAP } from "./sandbox-support.js"

/** sends one raw request to the proxy's unix socket and returns the status line of its answer */
const ask = (socketPath: string, request: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = createConnection(socketPath)
    let answer = ""
    socket.setTimeout(5_000, () => {
      socket.destroy()
      reject(new Error(`no answer to ${JSON.stringify(request)}`))
    })
    socket.on("connect", () => socket.write(request))
    socket.on("data", (chunk) => {
      answer += chunk.toString()
      if (answer.includes("\r\n")) {
        socket.destroy()
        resolve(answer.slice(0, answer.indexOf("\r\n")))
      }
    })
    socket.on("error", reject)
    socket.on("close", () => resolve(answer.split("\r\n")[0] ?? ""))
  })

const connectRequest = (target: string) => `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`

/** whether a TCP service answers on the host's loopback (so that "the sandbox cannot" means something) */
const hostReaches = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port })
    socket.setTimeout(2_000, () => {
      socket.destroy()
      resolve(false)
    })
    socket.on("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.on("error", () => resolve(false))
  })

describe("setup egress proxy (host side)", () => {
  let proxy: SetupEgressProxy | undefined
  let lookups: string[]
  const start = (allow: string[], addresses: Record<string, string[]> = {}) => {
    lookups = []
    return startSetupEgressProxy({
      allow,
      resolve: async (host) => {
        lookups.push(host)
        const found = addresses[host]
        if (!found) throw new Error(`test resolver: no address for ${host}`)
        return found
      },
    })
  }
  afterEach(async () => {
    await proxy?.close()
    proxy = undefined
  })

  it("refuses loopback, private, link-local, metadata and IPv6 loopback literals even when every name is allowed", async () => {
    proxy = await start(["*"])
    for (const target of [
      "127.0.0.1:443",
      "127.9.9.9:443",
      "10.0.0.1:443",
      "172.16.5.4:443",
      "192.168.1.1:443",
      "169.254.169.254:80",
      "100.64.0.1:443",
      "0.0.0.0:443",
      "[::1]:443",
      "[::ffff:127.0.0.1]:443",
      "[fd00::1]:443",
      "[fe80::1]:443",
    ]) {
      expect(await ask(proxy.socketPath, connectRequest(target)), target).toMatch(/^HTTP\/1\.1 403/)
    }
    const refused = proxy.refusedHosts()
    expect(refused).toContain("169.254.169.254:80")
    expect(refused).toContain("[::1]:443")
    expect(refused).toHaveLength(12)
    expect(lookups).toEqual([])
  })

  it("refuses plain-HTTP requests to the metadata address and to loopback services", async () => {
    proxy = await start(["*"])
    for (const url of [
      "http://169.254.169.254/latest/meta-data/",
      "http://127.0.0.1:6379/",
      "http://[::1]:5432/",
    ]) {
      expect(await ask(proxy.socketPath, `GET ${url} HTTP/1.1\r\nHost: x\r\n\r\n`), url).toMatch(
        /^HTTP\/1\.1 403/,
      )
    }
  })

  it("refuses an allowed name that resolves to loopback or a private address (DNS rebinding), resolving it on the host", async () => {
    proxy = await startSetupEgressProxy({ allow: ["localhost"] })
    expect(await ask(proxy.socketPath, connectRequest("localhost:443"))).toMatch(/^HTTP\/1\.1 403/)
    await proxy.close()
    proxy = await start(["registry.npmjs.org", "mixed.example"], {
      "registry.npmjs.org": ["10.1.2.3"],
      "mixed.example": ["93.184.215.14", "192.168.0.7"],
    })
    expect(await ask(proxy.socketPath, connectRequest("registry.npmjs.org:443"))).toMatch(/^HTTP\/1\.1 403/)
    expect(await ask(proxy.socketPath, connectRequest("mixed.example:443"))).toMatch(/^HTTP\/1\.1 403/)
    expect(proxy.refusedHosts()).toEqual(["registry.npmjs.org:443", "mixed.example:443"])
  })

  it("refuses a host that is not on the list without even resolving it, and ports other than 80 and 443", async () => {
    proxy = await start(["registry.npmjs.org"], { "registry.npmjs.org": ["104.16.0.1"] })
    expect(await ask(proxy.socketPath, connectRequest("evil.example.com:443"))).toMatch(/^HTTP\/1\.1 403/)
    expect(await ask(proxy.socketPath, connectRequest("registry.npmjs.org.evil.example.com:443"))).toMatch(
      /^HTTP\/1\.1 403/,
    )
    expect(await ask(proxy.socketPath, connectRequest("registry.npmjs.org:22"))).toMatch(/^HTTP\/1\.1 403/)
    expect(lookups).toEqual([])
    expect(proxy.refusedHosts()).toEqual([
      "evil.example.com:443",
      "registry.npmjs.org.evil.example.com:443",
      "registry.npmjs.org:22",
    ])
  })

  it("an operator's exempt networks (an internal mirror) never exempt loopback or link-local", async () => {
    proxy = await startSetupEgressProxy({
      allow: ["*"],
      exemptNetworks: ["127.0.0.0/8", "169.254.0.0/16", "::1/128"],
    })
    for (const target of ["127.0.0.1:443", "169.254.169.254:80", "[::1]:443"]) {
      expect(await ask(proxy.socketPath, connectRequest(target)), target).toMatch(/^HTTP\/1\.1 403/)
    }
    await expect(startSetupEgressProxy({ allow: ["*"], exemptNetworks: ["10.0.0.0/33"] })).rejects.toThrow(
      /CIDR/,
    )
  })

  it("classifies addresses: only public unicast is reachable", () => {
    for (const address of [
      "127.0.0.1",
      "10.255.255.53",
      "172.31.0.1",
      "192.168.0.1",
      "169.254.169.254",
      "::1",
      "fc00::1",
      "fe80::1",
      "::ffff:10.0.0.1",
      "::",
      "224.0.0.1",
      "255.255.255.255",
    ]) {
      expect(isPublicAddress(address), address).toBe(false)
    }
    for (const address of ["104.16.0.1", "151.101.0.223", "2606:4700::6810:1", "172.32.0.1"]) {
      expect(isPublicAddress(address), address).toBe(true)
    }
  })

  it("parses PRWRIGHT_SETUP_ALLOW: names, *.suffix and *, defaults for the common registries, and refuses addresses", () => {
    expect(parseSetupAllow(undefined)).toEqual(DEFAULT_SETUP_ALLOW)
    expect(DEFAULT_SETUP_ALLOW).toEqual(
      expect.arrayContaining([
        "registry.npmjs.org",
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
      ]),
    )
    expect(parseSetupAllow(" Registry.NPMjs.org , *.example.com ")).toEqual([
      "registry.npmjs.org",
      "*.example.com",
    ])
    expect(parseSetupAllow("none")).toEqual([])
    expect(() => parseSetupAllow("10.0.0.1")).toThrow(ConfigError)
    expect(() => parseSetupAllow("localhost")).toThrow(/PRWRIGHT_SETUP_ALLOW/)
    expect(() => parseSetupAllow("https://pypi.org/simple")).toThrow(/PRWRIGHT_SETUP_ALLOW/)
  })
})

describe.skipIf(!bwrapWorks)(`setup commands in the sandbox reach no host service (${SKIP_NO_BWRAP})`, () => {
  let parent: string
  let root: string
  let hostServer: Server
  let hostPort: number
  let hostConnections = 0
  let abstractServer: Server
  const abstractName = `prwright-test-${randomUUID()}`
  let abstractConnections = 0
  let registry: HttpServer
  let registryPort: number
  let registryRequests: string[] = []

  beforeAll(async () => {
    hostServer = createServer((socket) => {
      hostConnections += 1
      socket.end("hello from the host\n")
    })
    await new Promise<void>((resolve) => hostServer.listen(0, "127.0.0.1", resolve))
    hostPort = (hostServer.address() as { port: number }).port
    abstractServer = createServer((socket) => {
      abstractConnections += 1
      socket.end("abstract\n")
    })
    await new Promise<void>((resolve) => abstractServer.listen(`\0${abstractName}`, resolve))
    registry = createHttpServer((request, response) => {
      registryRequests.push(`${request.method} ${request.headers.host}${request.url}`)
      response.end('{"name":"is-number","version":"7.0.0"}\n')
    })
    await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve))
    registryPort = (registry.address() as { port: number }).port
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => hostServer.close(() => resolve()))
    await new Promise<void>((resolve) => abstractServer.close(() => resolve()))
    await new Promise<void>((resolve) => registry.close(() => resolve()))
  })
  beforeEach(() => {
    parent = realpathSync(mkdtempSync(path.join(tmpdir(), "prwright-egress-")))
    root = path.join(parent, "checkout")
    mkdirSync(root)
    registryRequests = []
  })
  afterEach(() => {
    rmSync(parent, { recursive: true, force: true })
  })

  const sandbox = createBwrapSandbox()
  const setup = (command: string, extra: Partial<SandboxCommand> = {}) =>
    sandbox.run({ command, root, network: "setup", timeoutMs: 20_000, ...extra })

  it("cannot open Redis (6379) or PostgreSQL (5432) on 127.0.0.1, nor a host server", async () => {
    const redisUp = await hostReaches(6379)
    const postgresUp = await hostReaches(5432)
    if (!redisUp || !postgresUp)
      console.warn("Redis or PostgreSQL is not running on 127.0.0.1: the attack below is weaker")
    const before = hostConnections
    const result = await setup(
      [6379, 5432, hostPort]
        .map(
          (port) =>
            `if exec 3<>/dev/tcp/127.0.0.1/${port}; then echo "OPEN ${port}"; printf 'PING\\r\\n' >&3; timeout 1 cat <&3; fi`,
        )
        .join("\n"),
    )
    expect(result.output).not.toMatch(/OPEN|PONG|hello from the host/)
    expect(hostConnections).toBe(before)
  })

  it("has no route at all: its namespace holds only its own loopback", async () => {
    const result = await setup(
      "echo ROUTES; tail -n +2 /proc/net/route; echo IFACES; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; echo V6; cat /proc/net/ipv6_route | grep -v ' lo$' ; echo END",
    )
    expect(result.output).toMatch(/ROUTES\nIFACES\nlo\nV6\nEND\n$/)
    const ip = await setup(
      "ip -4 route show table all; ip -6 route show table all | grep -v ' dev lo ' ; true",
    )
    // the kernel's local table for lo only: no default route, no way to 169.254.169.254 or 10/8
    expect(ip.output).not.toMatch(/default|eth|ens|veth|tap|169\.254|10\.\d/)
  })

  it("cannot reach the host's abstract or filesystem unix sockets; /run holds only the egress socket", async () => {
    const before = abstractConnections
    const result = await setup(
      `python3 -c "
import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect('\\0${abstractName}'); print('ABSTRACT OPEN', s.recv(100))
except OSError as e:
    print('refused', e.errno)
"; ls -A /run /var/run 2>&1; ls /tmp | wc -l`,
    )
    expect(result.output).toContain("refused")
    expect(result.output).not.toContain("ABSTRACT OPEN")
    expect(abstractConnections).toBe(before)
    expect(result.output).not.toMatch(/docker\.sock|redis|postgresql|systemd|dbus/)
  })

  it("sets the proxy for the usual tools and reports what the proxy refused", async () => {
    const result = await setup(
      [
        "env | grep -i -E '^(https?_proxy|npm_config_https?_proxy|pip_proxy)=' | sort",
        // the metadata service and Redis, through the proxy: refused there, before any packet
        "curl -sS -o /dev/null -w '%{http_code}\\n' http://169.254.169.254/latest/meta-data/",
        "curl -sS -o /dev/null https://127.0.0.1:6379/ 2>/dev/null || echo direct-refused",
        // NO_PROXY sends 127.0.0.1 to the sandbox's own loopback; forced through the proxy it is refused there
        "curl --noproxy '' -sS -o /dev/null https://127.0.0.1:6379/ || echo tunnel-refused",
        "curl -sS -o /dev/null https://evil.example.com/ || echo not-listed",
      ].join("; "),
    )
    expect(result.output).toMatch(/^HTTPS_PROXY=http:\/\/127\.0\.0\.1:\d+$/m)
    expect(result.output).toMatch(/^https_proxy=http:\/\/127\.0\.0\.1:\d+$/m)
    expect(result.output).toMatch(/^npm_config_https_proxy=/m)
    expect(result.output).toMatch(/^PIP_PROXY=/m)
    expect(result.output).toContain("403\n")
    expect(result.output).toContain("direct-refused\n")
    expect(result.output).toContain("tunnel-refused\n")
    expect(result.output).toContain("not-listed\n")
    expect(result.refusedHosts).toEqual(["169.254.169.254:80", "127.0.0.1:6379", "evil.example.com:443"])
  })

  it("a command without network gets no proxy at all", async () => {
    const result = await sandbox.run({
      command: "env | grep -ic proxy; ls /run 2>&1 | head -1",
      root,
      network: "none",
      timeoutMs: 10_000,
    })
    expect(result.output).toMatch(/^0\n/)
    expect(result.refusedHosts).toBeUndefined()
  })

  it("reaches an allowed registry through the proxy (plain HTTP and a CONNECT tunnel), here a loopback stand-in in the proxy's test-only mode", async () => {
    const testSandbox = createBwrapSandbox({
      setupEgress: {
        allow: ["registry.test"],
        ports: [registryPort],
        resolve: async (host) => (host === "registry.test" ? ["127.0.0.1"] : []),
        allowLoopbackForTests: true,
      },
    })
    const result = await testSandbox.run({
      command: [
        `curl -sS http://registry.test:${registryPort}/is-number`,
        `curl -sS --proxytunnel http://registry.test:${registryPort}/is-number/tunnel`,
        // the test-only loopback permission covers the listed name, never private ranges
        "curl -sS -o /dev/null -w '%{http_code}\\n' http://10.0.0.1/",
      ].join("; "),
      root,
      network: "setup",
      timeoutMs: 20_000,
    })
    expect(result.output).toBe(
      '{"name":"is-number","version":"7.0.0"}\n{"name":"is-number","version":"7.0.0"}\n403\n',
    )
    expect(registryRequests).toEqual([
      `GET registry.test:${registryPort}/is-number`,
      `GET registry.test:${registryPort}/is-number/tunnel`,
    ])
    expect(result.refusedHosts).toEqual(["10.0.0.1:80"])
  })
})
