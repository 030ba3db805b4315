import { useId, useState } from "react"
import { ApiError, api, type RunList } from "../api.ts"
import { StatusBadge } from "../components/status-badge.tsx"
import { TableHead } from "../components/table-head.tsx"
import { formatCost, formatDuration, formatTime, unknownCostHint, WORKFLOW_NAMES } from "../format.ts"
import { usePolling } from "../hooks.ts"
import { Link, navigate, useLocation } from "../router.tsx"

const STATUSES = ["pending", "running", "completed", "failed", "cancelled"]
const TYPES = ["auto-resolve-issue", "comment-on-issue", "resolve-issue", "answer-question"]

export const RunsPage = () => {
  const { search } = useLocation()
  const status = search.get("status") ?? ""
  const type = search.get("type") ?? ""
  const repo = search.get("repo") ?? ""
  const cursor = search.get("cursor") ?? ""
  // the cursors of the pages before this one, so "Previous" works without a server-side reverse cursor
  const back = search.getAll("back")
  const [page, setPage] = useState<RunList>()
  const [error, setError] = useState<string>()
  const [repoDraft, setRepoDraft] = useState(repo)
  const ids = { status: useId(), type: useId(), repo: useId() }

  usePolling(
    () =>
      api
        .runs({ status, type, repo, cursor, limit: 25 })
        .then((p) => {
          setPage(p)
          setError(undefined)
        })
        .catch((e: unknown) => setError(e instanceof ApiError ? e.message : String(e))),
    2500,
    true,
    [status, type, repo, cursor],
  )

  const go = (changes: Record<string, string | string[] | undefined>) => {
    const next = new URLSearchParams()
    const merged = { status, type, repo, cursor: "", back: [] as string[], ...changes }
    for (const [key, value] of Object.entries(merged)) {
      if (Array.isArray(value)) for (const v of value) next.append(key, v)
      else if (value) next.set(key, value)
    }
    const text = next.toString()
    navigate(`/runs${text ? `?${text}` : ""}`)
  }

  return (
    <>
      <div className="page-head">
        <h1>Runs</h1>
        <Link href="/start" className="button primary">
          Start work
        </Link>
      </div>
      <form
        className="filters"
        aria-label="Filter runs"
        onSubmit={(e) => {
          e.preventDefault()
          go({ repo: repoDraft.trim() })
        }}
      >
        <div>
          <label htmlFor={ids.status}>Status</label>
          <select id={ids.status} value={status} onChange={(e) => go({ status: e.target.value })}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={ids.type}>Workflow</label>
          <select id={ids.type} value={type} onChange={(e) => go({ type: e.target.value })}>
            <option value="">any</option>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {WORKFLOW_NAMES[t]}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={ids.repo}>Repository</label>
          <input
            id={ids.repo}
            value={repoDraft}
            placeholder="owner/repo"
            onChange={(e) => setRepoDraft(e.target.value)}
            onBlur={() => repoDraft.trim() !== repo && go({ repo: repoDraft.trim() })}
          />
        </div>
        <button type="submit">Apply</button>
      </form>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      {!page && !error && <p className="loading">Loading runs…</p>}
      {page && page.runs.length === 0 && (
        <p className="empty">
          No runs{status || type || repo ? " match these filters" : " yet"}.{" "}
          <Link href="/start">Start work</Link> on an issue, label an issue <code>prwright:plan</code>, or run{" "}
          <code>prwright auto owner/repo#N</code>.
        </p>
      )}
      {page && page.runs.length > 0 && (
        <table className="runs">
          <caption className="sr-only">Runs, newest first; updates live</caption>
          <TableHead
            columns={[
              "Status",
              "Run",
              "Workflow",
              "Trigger",
              "Started",
              "Duration",
              { num: "Steps" },
              { num: "Cost" },
              "Pull request",
            ]}
          />
          <tbody>
            {page.runs.map((run) => (
              <tr key={run.jobId} data-job-id={run.jobId}>
                <td data-label="Status">
                  <StatusBadge
                    status={run.status}
                    position={run.queuePosition}
                    detail={run.queue?.description}
                  />
                  {run.status === "running" && <span className="muted small"> {run.progress}%</span>}
                </td>
                <td data-label="Run">
                  <Link href={`/runs/${run.jobId}`}>
                    {run.repoFullName}#{run.issueNumber}
                  </Link>
                  {run.issueUrl && (
                    <>
                      {" "}
                      <a className="small" href={run.issueUrl} rel="noreferrer" target="_blank">
                        issue
                        <span className="sr-only">
                          {" "}
                          {run.repoFullName}#{run.issueNumber} on GitHub
                        </span>
                      </a>
                    </>
                  )}
                </td>
                <td data-label="Workflow">{WORKFLOW_NAMES[run.type] ?? run.type}</td>
                <td data-label="Trigger">
                  {run.trigger.source}
                  {run.trigger.actor ? <span className="muted"> · {run.trigger.actor}</span> : null}
                </td>
                <td data-label="Started">{formatTime(run.startedAt ?? run.createdAt)}</td>
                <td data-label="Duration">
                  {formatDuration(
                    run.durationMs ??
                      (run.startedAt && run.status === "running"
                        ? Date.now() - new Date(run.startedAt).getTime()
                        : undefined),
                  )}
                </td>
                <td data-label="Steps" className="num">
                  {run.steps}
                </td>
                <td data-label="Cost" className="num">
                  {run.usage.unpricedModel ? (
                    <span title={unknownCostHint(run.usage)}>unknown</span>
                  ) : (
                    formatCost(run.usage.costUsd)
                  )}
                </td>
                <td data-label="Pull request">
                  {run.artifacts.pullRequestUrl ? (
                    <a href={run.artifacts.pullRequestUrl} rel="noreferrer" target="_blank">
                      #{run.artifacts.pullRequestNumber ?? "PR"}
                      {run.artifacts.pullRequestDraft ? " (draft)" : ""}
                    </a>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav className="pager" aria-label="Pages">
        <button
          type="button"
          disabled={!cursor}
          onClick={() => go({ cursor: back.at(-1) ?? "", back: back.slice(0, -1) })}
        >
          ← Newer
        </button>
        <button
          type="button"
          disabled={!page?.nextCursor}
          onClick={() => page?.nextCursor && go({ cursor: page.nextCursor, back: [...back, cursor] })}
        >
          Older →
        </button>
      </nav>
    </>
  )
}
