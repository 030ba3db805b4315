// The GitHub double of bench/webhooks.ts, in its own process: in production GitHub is another machine,
// so its CPU must not count as the intake's. argv[2]: JSON { tokens, repos: [{ name, writers }] }.
// Prints one line `{"apiUrl": …}` once it listens; on stdin "requests\n" prints one JSON line counting
// the requests it served by method and path shape; exits when stdin ends.
import { startGitHubDouble } from "../../test/doubles/github-double.js"

const spec = JSON.parse(process.argv[2] ?? "{}") as {
  tokens: Record<string, { login: string; repos: string[] | "*" }>
  repos: Array<{ name: string; writers: string[] }>
}
const github = await startGitHubDouble({ tokens: spec.tokens })
for (const repo of spec.repos) {
  await github.createRepo(repo.name, { files: { "README.md": "# bench\n" } })
  for (const writer of repo.writers) github.grant(repo.name, writer, "write")
}
process.stdout.write(`${JSON.stringify({ apiUrl: github.apiUrl })}\n`)
process.stdin.setEncoding("utf8")
let buffered = ""
process.stdin.on("data", (chunk: string) => {
  buffered += chunk
  for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
    const line = buffered.slice(0, end)
    buffered = buffered.slice(end + 1)
    if (line !== "requests") continue
    const counts: Record<string, number> = {}
    for (const request of github.requests) {
      const shape = `${request.method} ${request.path.replace(/\/\d+(?=\/|$)/g, "/N")}`
      counts[shape] = (counts[shape] ?? 0) + 1
    }
    process.stdout.write(`${JSON.stringify(counts)}\n`)
  }
})
process.stdin.on("end", () => void github.close().then(() => process.exit(0)))
