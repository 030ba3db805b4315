// The GitHub double of bench/webhooks.ts, in its own process: in production GitHub is another machine,
// so its CPU must not count as the intake's. argv[2]: JSON { tokens, repos: [{ name, writers, issues,
// commentsPerIssue }] }: each repository gets `issues` issues with `commentsPerIssue` comments each, so
// the deliveries can name comments that exist (reactions to them succeed, as on GitHub).
// Prints one line `{"apiUrl": …, "comments": {repo: {issue: [ids]}}}` once it listens; on stdin
// "requests\n" prints one JSON line counting the requests it served by method, path shape and status;
// exits when stdin ends.
import { startGitHubDouble } from "../../test/doubles/github-double.js"

const spec = JSON.parse(process.argv[2] ?? "{}") as {
  tokens: Record<string, { login: string; repos: string[] | "*" }>
  repos: Array<{ name: string; writers: string[]; issues: number; commentsPerIssue: number }>
}
const github = await startGitHubDouble({ tokens: spec.tokens })
const token = Object.keys(spec.tokens)[0] ?? ""
const comments: Record<string, Record<number, number[]>> = {}
for (const repo of spec.repos) {
  await github.createRepo(repo.name, { files: { "README.md": "# bench\n" } })
  for (const writer of repo.writers) github.grant(repo.name, writer, "write")
  const ids: Record<number, number[]> = {}
  for (let n = 1; n <= repo.issues; n++) {
    const number = github.createIssue(repo.name, { title: `bench issue ${n}`, body: "" })
    ids[number] = []
    for (let k = 0; k < repo.commentsPerIssue; k++) {
      const made = await fetch(`${github.apiUrl}/repos/${repo.name}/issues/${number}/comments`, {
        method: "POST",
        headers: { authorization: `token ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ body: `comment ${k}` }),
      })
      ids[number].push(((await made.json()) as { id: number }).id)
    }
  }
  comments[repo.name] = ids
}
// the set-up's own requests are not the intake's
github.requests.length = 0
process.stdout.write(`${JSON.stringify({ apiUrl: github.apiUrl, comments })}\n`)
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
      const shape = `${request.method} ${request.path.replace(/\/\d+(?=\/|$)/g, "/N")} ${request.status}`
      counts[shape] = (counts[shape] ?? 0) + 1
    }
    process.stdout.write(`${JSON.stringify(counts)}\n`)
  }
})
process.stdin.on("end", () => void github.close().then(() => process.exit(0)))
