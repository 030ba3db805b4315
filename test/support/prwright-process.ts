/**
 * Starts `prwright …` as a real child process from the TypeScript sources (tsx + the
 * prwright-source import condition), capturing every output line for assertions and secret scans.
 */
import { type ChildProcess, spawn } from "node:child_process"
import path from "node:path"
import { SCRIPTED_MODEL_PRICES } from "../doubles/scripted-model-server.js"

const ROOT = path.resolve(import.meta.dirname, "../..")

export interface PrwrightProcess {
  child: ChildProcess
  /** every stdout and stderr line so far */
  lines: string[]
  output(): string
  /** resolves with the first line matching, rejects if the process exits first or on timeout */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>
  exited: Promise<number | null>
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/**
 * The environment of a prwright process on the doubles: loopback on a free port, its data dir, the
 * GitHub double and the scripted model server (as an OpenAI-compatible provider, priced at zero),
 * the API token;
 * `extra` adds to it or overrides it (queue, database, limits …).
 */
export const prwrightEnv = (
  input: {
    dataDir: string
    github: { apiUrl: string }
    githubToken: string
    model: { baseUrl: string }
    llmKey: string
    apiToken: string
  },
  extra: Record<string, string> = {},
): Record<string, string> => ({
  PORT: "0",
  HOST: "127.0.0.1",
  PRWRIGHT_DATA_DIR: input.dataDir,
  GITHUB_API_URL: input.github.apiUrl,
  GITHUB_TOKEN: input.githubToken,
  LLM_PROVIDER: "openai-compatible",
  LLM_MODEL: "scripted",
  PRWRIGHT_MODEL_PRICES: SCRIPTED_MODEL_PRICES,
  LLM_BASE_URL: input.model.baseUrl,
  LLM_API_KEY: input.llmKey,
  PRWRIGHT_API_TOKEN: input.apiToken,
  ...extra,
})

export const startPrwright = (args: string[], env: Record<string, string>): PrwrightProcess => {
  const child = spawn(
    process.execPath,
    ["--conditions=prwright-source", "--import", "tsx", path.join(ROOT, "src/entrypoints/cli.ts"), ...args],
    {
      cwd: ROOT,
      // A clean environment: only what the test passes, plus PATH/HOME for git.
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  )
  const lines: string[] = []
  const waiters = new Set<() => void>()
  const collect = (stream: NodeJS.ReadableStream) => {
    let partial = ""
    stream.setEncoding("utf8")
    stream.on("data", (chunk: string) => {
      partial += chunk
      const parts = partial.split("\n")
      partial = parts.pop() ?? ""
      lines.push(...parts)
      for (const wake of waiters) wake()
    })
    stream.on("end", () => {
      if (partial) lines.push(partial)
    })
  }
  collect(child.stdout!)
  collect(child.stderr!)
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  let done = false
  void exited.then(() => {
    done = true
    for (const wake of waiters) wake()
  })

  return {
    child,
    lines,
    output: () => lines.join("\n"),
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find((l) => pattern.test(l))
          if (line !== undefined) {
            cleanup()
            resolve(line)
          } else if (done) {
            cleanup()
            reject(
              new Error(`prwright ${args.join(" ")} exited before printing ${pattern}:\n${lines.join("\n")}`),
            )
          }
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(
            new Error(
              `timed out waiting for ${pattern} from prwright ${args.join(" ")}:\n${lines.join("\n")}`,
            ),
          )
        }, timeoutMs)
        const cleanup = () => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        check()
      })
    },
    async stop(signal = "SIGTERM") {
      if (!done) child.kill(signal)
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
}

/** Waits for the "prwright is listening" log line and returns the server's URL. */
export const serverUrl = async (proc: PrwrightProcess): Promise<string> => {
  const line = await proc.waitFor(/prwright is listening/, 60_000)
  return (JSON.parse(line) as { url: string }).url
}
