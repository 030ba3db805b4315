/** Whether bubblewrap can build a sandbox (all namespaces) on this host: tests that need one skip, loudly, where not. */
import { execFileSync } from "node:child_process"

export const bwrapWorks = (() => {
  try {
    execFileSync("bwrap", ["--unshare-all", "--ro-bind", "/", "/", "true"], {
      stdio: "ignore",
      timeout: 5_000,
    })
    return true
  } catch {
    return false
  }
})()
