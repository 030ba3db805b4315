import { execFileSync } from "node:child_process"
import { randomUUID } from "node:crypto"
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs"
import { createServer, type Server } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { createBwrapSandbox } from "#adapters/sandbox/bwrap-sandbox.js"
import { detectSandbox } from "#adapters/sandbox/detect-sandbox.js"
import { createProcessSandbox } from "#adapters/sandbox/process-sandbox.js"
import type { Sandbox, SandboxCommand } from "#application/ports/sandbox.js"
import { ConfigError, ValidationError } from "#domain/errors.js"
import { runSandboxContract } from "../contract/sandbox.contract.js"
import { bwrapWorks } from "../support/bwrap.js"
import { createCapturingLogger } from "../support/logger.js"

// The process sandbox gives no isolation, only the shared guarantees: it runs everywhere.
runSandboxContract("process", (options) => createProcessSandbox(options))

describe.skipIf(!bwrapWorks)(
  "bwrap sandbox (skipped: bubblewrap is not installed or cannot create namespaces here)",
  () => {
    runSandboxContract("bwrap", (options) => createBwrapSandbox(options))

    let parent: string
    let root: string
    const sandbox = createBwrapSandbox()
    const run = (command: string, extra: Partial<SandboxCommand> = {}) =>
      sandbox.run({ command, root, network: "none", timeoutMs: 10_000, ...extra })

    beforeEach(() => {
      parent = realpathSync(mkdtempSync(path.join(tmpdir(), "prwright-bwrap-")))
      root = path.join(parent, "checkout")
      mkdirSync(root)
    })
    afterEach(() => {
      rmSync(parent, { recursive: true, force: true })
    })

    it("can write only in the checkout (and its private /tmp and HOME), and those writes are visible outside", async () => {
      const name = `prwright-escape-${randomUUID()}`
      const mustFail = [
        `/usr/${name}`,
        `/etc/${name}`,
        `/work/${name}`,
        `/${name}`,
        `${process.env.HOME ?? "/root"}/${name}`,
      ]
      // the checkout's parent lies in the sandbox's private /tmp: writable there, never on the host
      const sibling = `${parent}/${name}`
      const script = [
        ...mustFail.map((target) => `if echo x > '${target}'; then echo "WROTE ${target}"; fi 2>/dev/null`),
        `echo x > '${sibling}'`,
        "echo inside > inside.txt && echo ok",
      ].join("\n")
      const result = await run(script)
      expect(result.output).toBe("ok\n")
      for (const target of [...mustFail, sibling]) expect(existsSync(target)).toBe(false)
      expect(readFileSync(path.join(root, "inside.txt"), "utf8")).toBe("inside\n")
    })

    it("has a private /tmp and an empty HOME instead of the real one", async () => {
      const hostFile = path.join(tmpdir(), `prwright-host-${randomUUID()}`)
      writeFileSync(hostFile, "host")
      const inner = `prwright-inner-${randomUUID()}`
      try {
        const result = await run(
          `test -e '${hostFile}' && echo "SEES HOST TMP"; echo x > /tmp/${inner} && echo wrote; echo "home=$HOME"; ls -A /root 2>&1 | head -3`,
        )
        expect(result.output).not.toContain("SEES HOST TMP")
        expect(result.output).toContain("wrote\n")
        expect(result.output).toContain("home=/home/sandbox\n")
        expect(result.output).not.toMatch(/\.bashrc|\.ssh|\.npmrc/)
        expect(existsSync(path.join("/tmp", inner))).toBe(false)
      } finally {
        rmSync(hostFile, { force: true })
      }
    })

    it("sees no host process: its own PID namespace", async () => {
      const result = await run("cat /proc/[0-9]*/comm | sort -u; ls /proc | grep -c '^[0-9]'")
      const lines = result.output.trim().split("\n")
      const count = Number(lines.pop())
      expect(count).toBeGreaterThan(0)
      expect(count).toBeLessThan(10)
      expect(lines).not.toContain("node")
      expect(lines.every((comm) => ["bash", "bwrap", "cat", "sort", "ls", "grep"].includes(comm))).toBe(true)
    })

    it("runs with no capabilities and cannot read masked secret files or remount the system", async () => {
      const result = await run(
        "grep CapEff /proc/self/status; cat /etc/shadow 2>/dev/null | wc -c; mount -o remount,rw /usr 2>/dev/null && echo REMOUNTED",
      )
      expect(result.output).toMatch(/CapEff:\s+0+\n/)
      expect(result.output).toContain("\n0\n")
      expect(result.output).not.toContain("REMOUNTED")
    })

    describe("network", () => {
      let server: Server
      let port: number
      let connections = 0
      beforeAll(async () => {
        server = createServer((socket) => {
          connections += 1
          socket.end("hello from the host\n")
        })
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
        port = (server.address() as { port: number }).port
      })
      afterAll(async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()))
      })

      it("cannot connect anywhere with network: none", async () => {
        const before = connections
        const result = await run(`exec 3<>/dev/tcp/127.0.0.1/${port} && echo CONNECTED && cat <&3`)
        expect(result.exitCode).not.toBe(0)
        expect(result.output).not.toContain("CONNECTED")
        expect(connections).toBe(before)
      })

      it("cannot reach a host server with network: setup either (own network namespace, egress only through the proxy)", async () => {
        const before = connections
        const result = await run(
          `exec 3<>/dev/tcp/127.0.0.1/${port} && cat <&3; curl --noproxy '' -sS http://127.0.0.1:${port}/ || echo refused`,
          { network: "setup" },
        )
        expect(result.output).not.toContain("hello from the host")
        expect(result.output).toContain("refused\n")
        expect(result.refusedHosts).toEqual([`127.0.0.1:${port}`])
        expect(connections).toBe(before)
      })
    })

    it("lets git read a worktree checkout's metadata but not change it", async () => {
      const mirror = path.join(parent, "mirror")
      const git = (args: string[], cwd: string) =>
        execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
          cwd,
          stdio: "pipe",
        })
      mkdirSync(mirror)
      git(["init", "--quiet", "-b", "main"], mirror)
      writeFileSync(path.join(mirror, "README.md"), "hello\n")
      git(["add", "README.md"], mirror)
      git(["commit", "--quiet", "-m", "first"], mirror)
      const worktree = path.join(parent, "worktree")
      git(["worktree", "add", "--quiet", "--detach", worktree], mirror)
      writeFileSync(path.join(worktree, "README.md"), "changed\n")
      const result = await sandbox.run({
        command:
          'git log --format=%s -1; git status --short; git diff --stat | tail -1; git commit -qam sneaky >/dev/null 2>&1 || echo commit-refused; { echo x > "$(git rev-parse --git-common-dir)/config"; } 2>/dev/null || echo config-read-only',
        root: worktree,
        // what the workspace records at checkout time; the sandbox no longer reads `.git` to find it
        mounts: { readOnly: [path.join(mirror, ".git")], writable: [] },
        network: "none",
        timeoutMs: 10_000,
      })
      expect(result.output).toBe(
        "first\n M README.md\n 1 file changed, 1 insertion(+), 1 deletion(-)\ncommit-refused\nconfig-read-only\n",
      )
      expect(git(["log", "--format=%s", "-1"], worktree).toString()).toBe("first\n")
    })

    it("mounts extra read-only paths at the same place", async () => {
      const extra = path.join(parent, "toolchain")
      mkdirSync(extra)
      writeFileSync(path.join(extra, "tool"), "tool-content")
      const withExtra = createBwrapSandbox({ extraReadOnlyPaths: [extra] })
      const result = await withExtra.run({
        command: `cat '${extra}/tool'; echo; { echo x > '${extra}/written'; } 2>/dev/null || echo read-only`,
        root,
        network: "none",
        timeoutMs: 10_000,
      })
      expect(result.output).toBe("tool-content\nread-only\n")
    })

    it("refuses a root that is not an existing absolute directory", async () => {
      await expect(run("true", { root: "relative/path" })).rejects.toBeInstanceOf(ValidationError)
      await expect(run("true", { root: path.join(parent, "missing") })).rejects.toBeInstanceOf(
        ValidationError,
      )
      await expect(run("true", { root: "/" })).rejects.toBeInstanceOf(ValidationError)
    })

    describe("detectSandbox", () => {
      it("picks bwrap where it works", async () => {
        const logger = createCapturingLogger()
        const chosen: Sandbox = await detectSandbox({ logger })
        expect(chosen.kind).toBe("bwrap")
        expect(logger.lines.filter((line) => line.level === "warn")).toEqual([])
      })

      it("honours an explicit process choice, with a loud warning", async () => {
        const logger = createCapturingLogger()
        const chosen = await detectSandbox({ preference: "process", logger })
        expect(chosen.kind).toBe("process")
        expect(
          logger.lines.some((line) => line.level === "warn" && /WITHOUT isolation/.test(line.message)),
        ).toBe(true)
      })

      it("refuses (fails closed) rather than fall back to the process sandbox when bwrap is missing", async () => {
        const logger = createCapturingLogger()
        const attempt = detectSandbox({ bwrapPath: path.join(parent, "no-bwrap"), logger })
        await expect(attempt).rejects.toBeInstanceOf(ConfigError)
        await expect(attempt).rejects.toThrow(/apt-get install bubblewrap.*PRWRIGHT_SANDBOX=process/)
      })

      it("fails with a ConfigError saying what to install when bwrap is required but missing", async () => {
        const attempt = detectSandbox({ preference: "bwrap", bwrapPath: path.join(parent, "no-bwrap") })
        await expect(attempt).rejects.toBeInstanceOf(ConfigError)
        await expect(attempt).rejects.toThrow(/apt-get install bubblewrap/)
      })

      it("fails with a ConfigError when bwrap runs but cannot build a sandbox", async () => {
        const fake = path.join(parent, "broken-bwrap")
        writeFileSync(
          fake,
          '#!/bin/sh\n[ "$1" = --version ] && echo "bubblewrap 0.0-test" && exit 0\necho "no permission" >&2; exit 1\n',
          {
            mode: 0o755,
          },
        )
        const attempt = detectSandbox({ preference: "bwrap", bwrapPath: fake })
        await expect(attempt).rejects.toBeInstanceOf(ConfigError)
        await expect(attempt).rejects.toThrow(/User namespaces may be disabled/)
      })
    })
  },
)
