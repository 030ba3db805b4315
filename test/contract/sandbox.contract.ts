/**
 * The Sandbox contract: what every adapter guarantees, isolation or not. Each adapter's test calls
 * `runSandboxContract("bwrap", (options) => createBwrapSandbox(options))`. Processes are found on
 * the host by a unique argv[0] (`exec -a <marker>`), so the checks see real pids, whatever PID
 * namespace the command ran in.
 */
import { randomUUID } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { SandboxLimits } from "#adapters/sandbox/sandbox-limits.js"
import type { Sandbox, SandboxCommand } from "#application/ports/sandbox.js"

export type CreateSandbox = (options?: { limits?: Partial<SandboxLimits> }) => Sandbox

/** host pids whose argv[0] is `marker` */
export const markedPids = (marker: string): number[] => {
  const pids: number[] = []
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")[0] === marker) pids.push(Number(entry))
    } catch {
      // exited while we looked
    }
  }
  return pids
}

export const waitUntil = async (probe: () => boolean, what: string, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const SECRETS: Record<string, string> = {
  GITHUB_TOKEN: "ghp_contractSecretToken000000000000000",
  LLM_API_KEY: "sk-contract-llm-key-0000000000",
  OPENAI_API_KEY: "sk-contract-openai-key-0000000000",
  ANTHROPIC_API_KEY: "sk-ant-contract-key-0000000000",
  PRWRIGHT_API_TOKEN: "prw_contract_api_token_000000",
  DATABASE_URL: "postgres://user:contractpassword@127.0.0.1/db",
}

export const runSandboxContract = (name: string, create: CreateSandbox): void => {
  describe(`Sandbox contract: ${name}`, () => {
    let root: string
    let sandbox: Sandbox
    const markers: string[] = []
    const newMarker = (kind: string) => {
      const marker = `prwright-${kind}-${randomUUID()}`
      markers.push(marker)
      return marker
    }
    const run = (command: string, extra: Partial<SandboxCommand> = {}) =>
      sandbox.run({ command, root, network: "none", timeoutMs: 10_000, ...extra })

    beforeEach(() => {
      root = realpathSync(mkdtempSync(path.join(tmpdir(), "prwright-sandbox-contract-")))
      sandbox = create()
    })
    afterEach(() => {
      rmSync(root, { recursive: true, force: true })
      // a failed test must not leave its sleeps behind
      for (const pid of markers.splice(0).flatMap(markedPids)) {
        try {
          process.kill(pid, "SIGKILL")
        } catch {}
      }
    })

    it("reports the exit code and stdout and stderr interleaved in order", async () => {
      const result = await run("echo one; echo two >&2; echo three; exit 7")
      expect(result).toMatchObject({
        exitCode: 7,
        output: "one\ntwo\nthree\n",
        outputBytes: 14,
        truncated: false,
        timedOut: false,
        aborted: false,
      })
      expect(result.durationMs).toBeGreaterThanOrEqual(0)
    })

    it("runs in the checkout and its writes land there", async () => {
      const result = await run("pwd; echo hello > made.txt; mkdir -p sub && echo deep > sub/file")
      expect(result.exitCode).toBe(0)
      expect(result.output.trim()).toBe(root)
      expect(readFileSync(path.join(root, "made.txt"), "utf8")).toBe("hello\n")
      expect(readFileSync(path.join(root, "sub/file"), "utf8")).toBe("deep\n")
    })

    it("keeps the head and the tail of long output and says how much was cut", async () => {
      const result = await run("printf START; head -c 100000 /dev/zero | tr '\\0' x; printf END", {
        maxOutputBytes: 1000,
      })
      expect(result.exitCode).toBe(0)
      expect(result.outputBytes).toBe(100_008)
      expect(result.truncated).toBe(true)
      expect(result.output.startsWith(`START${"x".repeat(495)}`)).toBe(true)
      expect(result.output.endsWith(`${"x".repeat(497)}END`)).toBe(true)
      expect(result.output).toContain("99008 bytes of 100008 cut")
      expect(result.output.length).toBeLessThan(1100)
    })

    it("keeps short output whole under the default budget", async () => {
      const result = await run("head -c 60000 /dev/zero | tr '\\0' y")
      expect(result).toMatchObject({ outputBytes: 60_000, truncated: false })
      expect(result.output).toBe("y".repeat(60_000))
    })

    describe("environment", () => {
      const saved: Record<string, string | undefined> = {}
      beforeEach(() => {
        for (const [key, value] of Object.entries(SECRETS)) {
          saved[key] = process.env[key]
          process.env[key] = value
        }
      })
      afterEach(() => {
        for (const [key, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[key]
          else process.env[key] = value
        }
      })

      it("holds no secret of the worker, only a minimal set and what the caller passes", async () => {
        const result = await run("env", { env: { FOO: "bar" } })
        expect(result.exitCode).toBe(0)
        const names = result.output
          .trim()
          .split("\n")
          .map((line) => line.slice(0, line.indexOf("=")))
        for (const [key, value] of Object.entries(SECRETS)) {
          expect(names).not.toContain(key)
          expect(result.output).not.toContain(value)
        }
        expect(result.output).toContain("FOO=bar\n")
        expect(result.output).toContain("CI=true\n")
        expect(result.output).toContain("TERM=dumb\n")
        const home = /^HOME=(.*)$/m.exec(result.output)?.[1]
        expect(home).toBeDefined()
        expect(home).not.toBe(process.env.HOME)
        // nothing else from the worker's environment: every name is one the sandbox sets itself
        const allowed = new Set(["PATH", "HOME", "TMPDIR", "LANG", "TERM", "CI", "FOO", "PWD", "SHLVL", "_"])
        expect(names.filter((key) => !allowed.has(key))).toEqual([])
      })

      it("starts each command with an empty HOME of its own", async () => {
        const first = await run('ls -A "$HOME"; echo x > "$HOME/.marker"')
        expect(first).toMatchObject({ exitCode: 0, output: "" })
        const second = await run('ls -A "$HOME"')
        expect(second).toMatchObject({ exitCode: 0, output: "" })
      })
    })

    it("kills the command and its grandchildren on timeout", async () => {
      const marker = newMarker("timeout")
      const started = Date.now()
      const pending = run(`(exec -a ${marker} sleep 30) & exec -a ${marker} sleep 30`, { timeoutMs: 600 })
      await waitUntil(() => markedPids(marker).length === 2, "both sleeps to start")
      const result = await pending
      expect(result).toMatchObject({ timedOut: true, aborted: false, exitCode: null })
      expect(result.signal).toMatch(/^SIG(TERM|KILL)$/)
      expect(Date.now() - started).toBeLessThan(3_000)
      expect(markedPids(marker)).toEqual([])
    })

    it("resolves within 2 s of an abort, leaving no process of the group, even one ignoring SIGTERM", async () => {
      const marker = newMarker("abort")
      const controller = new AbortController()
      const pending = run(`trap '' TERM; (exec -a ${marker} sleep 30) & exec -a ${marker} sleep 30`, {
        timeoutMs: 30_000,
        signal: controller.signal,
      })
      await waitUntil(() => markedPids(marker).length === 2, "both sleeps to start")
      const abortedAt = Date.now()
      controller.abort()
      const result = await pending
      expect(Date.now() - abortedAt).toBeLessThan(2_000)
      expect(result).toMatchObject({ aborted: true, timedOut: false, exitCode: null })
      expect(markedPids(marker)).toEqual([])
    })

    it("does not start a command whose signal is already aborted", async () => {
      const controller = new AbortController()
      controller.abort()
      const result = await run("touch started", { signal: controller.signal })
      expect(result).toMatchObject({ aborted: true, exitCode: null, output: "" })
      expect(existsSync(path.join(root, "started"))).toBe(false)
    })

    it("leaves nothing running in the background once the command has exited", async () => {
      const marker = newMarker("background")
      const started = Date.now()
      const result = await run(`(exec -a ${marker} sleep 30) & echo started`)
      expect(result).toMatchObject({ exitCode: 0, output: "started\n", timedOut: false })
      expect(Date.now() - started).toBeLessThan(2_000)
      await waitUntil(() => markedPids(marker).length === 0, "the background sleep to be killed", 1_000)
    })

    it("enforces the CPU time limit", async () => {
      sandbox = create({ limits: { cpuSeconds: 1 } })
      const result = await run("while :; do :; done", { timeoutMs: 8_000 })
      // SIGXCPU or SIGKILL (both are due at the limit) ends the loop long before the timeout
      expect(result.timedOut).toBe(false)
      expect(result.durationMs).toBeLessThan(5_000)
      const signalled =
        result.signal ??
        (result.exitCode !== null && result.exitCode > 128 ? result.exitCode - 128 : undefined)
      expect([24, 9, "SIGXCPU", "SIGKILL"]).toContain(signalled)
    })

    it("enforces the file size limit", async () => {
      sandbox = create({ limits: { fileSizeBytes: 1024 * 1024 } })
      const result = await run("head -c 3000000 /dev/zero > big.bin")
      expect(result.exitCode).not.toBe(0)
      expect(statSync(path.join(root, "big.bin")).size).toBeLessThanOrEqual(1024 * 1024)
    })

    it("enforces the memory limit", async () => {
      sandbox = create({ limits: { memoryBytes: 512 * 1024 * 1024 } })
      const limit = await run("ulimit -d")
      expect(limit.output.trim()).toBe(String(512 * 1024))
      const allocate = (mib: number) =>
        run(`node -e 'Buffer.alloc(${mib} * 1024 * 1024, 1); console.log("allocated")'`)
      expect(await allocate(64)).toMatchObject({ exitCode: 0, output: "allocated\n" })
      const tooMuch = await allocate(1024)
      expect(tooMuch.timedOut).toBe(false)
      expect(tooMuch.exitCode).not.toBe(0)
      expect(tooMuch.output).not.toContain("allocated\n")
      expect(tooMuch.output).toMatch(/RangeError|allocation failed|out of memory/i)
    })
  })
}
