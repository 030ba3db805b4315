/** Where repository commands run. */
import type { CheckoutMounts } from "./workspace.js"

export interface SandboxCommand {
  /** run with `bash -c` inside the sandbox */
  command: string
  /** absolute path of the run's checkout: writable, and the working directory */
  root: string
  /**
   * "none": no network at all (the agent, baseline and verification). "setup": egress only to the
   * operator's allowed hosts (PRWRIGHT_SETUP_ALLOW), never loopback, private, link-local addresses
   * or the host's unix sockets.
   */
  network: SandboxNetwork
  /**
   * Host paths besides `root` that the command may see, taken from the workspace's own records of
   * the checkout (its git metadata), never from a file in the checkout. See Checkout.mounts.
   */
  mounts?: CheckoutMounts | undefined
  /**
   * Per-run persistent HOME and /tmp: host directories outside the checkout, made and removed by the
   * worker, the same in every phase of a run (tool caches, a venv, repro scripts). Unset: private
   * empty tmpfs directories for this one command.
   */
  home?: string | undefined
  tmp?: string | undefined
  timeoutMs: number
  /** extra environment; the sandbox starts from an empty one (no token, no key ever) */
  env?: Record<string, string> | undefined
  /** stdout+stderr kept, head and tail; the rest counted */
  maxOutputBytes?: number | undefined
  signal?: AbortSignal | undefined
}

export interface SandboxResult {
  exitCode: number | null
  /** the signal that ended the process group, if any */
  signal?: string
  /** interleaved stdout and stderr, head+tail truncated */
  output: string
  outputBytes: number
  truncated: boolean
  timedOut: boolean
  aborted: boolean
  durationMs: number
  /** hosts the setup egress refused during this command (network "setup" only) */
  refusedHosts?: string[] | undefined
}

export type SandboxNetwork = "none" | "setup"

export interface Sandbox {
  readonly kind: "bwrap" | "process"
  run(command: SandboxCommand): Promise<SandboxResult>
}
