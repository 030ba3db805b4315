// Runs autocannon in its own process (the load generator must not share the event loop it
// measures) and prints its JSON result. argv[2]: { url, connections, duration, headers, paths? };
// with `paths`, each request takes the next one in turn (many runs instead of one).
const autocannon = require("autocannon")

const options = JSON.parse(process.argv[2])
let next = 0
const requests = options.paths
  ? [{ setupRequest: (request) => ({ ...request, path: options.paths[next++ % options.paths.length] }) }]
  : undefined
autocannon(
  {
    url: options.url,
    connections: options.connections,
    duration: options.duration,
    headers: options.headers ?? {},
    ...(requests ? { requests } : {}),
  },
  (error, result) => {
    if (error) {
      process.stderr.write(`${error.message}\n`)
      process.exit(1)
    }
    process.stdout.write(JSON.stringify(result))
  },
)
