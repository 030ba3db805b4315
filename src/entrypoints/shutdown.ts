/**
 * SIGTERM/SIGINT run `stop` once; a second signal, or a stop that hangs past the deadline, exits
 * at once so a process never hangs forever.
 */
export const onShutdown = (stop: () => Promise<void>, deadlineMs = 60_000): void => {
  let stopping = false
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.exit(130)
    }
    stopping = true
    process.stderr.write(`${JSON.stringify({ level: "info", msg: `received ${signal}, shutting down` })}\n`)
    const timer = setTimeout(() => process.exit(1), deadlineMs)
    timer.unref()
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(
          `${JSON.stringify({ level: "error", msg: `shutdown failed: ${String(error)}` })}\n`,
        )
        process.exit(1)
      },
    )
  }
  process.on("SIGTERM", handler)
  process.on("SIGINT", handler)
}
