/**
 * `npm run bench:workspace`: what a run's working copy costs on a large repository.
 *
 *   node --conditions=prwright-source --import tsx bench/workspace.ts [--json] [--quick]
 *     [--files N] [--commits N] [--warm N] [--fresh N] [--steps N]
 *
 * A synthetic repository (20,000 files, 600 commits by default) is generated with `git fast-import` and
 * served by the GitHub double over smart HTTP with token auth. Measured in the same run:
 *   - warm checkout: `workspace.checkout` once the mirror exists (fetch, then a disposed run's tree reset
 *     and cleaned, as on a busy worker), each run disposed; and for reference without a tree to recycle;
 *   - fresh clone: `git clone` of the same URL into a new directory, same header mechanism;
 *   - the harness's own time per agent step on that checkout (model and sandbox command time excluded).
 * With --json the last line of stdout is one JSON object; progress goes to stderr.
 */
import { mkdtemp, rm } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { performance } from "node:perf_hooks"
import { parseArgs } from "node:util"
import { createGitCliWorkspace } from "#adapters/git/git-cli-workspace.js"
import { runGit } from "#adapters/git/run-git.js"
import { gitAuthHeader } from "#adapters/github/octokit-github.js"
import { searchCheckout, viewPath } from "#application/agent/read-only-tools.js"
import type { Checkout } from "#application/ports/workspace.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import { startGitHubDouble } from "../test/doubles/github-double.js"
import { filePath, generateBigRepo } from "./support/workspace-repo.js"

const TARGET_RATIO = 0.2
const TARGET_STEP_P50_MS = 20

