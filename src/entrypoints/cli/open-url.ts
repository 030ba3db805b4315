/**
 * Opens a URL in the person's browser when a desktop opener is on PATH (`xdg-open` on Linux and the
 * BSDs, `open` on macOS, `start` on Windows); never fails: without one, or when it errors, the caller
 * has printed the URL anyway.
 */
import { spawn } from "node:child_process"
import { accessSync, constants } from "node:fs"
import path from "node:path"

const onPath = (command: string, envPath: string): boolean =>
  envPath
    .split(path.delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(path.join(dir, command), constants.X_OK)
        return true
      } catch {
        return false
      }
    })

/** The opener this machine has, if any. */
export const browserOpener = (
  platform: NodeJS.Platform = process.platform,
  envPath: string = process.env.PATH ?? "",
): { command: string; args: (url: string) => string[] } | undefined => {
  if (platform === "win32") return { command: "cmd", args: (url) => ["/c", "start", '""', url] }
  const command = platform === "darwin" ? "open" : "xdg-open"
  return onPath(command, envPath) ? { command, args: (url) => [url] } : undefined
}

/** Starts the opener detached; the name of the opener used, or undefined when there is none. */
export const openUrl = (url: string, options: { platform?: NodeJS.Platform; envPath?: string } = {}) => {
  const opener = browserOpener(options.platform, options.envPath)
  if (!opener) return undefined
  try {
    const child = spawn(opener.command, opener.args(url), { detached: true, stdio: "ignore" })
    child.on("error", () => {})
    child.unref()
    return opener.command
  } catch {
    return undefined
  }
}
