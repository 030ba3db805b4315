/**
 * Runs git without a shell. Credentials reach git only as an HTTP header set through GIT_CONFIG_* variables
 * of that one child process, so they never land in argv (visible in `ps`), a URL, or a config file.
 */
import { execFile } from "node:child_process"
import { CancelledError, GitHubError, PrwrightError } from "#domain/errors.js"
import { createScrubber } from "#domain/secret-scrubber.js"

export interface GitCommand {
  args: string[]
  cwd?: string
  /** full Authorization header value for requests to `origin` */
  auth?: { origin: string; header: string } | undefined
  signal?: AbortSignal | undefined
  gitBinary: string

  /** extra environment (not secrets) */
  env?: Record<string, string>
  /** written to git's stdin */
  input?: string
  /**
   * Ignore the system and global git config (and system attributes): for commands that read or write a
   * checkout's files, where the repository's `.gitattributes` could otherwise pick a filter driver the
   * worker's own config defines (git-lfs's, say) and make the host run it on repository content.
   */
  isolated?: boolean
}

export interface GitOutput {
  stdout: string
  stderr: string
}

/** Variables that would redirect git or make it print request headers; never inherited. */
const DROPPED_ENV =
  /^(GIT_CONFIG_NOSYSTEM|GIT_CONFIG_GLOBAL|GIT_CONFIG_SYSTEM|GIT_ATTR_NOSYSTEM|GIT_TRACE.*|GIT_CURL_VERBOSE|GIT_DIR|GIT_WORK_TREE|GIT_INDEX_FILE|GIT_OBJECT_DIRECTORY|GIT_ALTERNATE_OBJECT_DIRECTORIES|GIT_CONFIG_PARAMETERS|GIT_CONFIG_COUNT|GIT_CONFIG_KEY_\d+|GIT_CONFIG_VALUE_\d+|GIT_ASKPASS|SSH_ASKPASS|GIT_REDACT_COOKIES)$/

/** Added for `isolated` commands: no config or attributes but the repository's own (which the host wrote). */
const ISOLATED_ENV = { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_ATTR_NOSYSTEM: "1" }

export const gitEnvironment = (command: Pick<GitCommand, "auth" | "env" | "isolated">): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) if (!DROPPED_ENV.test(name)) env[name] = value
  const config: Array<[string, string]> = [
    // no stored credentials and no prompts: the header is the only credential git may use
    ["credential.helper", ""],
    ["core.askPass", ""],
    ["core.hooksPath", "/dev/null"],
    // a repository must not make prwright's own git run a program
    ["core.fsmonitor", "false"],
    ["protocol.allow", "never"],
    ["protocol.https.allow", "always"],
    ["protocol.http.allow", "always"],
  ]
  if (command.auth)
    config.push([`http.${command.auth.origin}/.extraHeader`, `Authorization: ${command.auth.header}`])
  config.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key
    env[`GIT_CONFIG_VALUE_${index}`] = value
  })
  return {
    ...env,
    ...command.env,
    ...(command.isolated ? ISOLATED_ENV : {}),
    GIT_CONFIG_COUNT: String(config.length),
    GIT_TERMINAL_PROMPT: "0",
    GCM_INTERACTIVE: "never",
    // English messages, so failures can be recognised
    LC_ALL: "C",
    LANGUAGE: "C",
  }
}

/** The forms of an Authorization header's secret: the header, its value, a Basic header's password. */
const secretsOfHeader = (header: string | undefined): string[] => {
  if (!header) return []
  const secrets = [header]
  const [scheme = "", value = ""] = header.split(/\s+/, 2)
  if (value) secrets.push(value)
  if (/^basic$/i.test(scheme) && value) {
    const decoded = Buffer.from(value, "base64").toString("utf8")
    const colon = decoded.indexOf(":")
    if (colon !== -1 && decoded.slice(colon + 1)) secrets.push(decoded.slice(colon + 1))
  }
  return secrets
}

export class GitCommandError extends Error {
  readonly stderr: string
  readonly exitCode: number | undefined
  constructor(message: string, stderr: string, exitCode: number | undefined) {
    super(message)
    this.name = "GitCommandError"
    this.stderr = stderr
    this.exitCode = exitCode
  }
}

export const runGit = (command: GitCommand): Promise<GitOutput> => {
  const scrub = createScrubber(secretsOfHeader(command.auth?.header))
  return new Promise((resolve, reject) => {
    const child = execFile(
      command.gitBinary,
      command.args,
      {
        cwd: command.cwd,
        env: gitEnvironment(command),
        signal: command.signal,
        maxBuffer: 256 * 1024 * 1024,
        encoding: "utf8",
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ stdout, stderr })
          return
        }
        if (error.name === "AbortError" || command.signal?.aborted) {
          reject(new CancelledError(`git ${command.args[0]} was cancelled`))
          return
        }
        const code = typeof error.code === "number" ? error.code : undefined
        if (error.code === "ENOENT") {
          reject(
            new PrwrightError(
              "config",
              `git was not found (${command.gitBinary}): install git 2.30+ or set gitBinary`,
            ),
          )
          return
        }
        const cleanStderr = scrub(String(stderr ?? "")).trim()
        reject(
          new GitCommandError(
            `git ${command.args[0]} failed (exit ${code ?? "?"}): ${cleanStderr}`,
            cleanStderr,
            code,
          ),
        )
      },
    )
    if (command.input !== undefined) child.stdin?.end(command.input)
  })
}

/**
 * Turns a failed network git command into an error that names the fix. `stderr` is already scrubbed.
 */
export const networkGitError = (error: unknown, context: { fullName: string; cloneUrl: string }): Error => {
  if (!(error instanceof GitCommandError)) return error instanceof Error ? error : new Error(String(error))
  const { stderr } = error
  const { fullName, cloneUrl } = context
  const origin = new URL(cloneUrl).origin
  const last = stderr.split("\n").filter(Boolean).slice(-2).join(" / ")
  if (
    /could not read (username|password)|authentication failed|returned error: 401|terminal prompts disabled/i.test(
      stderr,
    )
  ) {
    return new GitHubError(
      `git could not authenticate to ${origin} for ${fullName} (401): the token was refused or missing; check GITHUB_TOKEN (or the GitHub App installation) and that it is not expired`,
      { status: 401, cause: error, retryable: false },
    )
  }
  if (/repository '.*' not found|returned error: 404|repository not found/i.test(stderr)) {
    return new GitHubError(
      `repository ${fullName} was not found at ${cloneUrl}, or the token cannot read it: give the token access to ${fullName} (contents: read)`,
      { status: 404, cause: error, retryable: false },
    )
  }
  if (/returned error: 403/i.test(stderr)) {
    return new GitHubError(
      `GitHub refused git access to ${fullName} (403: ${last}): give the token contents permission on ${fullName}, or wait if this is a rate limit`,
      { status: 403, cause: error, retryable: false },
    )
  }
  const serverError = /returned error: (5\d\d)/i.exec(stderr)
  if (
    serverError ||
    /could not resolve host|failed to connect|connection (refused|reset|timed out)|operation timed out|early eof|rpc failed|unexpected disconnect/i.test(
      stderr,
    )
  ) {
    return new GitHubError(
      `git could not fetch ${fullName} from ${origin} (${last}): GitHub or the network had a passing fault; the run will be retried`,
      { status: serverError ? Number(serverError[1]) : undefined, cause: error, retryable: true },
    )
  }
  return new PrwrightError("internal", `git failed for ${fullName}: ${last || error.message}`, {
    cause: error,
    retryable: true,
  })
}