const { values: args } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    files: { type: "string" },
    commits: { type: "string" },
    warm: { type: "string" },
    fresh: { type: "string" },
    steps: { type: "string" },
  },
})
const count = (value: string | undefined, fallback: number, name: string): number => {
  if (value === undefined) return fallback
  const parsed = Number(value.replaceAll("_", ""))
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive integer`)
  return parsed
}
const config = {
  files: count(args.files, args.quick ? 2_000 : 20_000, "files"),
  commits: count(args.commits, args.quick ? 100 : 600, "commits"),
  warm: count(args.warm, args.quick ? 3 : 5, "warm"),
  fresh: count(args.fresh, args.quick ? 2 : 3, "fresh"),
  steps: count(args.steps, args.quick ? 20 : 60, "steps"),
}

const progress = (message: string) => process.stderr.write(`[bench:workspace] ${message}\n`)
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}
const median = (values: number[]) => percentile(values, 50)
const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now()
  const result = await work()
  return [result, performance.now() - started]
}
const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`

const TOKEN = `ghs_bench${Math.random().toString(36).slice(2)}`
const repo = parseRepoRef("bench/big")
const scratch = await mkdtemp(path.join(os.tmpdir(), "bench-workspace-"))
const double = await startGitHubDouble({ tokens: { [TOKEN]: { login: "bench", repos: "*" } } })
const header = gitAuthHeader(TOKEN)

try {
  progress(`generating ${config.files} files × ${config.commits} commits with git fast-import…`)
  const source = path.join(scratch, "source.git")
  await runGit({ args: ["init", "--quiet", "--bare", "-b", "main", source], gitBinary: "git" })
  const [, generateMs] = await timed(() =>
    generateBigRepo(source, { files: config.files, commits: config.commits, filesPerCommit: 15 }),
  )
  const { cloneUrl } = await double.createRepo(repo.fullName, { from: source })
  progress(`generated in ${ms(generateMs)}; served at ${cloneUrl}`)

  const workspace = createGitCliWorkspace({
    dataDir: path.join(scratch, "data"),
    authHeader: async () => header,
  })
  const checkout = (runId: string) => workspace.checkout({ repo, cloneUrl, ref: "main", runId })
  const [first, coldMs] = await timed(() => checkout("cold"))
  await first.dispose()
  progress(`cold checkout (mirror clone + worktree): ${ms(coldMs)}`)

  // interleaved, so a noisy neighbour on the disk hits both sides alike
  const warm: number[] = []
  const fresh: number[] = []
  for (let round = 0; round < Math.max(config.warm, config.fresh); round++) {
    if (round < config.warm) {
      const [co, elapsed] = await timed(() => checkout(`warm-${round}`))
      warm.push(elapsed)
      await co.dispose()
    }
    if (round < config.fresh) {
      const target = path.join(scratch, `fresh-${round}`)
      const [, elapsed] = await timed(() =>
        runGit({
          args: ["clone", "--quiet", cloneUrl, target],
          auth: { origin: new URL(cloneUrl).origin, header },
          gitBinary: "git",
        }),
      )
      fresh.push(elapsed)
      await rm(target, { recursive: true, force: true })
    }
    const shown = (values: number[]) => (values[round] === undefined ? "-" : ms(values[round] ?? 0))
    progress(`round ${round + 1}: warm ${shown(warm)}, fresh ${shown(fresh)}`)
  }

  // the same, without a parked tree to recycle: every file of the tree is written again
  const plain = createGitCliWorkspace({
    dataDir: path.join(scratch, "data"),
    authHeader: async () => header,
    spareCheckouts: 0,
  })
  const unrecycled: number[] = []
  for (let round = 0; round < 2; round++) {
    const [co, elapsed] = await timed(() =>
      plain.checkout({ repo, cloneUrl, ref: "main", runId: `plain-${round}` }),
    )
    unrecycled.push(elapsed)
    await co.dispose()
    progress(`warm checkout without a recycled tree: ${ms(elapsed)}`)
  }

  progress(`timing ${config.steps} agent steps…`)
  const co: Checkout = await checkout("steps")
  const samples = {
    view: [] as number[],
    edit: [] as number[],
    status: [] as number[],
    search: [] as number[],
  }
  try {
    for (let step = 0; step < config.steps; step++) {
      const file = filePath((step * 7919) % config.files)
      const [, view] = await timed(() => viewPath(co, file))
      const [, edit] = await timed(async () => {
        const text = await co.readFile(file)
        const changed = text.replace(/return x \* 3 /, `return x * 3 + ${step} `)
        await co.writeFile(file, changed)
      })
      const [, search] = await timed(() =>
        searchCheckout(co, { pattern: `value${(step * 31) % config.files}\\b`, path: path.dirname(file) }),
      )
      const [, status] = await timed(() => co.status())
      // the first steps warm caches (page cache, untracked cache); keep them out of the figures
      if (step < 3) continue
      samples.view.push(view)
      samples.edit.push(edit)
      samples.search.push(search)
      samples.status.push(status)
    }
  } finally {
    await co.dispose()
  }
  const plumbing = samples.view.map((view, i) => view + (samples.edit[i] ?? 0))
  const full = plumbing.map((value, i) => value + (samples.search[i] ?? 0) + (samples.status[i] ?? 0))

  const warmMs = median(warm)
  const freshMs = median(fresh)
  const result = {
    files: config.files,
    commits: config.commits,
    coldCheckoutMs: Math.round(coldMs),
    warmCheckoutMedianMs: Math.round(warmMs),
    freshCloneMedianMs: Math.round(freshMs),
    warmToFreshRatio: Number((warmMs / freshMs).toFixed(3)),
    warmWithoutRecycledTreeMedianMs: Math.round(median(unrecycled)),
    stepOverheadP50Ms: Number(median(plumbing).toFixed(2)),
    stepOverheadP95Ms: Number(percentile(plumbing, 95).toFixed(2)),
    stepWithGitAndSearchP50Ms: Number(median(full).toFixed(2)),
    viewP50Ms: Number(median(samples.view).toFixed(2)),
    editP50Ms: Number(median(samples.edit).toFixed(2)),
    scopedSearchP50Ms: Number(median(samples.search).toFixed(2)),
    statusP50Ms: Number(median(samples.status).toFixed(2)),
  }

  const rows: Array<[string, string, string]> = [
    ["repository", `${config.files} files, ${config.commits + 1} commits`, ""],
    ["cold checkout (first run: mirror clone + worktree)", ms(coldMs), ""],
    [`warm checkout, median of ${warm.length} (fetch + recycled tree)`, ms(warmMs), ""],
    [`fresh git clone, median of ${fresh.length}`, ms(freshMs), ""],
    ["warm checkout without a recycled tree (worktree add)", ms(median(unrecycled)), "for reference"],
    ["warm / fresh", result.warmToFreshRatio.toFixed(3), `target ≤ ${TARGET_RATIO}`],
    [
      "step overhead p50: view + edit (see below)",
      ms(result.stepOverheadP50Ms),
      `target < ${TARGET_STEP_P50_MS} ms`,
    ],
    ["step overhead p95", ms(result.stepOverheadP95Ms), ""],
    ["  view: stat + readFile + numbered render", ms(result.viewP50Ms), ""],
    ["  edit: readFile + writeFile (confined)", ms(result.editP50Ms), ""],
    ["  search in the file's directory (ripgrep process)", ms(result.scopedSearchP50Ms), "not in overhead"],
    ["  status() over the whole tree (git process)", ms(result.statusP50Ms), "not in overhead"],
    ["step incl. search + status, p50", ms(result.stepWithGitAndSearchP50Ms), ""],
  ]
  const width = Math.max(...rows.map(([label]) => label.length))
  process.stdout.write(`\nWorkspace benchmark (${os.cpus().length} CPUs)\n`)
  for (const [label, value, note] of rows)
    process.stdout.write(`${label.padEnd(width)}  ${value.padStart(12)}  ${note}\n`)
  process.stdout.write(
    "\nStep overhead = the harness's own work for one tool call (path confinement, file I/O, rendering the\n" +
      "view for the model), measured in-process on the large checkout. Model time is excluded; so is the\n" +
      "time of processes a step may start (ripgrep for search, git for status), listed separately above.\n",
  )
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`)
} finally {
  await double.close()
  await rm(scratch, { recursive: true, force: true })
}
