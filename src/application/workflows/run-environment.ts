/**
 * The environment every sandboxed command of a run shares: the run's persistent HOME and /tmp, and
 * a short shell prologue that puts the Python venv on PATH and keeps Go, Cargo, pip, Bundler and npm
 * caches in that HOME. Offline phases (the agent, baseline, verification) also tell the tools not to
 * reach for the network, so they fail fast and clearly instead of timing out on DNS.
 */
import type { RunDirs } from "../ports/run-dirs.js"
import type { Sandbox, SandboxCommand } from "../ports/sandbox.js"

/** `$HOME` expands inside the sandbox, where HOME is the run's directory. */
const SHARED = [
  'export VIRTUAL_ENV="$HOME/.venv" BUNDLE_PATH="$HOME/.bundle/gems" GOFLAGS="-modcacherw" GOTOOLCHAIN=local',
  "export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1",
  // Cargo's build output outside the checkout: a tree that forgot to ignore target/ stays clean
  'export CARGO_TARGET_DIR="$HOME/.cargo-target"',
  // Java takes its home from the user database, not $HOME: Maven's ~/.m2 and Gradle's cache follow
  // this (and short-lived build JVMs start faster without the optimising compiler)
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, expanded by bash in the sandbox
  'export MAVEN_OPTS="-Duser.home=$HOME -XX:TieredStopAtLevel=1 ${MAVEN_OPTS:-}" GRADLE_USER_HOME="$HOME/.gradle"',
  'case ":$PATH:" in *":$VIRTUAL_ENV/bin:"*) ;; *) export PATH="$VIRTUAL_ENV/bin:$HOME/go/bin:$HOME/.cargo/bin:$PATH:/usr/local/go/bin" ;; esac',
]

const OFFLINE = ["export GOPROXY=off CARGO_NET_OFFLINE=true PIP_NO_INDEX=1 npm_config_offline=true"]

/** The prologue for a command on the given network. */
export const environmentPrologue = (network: SandboxCommand["network"]): string =>
  [...SHARED, ...(network === "none" ? OFFLINE : [])].join("\n")

/**
 * The run's sandbox: every command gets the run's HOME and /tmp (when the worker made them) and the
 * prologue. Commands still start in the checkout with an environment built from nothing.
 */
export const runSandbox = (sandbox: Sandbox, dirs: RunDirs | undefined): Sandbox => ({
  kind: sandbox.kind,
  run: (command) =>
    sandbox.run({
      ...command,
      // spread, not `home: dirs?.home`: without run dirs the command keeps its own
      ...(dirs ? { home: dirs.home, tmp: dirs.tmp } : {}),

      command: `${environmentPrologue(command.network)}\n${command.command}`,
    }),
})
