import type { Logger } from "./ports/logging.js"

/** The Logger used when an adapter is built without one (tests, one-off CLI commands). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
}
