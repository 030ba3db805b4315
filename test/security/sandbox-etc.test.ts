/**
 * Weakness 10 (sandbox part): all of /etc was visible read-only. A command must not find the host's
 * SSH config and keys, shadow files, database and Redis configs, or the npmrc/pip.conf that may hold
 * registry credentials; the /etc files toolchains need are still there, and the toolchains installed
 * on this machine still work inside (each is skipped, with a note, where it is not installed).
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createBwrapSandbox } from "#adapters/sandbox/bwrap-sandbox.js"
import { bwrapWorks, SKIP_NO_BWRAP } from "./sandbox-support.js"

const which = (tool: string): string | undefined => {
  for (const dir of ["/usr/local/go/bin", "/root/.cargo/bin", "/usr/local/bin", "/usr/bin", "/bin"]) {
    if (existsSync(path.join(dir, tool))) return path.join(dir, tool)
  }
  try {
    return execFileSync("which", [tool]).toString().trim() || undefined
  } catch {
    return undefined
  }
}

describe.skipIf(!bwrapWorks)(
  `the sandbox mounts only the /etc files commands need (${SKIP_NO_BWRAP})`,
  () => {
    let root: string
    beforeAll(() => {
      root = realpathSync(mkdtempSync(path.join(tmpdir(), "prwright-etc-")))
    })
    afterAll(() => {
      rmSync(root, { recursive: true, force: true })
    })
    const sandbox = createBwrapSandbox()
    const run = (command: string) => sandbox.run({ command, root, network: "none", timeoutMs: 30_000 })

    it("has no shadow, ssh, sudoers, postgresql, redis, npmrc or pip.conf of the host", async () => {
      const secrets = [
        "/etc/shadow",
        "/etc/gshadow",
        "/etc/ssh",
        "/etc/sudoers",
        "/etc/postgresql",
        "/etc/redis",
        "/etc/npmrc",
        "/etc/pip.conf",
        "/etc/machine-id",
        "/etc/environment",
      ]
      const result = await run(
        `${secrets.map((file) => `test -e ${file} && echo "PRESENT ${file}"`).join("; ")}; ls -A /etc/ssl/private 2>/dev/null; true`,
      )
      // /etc/ssl is mounted for its certificates; its private keys directory is masked by an empty tmpfs
      expect(result.output).toBe("")
    })

    it("keeps what name lookup, TLS and the dynamic linker need", async () => {
      const result = await run(
        "getent passwd root | cut -d: -f1; getent hosts localhost | head -1 | awk '{print $1}'; test -s /etc/ssl/certs/ca-certificates.crt && echo certs; test -s /etc/ld.so.cache && echo ld; date +%Z",
      )
      expect(result.output).toMatch(/^root\n(127\.0\.0\.1|::1)\ncerts\nld\n\w+\n$/)
    })

    const toolchains: Array<[string, string, RegExp, string[]?]> = [
      ["git", "git --version && git init -q x && git -C x status --short && echo ok", /git version[\s\S]*ok/],
      [
        "node",
        'node -e \'console.log(require("crypto").createHash("sha256").update("x").digest("hex").length, Intl.DateTimeFormat().resolvedOptions().timeZone)\'',
        /^64 \w+/,
      ],
      ["npm", "npm --version && npm config get registry", /\d+\.\d+\.\d+\nhttps:\/\/registry\.npmjs\.org\//],
      [
        "python3",
        "python3 -c 'import ssl, json, sqlite3, venv; print(ssl.OPENSSL_VERSION.split()[0])' && python3 -m venv /tmp/v && /tmp/v/bin/python -c 'print(\"venv\")'",
        /OpenSSL\nvenv/,
      ],
      ["pip", "pip --version", /^pip \d+/],
      ["go", "go version && go env GOROOT", /go version go[\d.]+/, ["/usr/local/go"]],
      [
        "cargo",
        "cargo --version && rustc --version",
        /cargo \d+[\s\S]*rustc \d+/,
        ["/root/.cargo", "/root/.rustup"],
      ],
      ["java", "java -version 2>&1 | head -1; javac -version 2>&1", /version[\s\S]*javac \d+/],
      ["mvn", "mvn -v 2>&1 | head -1", /Apache Maven \d+/],
    ]
    for (const [tool, command, expected, extraPaths] of toolchains) {
      const binary = which(tool)
      it.skipIf(binary === undefined)(
        `${tool} still works inside${binary === undefined ? ` (SKIPPED: ${tool} is not installed here)` : ""}`,
        async () => {
          const paths = (extraPaths ?? []).filter((p) => existsSync(p))
          const dir = path.dirname(binary as string)
          const withTool = createBwrapSandbox({
            extraReadOnlyPaths: paths,
            ...(paths.length > 0 ? { path: `${dir}:/usr/local/bin:/usr/bin:/bin` } : {}),
          })
          const env =
            tool === "cargo" ? { RUSTUP_HOME: "/root/.rustup", CARGO_HOME: "/root/.cargo" } : undefined
          const result = await withTool.run({
            command,
            root,
            network: "none",
            timeoutMs: 60_000,
            ...(env ? { env } : {}),
          })
          expect(result.output).toMatch(expected)
          expect(result.exitCode).toBe(0)
        },
      )
    }
  },
)
