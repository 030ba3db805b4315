import { statSync } from "node:fs"
import path from "node:path"
import type { SandboxCommand } from "#application/ports/sandbox.js"
import { ValidationError } from "#domain/errors.js"

/** Refuses a command the sandbox could not confine: a relative or missing root, a non-positive timeout. */
export const checkSandboxCommand = (command: SandboxCommand): void => {
  if (!path.isAbsolute(command.root) || path.resolve(command.root) === "/") {
    throw new ValidationError(
      `sandbox root must be the absolute path of a checkout, got ${JSON.stringify(command.root)}`,
      [{ field: "root", message: "use the run's checkout directory" }],
    )
  }
  let isDirectory = false
  try {
    isDirectory = statSync(command.root).isDirectory()
  } catch {}
  if (!isDirectory) {
    throw new ValidationError(
      `sandbox root ${command.root} is not an existing directory: check out the repository first`,
      [{ field: "root", message: "must exist" }],
    )
  }
  if (!Number.isFinite(command.timeoutMs) || command.timeoutMs <= 0) {
    throw new ValidationError(
      `sandbox timeoutMs must be a positive number of milliseconds, got ${command.timeoutMs}`,
      [{ field: "timeoutMs", message: "must be > 0" }],
    )
  }
}
