#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from "commander"
import { errorMessage, PrwrightError } from "#domain/errors.js"
import { formatIssueRef, type IssueRef, parseIssueRef } from "#domain/repo-ref.js"
import { JOB_TYPES, type JobType, RUN_STATUSES, WORKER_TYPES, type WorkerType } from "#domain/workflow-run.js"
import { type Config, loadConfig, loadDotEnv } from "#main/config.js"
import { ApiRequestError, createApiClient } from "./cli/api-client.js"
import { followRun, placeText, printLogs, printStatus, runInline } from "./cli/run-commands.js"
import { runServe } from "./serve.js"
import { VERSION } from "./version.js"
import { runWorker } from "./worker.js"

const config = (): Config => loadConfig()
const api = () =>
  createApiClient({
    baseUrl: process.env.PRWRIGHT_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`,
    token: process.env.PRWRIGHT_API_TOKEN || undefined,
  })
const positiveInt = (value: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer")
  return n
}

const portNumber = (value: string): number => {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 65535)
    throw new InvalidArgumentError("must be a TCP port from 0 to 65535 (0 picks a free one)")
  return n
}

const program = new Command()
  .name("prwright")
  .description("Turns GitHub issues into implementation plans and pull requests with an LLM coding agent.")
  .version(VERSION)
  .showHelpAfterError()
  .addHelpText(
    "after",
    "\nConfiguration comes from the environment (and .env); see README.md. Commands that talk to a running\nserver use PRWRIGHT_URL (default http://127.0.0.1:$PORT) and PRWRIGHT_API_TOKEN.",
  )

program
  .command("serve")
  .description("run the API and, unless --no-workers, the workers in this process")
  .option("--port <port>", "HTTP port (default $PORT or 3000; 0 picks a free one)", portNumber)
  .option("--no-workers", "serve the API only; run `prwright worker` processes separately")
  .action(async (options: { port?: number; workers: boolean }) => {
    const c = config()
    await runServe(options.port === undefined ? c : { ...c, port: options.port }, {
      workers: options.workers,
    })
  })

program
  .command("worker")
  .description("take jobs from the queue (BullMQ when REDIS_URL is set) until SIGTERM")
  .addOption(
    new Option("--type <type>", "which jobs to take")
      .choices([...Object.keys(WORKER_TYPES), "all"])
      .default(process.env.WORKER_TYPE ?? "all"),
  )
  .option(
    "--concurrency <n>",
    "jobs in parallel (default per type: comment 3, auto-resolve 1, resolve 1)",
    positiveInt,
  )
  .action(async (options: { type: string; concurrency?: number }) => {
    const types =
      options.type === "all" ? (Object.keys(WORKER_TYPES) as WorkerType[]) : [options.type as WorkerType]
    await runWorker(config(), { types, concurrency: options.concurrency })
  })

type WorkflowOptions = {
  wait?: boolean
  inline?: boolean
  post: boolean
  pr?: boolean
  jobId?: string
  priority?: string
  planId?: string
  maxAttempts?: number
}

const workflowCommand = (name: string, description: string) =>
  program
    .command(`${name} <issue>`)
    .description(`${description}; <issue> is owner/repo#N`)
    .option("--wait", "follow the run live and exit non-zero if it fails")
    .option("--inline", "run it in this process, without a queue or a server")
    .option("--job-id <uuid>", "idempotency key: the same id never starts a second run")
    .addOption(
      new Option("--priority <priority>", "queue priority").choices(["low", "normal", "high", "urgent"]),
    )

const run =
  (
    route: string,
    type: JobType,
    body: (issue: IssueRef, options: WorkflowOptions) => Record<string, unknown>,
  ) =>
  async (issueText: string, options: WorkflowOptions) => {
    const issue = parseIssueRef(issueText, "<issue>")
    const request = { ...body(issue, options), ...(options.jobId ? { jobId: options.jobId } : {}) }
    if (options.inline) {
      process.exitCode = await runInline(config(), type, request)
      return
    }
    const client = api()
    const accepted = await client.request<{
      jobId: string
      status: string
      waitingUntil?: string
      message?: string
    }>("POST", `/api/workflow/${route}`, request)
    // past a spending limit with PRWRIGHT_SPEND_LIMIT_ACTION=wait: say what it waits for
    const waiting = accepted.waitingUntil
      ? ` (${accepted.message ?? `waiting until ${accepted.waitingUntil}`})`
      : ""
    process.stdout.write(`${formatIssueRef(issue)}: job ${accepted.jobId} ${accepted.status}${waiting}\n`)
    if (options.wait) process.exitCode = await followRun(client, accepted.jobId)
  }

const base = (issue: IssueRef) => ({ repoFullName: issue.repo.fullName, issueNumber: issue.number })
const priority = (options: WorkflowOptions) => (options.priority ? { priority: options.priority } : {})

const planBody = (issue: IssueRef, options: WorkflowOptions) => ({
  ...base(issue),
  postToGitHub: options.post,
  ...priority(options),
})
workflowCommand("plan", "post an implementation plan for an issue as a comment")
  .option("--no-post", "do not write to GitHub; print the plan only")
  .action(run("commentOnIssue", "comment-on-issue", planBody))

const resolveBody = (issue: IssueRef, options: WorkflowOptions) => ({
  ...base(issue),
  ...(options.planId ? { planId: options.planId } : {}),
  options: {
    createPR: options.pr ?? true,
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    ...priority(options),
  },
})
workflowCommand("resolve", "implement an issue (from its latest plan, if any) and open a PR")
  .option("--plan-id <jobId>", "implement this plan (the jobId of a plan run)")
  .option("--no-pr", "push the branch but open no pull request")
  .option("--max-attempts <n>", "repair rounds after failing tests (1-5)", positiveInt)
  .action(run("resolveIssue", "resolve-issue", resolveBody))

const autoBody = (issue: IssueRef, options: WorkflowOptions) => ({
  ...base(issue),
  options: {
    createPR: options.pr ?? true,
    postToGitHub: options.post,
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    ...priority(options),
  },
})
workflowCommand("auto", "plan, implement, verify and open a PR in one run")
  .option("--post", "also post the plan as a comment on the issue")
  .option("--no-pr", "push the branch but open no pull request")
  .option("--max-attempts <n>", "repair rounds after failing tests (1-5)", positiveInt)
  .action(run("autoResolveIssue", "auto-resolve-issue", autoBody))

program
  .command("status <jobId>")
  .description("show a job's status (a waiting job: its place in line and an estimated start)")
  .option("--json", "print the JobStatus JSON (a waiting job's place is its `queue` field)")
  .option("--follow", "then follow the run live until it ends (exit non-zero unless it completed)")
  .action(async (jobId: string, options: { json?: boolean; follow?: boolean }) => {
    const client = api()
    const status = await client.request<Record<string, unknown>>(
      "GET",
      `/api/jobs/${encodeURIComponent(jobId)}`,
    )
    if (options.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`)
    else printStatus(status)
    if (options.follow)
      process.exitCode = await followRun(client, jobId, options.json ? undefined : placeText(status.queue))
  })

program
  .command("logs <jobId>")
  .description("print a run's transcript: phases, model turns, tool calls with results, tests, the diff")
  .option("--follow", "keep printing live until the run ends")
  .action(async (jobId: string, options: { follow?: boolean }) => {
    process.exitCode = await printLogs(api(), jobId, Boolean(options.follow))
  })

program
  .command("cancel <jobId>")
  .description("cancel a queued or running job")
  .action(async (jobId: string) => {
    const status = await api().request<{ status: string }>("DELETE", `/api/jobs/${encodeURIComponent(jobId)}`)
    process.stdout.write(`job ${jobId}: cancel requested (status ${status.status})\n`)
  })

program
  .command("runs")
  .description("list runs, newest first")
  .option("--repo <owner/repo>", "only this repository")
  .addOption(new Option("--status <status>", "only this status").choices([...RUN_STATUSES]))
  .addOption(new Option("--type <type>", "only this job type").choices([...JOB_TYPES]))
  .option("--limit <n>", "how many", positiveInt, 20)
  .option("--json", "print JSON")
  .action(
    async (options: { repo?: string; status?: string; type?: string; limit: number; json?: boolean }) => {
      const query = new URLSearchParams({ limit: String(options.limit) })
      if (options.repo) query.set("repo", options.repo)
      if (options.status) query.set("status", options.status)
      if (options.type) query.set("type", options.type)
      const page = await api().request<{ jobs: Array<Record<string, unknown>> }>("GET", `/api/jobs?${query}`)
      if (options.json) {
        process.stdout.write(`${JSON.stringify(page, null, 2)}\n`)
        return
      }
      for (const job of page.jobs) {
        process.stdout.write(
          `${job.jobId}  ${String(job.status).padEnd(9)}  ${job.type}  ${job.repoFullName}#${job.issueNumber}  ${job.createdAt}\n`,
        )
      }
      if (page.jobs.length === 0) process.stdout.write("no runs\n")
    },
  )

program
  .command("doctor")
  .description("check the configuration and every configured service, one line each, with the fix")
  .option("--repo <owner/name>", "also check that GITHUB_TOKEN can read this repository")
  .action(async (options: { repo?: string }) => {
    const { runDoctor } = await import("./doctor.js")
    process.exitCode = await runDoctor(config(), options.repo ? { repo: options.repo } : {})
  })

program
  .command("demo")
  .description("try prwright with no keys and no network: a stand-in GitHub, a scripted model, a real run")
  .option("--keep", "keep serving after the runs, until Ctrl-C (the default)")
  .option("--no-keep", "exit when the runs end (same as --exit)")
  .option("--exit", "exit when the runs end (for scripts and CI)")
  .option("--no-open", "do not open the browser on the finished run (the URL is printed either way)")
  .action(async (options: { keep?: boolean; exit?: boolean; open: boolean }) => {
    const { runDemo } = await import("./demo.js")
    const keep = options.exit ? false : options.keep
    process.exitCode = await runDemo({ ...(keep === undefined ? {} : { keep }), open: options.open })
  })

program
  .command("healthcheck")
  .description(
    "exit 0 when this container's prwright process is healthy (the image's HEALTHCHECK): serve → /healthz answers; worker → its heartbeat in the queue is fresh",
  )
  .option(
    "--pid <pid>",
    "the prwright process to check (default 1: the container's main process)",
    positiveInt,
  )
  .action(async (options: { pid?: number }) => {
    const { runHealthcheck } = await import("./healthcheck.js")
    process.exitCode = await runHealthcheck(config(), { pid: options.pid ?? 1 })
  })

program
  .command("migrate")
  .description("create or upgrade the database schema (also done at every start)")
  .action(async () => {
    const { migrateDatabase } = await import("#main/maintenance.js")
    process.stdout.write(`database is up to date (${await migrateDatabase(config())})\n`)
  })

const ENV_TOKEN_NOTE =
  "a server started with PRWRIGHT_API_TOKEN accepts only that token and ignores the stored ones, so rotating the stored token does not change it: to change it, set a new value in the server's environment and restart the server."

program
  .command("token")
  .description("manage the API token kept (hashed) in the store")
  .command("rotate")
  .description("replace the stored API token with a new one, printed once; the old one stops working at once")
  .addHelpText(
    "after",
    `\nWorks with the server stopped or running: it writes the store (DATABASE_URL, or Neo4j when NEO4J_URI\nis set) directly, and a running server accepts the new token from the next request. Only the token's\nhash is stored; the token itself is printed to stdout this once. Use it when the generated token is lost.\n\nIf PRWRIGHT_API_TOKEN is set, ${ENV_TOKEN_NOTE}\n`,
  )
  .action(async () => {
    const c = config()
    const { rotateStoredApiToken } = await import("#main/maintenance.js")
    const token = await rotateStoredApiToken(c)
    process.stdout.write(`${token}\n`)
    process.stderr.write(
      c.apiToken
        ? `prwright: the stored API token was rotated, but PRWRIGHT_API_TOKEN is set in this environment, and ${ENV_TOKEN_NOTE}\n`
        : 'prwright: the new API token is above and shown only this once; every earlier stored token no longer works. Use it as "Authorization: Bearer <token>" (export PRWRIGHT_API_TOKEN=<token> for the CLI).\n',
    )
  })

const main = async () => {
  loadDotEnv()
  try {
    await program.parseAsync(process.argv)
  } catch (error) {
    const message = errorMessage(error)
    process.stderr.write(`prwright: ${message}\n`)
    process.exitCode =
      error instanceof PrwrightError && error.code === "config"
        ? 78
        : error instanceof ApiRequestError
          ? 1
          : 1
    // a failed start may leave handles behind (a half-open connection): never linger after an error
    setTimeout(() => process.exit(), 500).unref()
  }
}

await main()
