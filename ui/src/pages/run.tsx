import { useCallback, useEffect, useState } from "react"
import { ApiError, api, type Plan, type RunDetail } from "../api.ts"
import { Markdown } from "../components/markdown.tsx"
import { StatusBadge } from "../components/status-badge.tsx"
import { Timeline } from "../components/timeline.tsx"
import {
  formatCost,
  formatDuration,
  formatTime,
  formatTokens,
  isTerminal,
  unknownCostHint,
  WORKFLOW_NAMES,
} from "../format.ts"
import { usePolling } from "../hooks.ts"
import { Link, navigate } from "../router.tsx"
import { useTranscript } from "../use-transcript.ts"

const PlanPanel = ({ planId, onApproved }: { planId: string; onApproved: (jobId: string) => void }) => {
  const [plan, setPlan] = useState<Plan>()
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    api
      .plan(planId)
      .then(setPlan)
      .catch((e: unknown) => setError(String(e)))
  }, [planId])
  if (error) return <p className="error-text">{error}</p>
  if (!plan) return null
  const approve = async () => {
    setBusy(true)
    setError(undefined)
    try {
      const result = await api.approve(plan.id, plan.version)
      setPlan(result.plan)
      onApproved(result.jobId)
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e))
    } finally {
      setBusy(false)
    }
  }
  return (
    <section className="card plan" aria-labelledby="plan-heading">
      <div className="page-head">
        <h2 id="plan-heading">
          Plan · version {plan.version} <span className={`tag tag-${plan.status}`}>{plan.status}</span>
        </h2>
        {plan.status !== "superseded" && (
          <button type="button" className="primary" onClick={approve} disabled={busy}>
            {plan.status === "approved"
              ? `Open the implementation of version ${plan.version}`
              : `Approve version ${plan.version} and implement`}
          </button>
        )}
      </div>
      {plan.status === "superseded" && (
        <p className="muted">
          A newer plan for this issue replaced this version; approve the newest one instead.
        </p>
      )}
      {plan.commentUrl && (
        <p className="small">
          <a href={plan.commentUrl} target="_blank" rel="noreferrer">
            The plan comment on GitHub
          </a>
        </p>
      )}
      <Markdown source={plan.body} label={`plan version ${plan.version}`} />
    </section>
  )
}

export const RunPage = ({ jobId }: { jobId: string }) => {
  const [detail, setDetail] = useState<RunDetail>()
  const [error, setError] = useState<string>()
  const [actionError, setActionError] = useState<string>()
  const refresh = useCallback(
    () =>
      api
        .run(jobId)
        .then((d) => {
          setDetail(d)
          setError(undefined)
        })
        .catch((e: unknown) => setError(e instanceof ApiError ? e.message : String(e))),
    [jobId],
  )
  const { transcript, version, connection, error: streamError } = useTranscript(jobId, () => void refresh())
  const run = detail?.run
  const terminal = run ? isTerminal(run.status) : false
  usePolling(refresh, 2000, !terminal, [jobId])

  if (error && !run)
    return (
      <p role="alert" className="error-text">
        {error}
      </p>
    )
  if (!run || !detail) return <p className="loading">Loading run…</p>

  const act = async (what: "cancel" | "retry") => {
    setActionError(undefined)
    try {
      if (what === "cancel") {
        await api.cancel(run.jobId)
        await refresh()
      } else {
        const accepted = await api.retry(run.jobId)
        navigate(`/runs/${accepted.jobId}`)
      }
    } catch (e) {
      setActionError(e instanceof ApiError ? e.message : String(e))
    }
  }

  // the live stream is ahead of the 2 s poll: take whichever is further along
  const lastPhase = transcript.phases[transcript.phases.length - 1]
  const progress = terminal ? run.progress : Math.max(run.progress, Math.round(lastPhase?.progress ?? 0))
  const progressMessage =
    !terminal && lastPhase && lastPhase.progress > run.progress ? lastPhase.title : run.progressMessage
  const steps = Math.max(run.steps, transcript.steps)
  const usage =
    transcript.usage.inputTokens > run.usage.inputTokens && !terminal
      ? {
          ...transcript.usage,
          costUsd: Math.max(run.usage.costUsd, transcript.usage.costUsd),
          ...((run.usage.unpricedModel ?? transcript.usage.unpricedModel)
            ? { unpricedModel: run.usage.unpricedModel ?? transcript.usage.unpricedModel }
            : {}),
        }
      : run.usage
  const elapsed =
    run.durationMs ??
    (run.startedAt && !terminal ? Date.now() - new Date(run.startedAt).getTime() : undefined)
  const tokens = usage.inputTokens + usage.outputTokens
  const budget = detail.budget.maxCostUsd
  const a = run.artifacts
  return (
    <article className="run" data-status={run.status}>
      <header className="run-head card">
        <p className="crumbs small">
          <Link href="/runs">Runs</Link> / <span>{run.jobId}</span>
        </p>
        <div className="page-head">
          <h1>
            {WORKFLOW_NAMES[run.type] ?? run.type} · {run.repoFullName}#{run.issueNumber}
          </h1>
          <div className="actions">
            {!terminal && (
              <button type="button" className="danger" onClick={() => act("cancel")}>
                Cancel run
              </button>
            )}
            {(run.status === "failed" || run.status === "cancelled") && (
              <button type="button" onClick={() => act("retry")}>
                Retry
              </button>
            )}
          </div>
        </div>
        {actionError && (
          <p role="alert" className="error-text">
            {actionError}
          </p>
        )}
        {run.status === "pending" && run.queue && (
          <p className="queue-box" aria-live="polite">
            <span aria-hidden="true">◷ </span>
            <strong>In line:</strong> <span data-testid="run-queue">{run.queue.description}</span>
          </p>
        )}
        <dl className="facts">
          <div>
            <dt>Status</dt>
            <dd aria-live="polite" data-testid="run-status">
              <StatusBadge
                status={run.status}
                // the box above says it in full where the queue holds the run
                position={run.queue ? undefined : run.queuePosition}
              />
            </dd>
          </div>
          <div>
            <dt>Attempt</dt>
            <dd>
              {run.attempts} of {run.maxAttempts}
            </dd>
          </div>
          <div className="wide">
            <dt>Progress</dt>
            <dd>
              <progress max={100} value={progress} aria-label="progress" /> {progress}%{" "}
              <span className="muted">{progressMessage}</span>
            </dd>
          </div>
          <div>
            <dt>Tokens</dt>
            <dd>
              {formatTokens(tokens)}{" "}
              <span className="muted small">
                ({formatTokens(usage.inputTokens)} in / {formatTokens(usage.outputTokens)} out)
              </span>
            </dd>
          </div>
          <div>
            <dt>Cost</dt>
            <dd data-testid="run-cost">
              {usage.unpricedModel ? (
                <span title={unknownCostHint(usage)}>
                  unknown{" "}
                  <span className="muted small">
                    (model {usage.unpricedModel} has no price; set PRWRIGHT_MODEL_PRICES)
                  </span>
                </span>
              ) : (
                formatCost(run.usage.costUsd)
              )}
              {budget && !usage.unpricedModel ? (
                <>
                  {" "}
                  <span className="muted small">of {formatCost(budget)} budget</span>{" "}
                  <meter
                    min={0}
                    max={budget}
                    value={run.usage.costUsd}
                    aria-label="cost against the budget"
                  />
                </>
              ) : null}
            </dd>
          </div>
          <div>
            <dt>Steps</dt>
            <dd>
              {steps}
              {detail.budget.maxSteps ? (
                <span className="muted small"> of {detail.budget.maxSteps}</span>
              ) : null}
            </dd>
          </div>
          <div>
            <dt>{run.startedAt ? "Started" : "Queued"}</dt>
            <dd>
              {formatTime(run.startedAt ?? run.createdAt)}{" "}
              <span className="muted small">{formatDuration(elapsed)}</span>
            </dd>
          </div>
          <div>
            <dt>Trigger</dt>
            <dd>
              {run.trigger.source}
              {run.trigger.actor ? ` · ${run.trigger.actor}` : ""}
            </dd>
          </div>
        </dl>
        <ul className="links">
          {run.issueUrl && (
            <li>
              <a href={run.issueUrl} target="_blank" rel="noreferrer">
                Issue #{run.issueNumber}
              </a>
            </li>
          )}
          {a.branchName && (
            <li>
              Branch{" "}
              {run.branchUrl ? (
                <a href={run.branchUrl} target="_blank" rel="noreferrer">
                  <code>{a.branchName}</code>
                </a>
              ) : (
                <code>{a.branchName}</code>
              )}
            </li>
          )}
          {a.pullRequestUrl && (
            <li>
              <a href={a.pullRequestUrl} target="_blank" rel="noreferrer" data-testid="pr-link">
                Pull request #{a.pullRequestNumber}
                {a.pullRequestDraft ? " (draft)" : ""}
              </a>
            </li>
          )}
          {a.planCommentUrl && (
            <li>
              <a href={a.planCommentUrl} target="_blank" rel="noreferrer">
                Plan comment
              </a>
            </li>
          )}
          {run.type === "resolve-issue" && run.planId && (
            <li>
              Implements plan <Link href={`/runs/${run.planId}`}>{run.planId.slice(0, 8)}</Link>
            </li>
          )}
        </ul>
        {run.error && (
          <p className="error-box" role="status">
            <strong>
              <span aria-hidden="true">⚠ </span>
              {run.status === "cancelled" ? "Stopped" : "Error"}:
            </strong>{" "}
            {run.error}
          </p>
        )}
      </header>

      {run.type === "comment-on-issue" && run.planId && (
        <PlanPanel planId={run.planId} onApproved={(next) => navigate(`/runs/${next}`)} />
      )}

      {run.type === "answer-question" && detail.summary && (
        <section className="card" aria-labelledby="answer-heading">
          <h2 id="answer-heading">Answer</h2>
          <Markdown source={detail.summary} />
        </section>
      )}

      <section aria-labelledby="timeline-heading" className="timeline-wrap">
        <div className="page-head">
          <h2 id="timeline-heading">Timeline</h2>
          <span className={`conn conn-${connection}`} data-testid="connection">
            {connection === "live"
              ? "● live"
              : connection === "reconnecting"
                ? "reconnecting…"
                : connection === "ended"
                  ? "ended"
                  : "loading…"}
          </span>
        </div>
        {streamError && <p className="error-text">{streamError}</p>}
        <Timeline phases={transcript.phases} version={version} live={!terminal} />
      </section>
    </article>
  )
}
