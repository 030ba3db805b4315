import { useEffect, useId, useMemo, useState } from "react"
import { ApiError, api, type Overview } from "../api.ts"
import { Chart, type ChartSeries } from "../components/chart.tsx"
import { TableHead } from "../components/table-head.tsx"
import { formatCost } from "../format.ts"

const RANGES = [7, 30, 90]

export const OverviewPage = () => {
  const [days, setDays] = useState(30)
  const [data, setData] = useState<Overview>()
  const [error, setError] = useState<string>()
  const rangeId = useId()
  useEffect(() => {
    api
      .overview(days)
      .then((o) => {
        setData(o)
        setError(undefined)
      })
      .catch((e: unknown) => setError(e instanceof ApiError ? e.message : String(e)))
  }, [days])

  const charts = useMemo(() => {
    if (!data) return undefined
    const x = data.days.map((d) => Date.parse(`${d.date}T00:00:00Z`) / 1000)
    const completed = data.days.map((d) => d.completed)
    const failed = data.days.map((d) => d.failed)
    const cancelled = data.days.map((d) => d.cancelled)
    // stacked: each series plots the sum up to itself, drawn tallest first
    const outcomes: ChartSeries[] = [
      {
        label: "cancelled",
        stroke: "var(--c-cancelled)",
        bars: true,
        values: data.days.map((d) => d.completed + d.failed + d.cancelled),
        display: cancelled,
      },
      {
        label: "failed",
        stroke: "var(--c-failed)",
        bars: true,
        values: data.days.map((d) => d.completed + d.failed),
        display: failed,
      },
      { label: "completed", stroke: "var(--c-completed)", bars: true, values: completed },
    ]
    const cost: ChartSeries[] = [
      { label: "cost", stroke: "var(--accent)", values: data.days.map((d) => d.costUsd), format: formatCost },
    ]
    const minutes: ChartSeries[] = [
      {
        label: "median minutes to PR",
        stroke: "var(--c-running)",
        values: data.days.map((d) => d.medianMinutesToPr),
        format: (v) => `${v} min`,
      },
    ]
    const cards = [
      { title: "Runs per day by outcome", series: outcomes, yLabel: "runs" },
      { title: "Cost per day (USD)", series: cost, yLabel: "USD" },
      { title: "Median minutes from trigger to pull request", series: minutes, yLabel: "minutes" },
    ]
    return { x, cards }
  }, [data])

  return (
    <>
      <div className="page-head">
        <h1>Overview</h1>
        <div>
          <label htmlFor={rangeId}>Range </label>
          <select id={rangeId} value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {RANGES.map((r) => (
              <option key={r} value={r}>
                last {r} days
              </option>
            ))}
          </select>
        </div>
      </div>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      {!data && !error && <p className="loading">Loading…</p>}
      {data && charts && (
        <>
          <dl className="facts totals">
            <div>
              <dt>Runs</dt>
              <dd>{data.totals.runs}</dd>
            </div>
            <div>
              <dt>Cost</dt>
              <dd>{formatCost(data.totals.costUsd)}</dd>
            </div>
            <div>
              <dt>Median time from trigger to PR</dt>
              <dd>{data.totals.medianMinutesToPr === null ? "—" : `${data.totals.medianMinutesToPr} min`}</dd>
            </div>
          </dl>
          {data.truncated && <p className="muted">Only the newest 10 000 runs of the range were counted.</p>}
          <div className="charts">
            {charts.cards.map((card) => (
              <section className="card" key={card.title}>
                <Chart title={card.title} days={charts.x} series={card.series} yLabel={card.yLabel} />
              </section>
            ))}
            <section className="card" aria-labelledby="repo-heading">
              <h2 id="repo-heading">Success rate per repository</h2>
              {data.repositories.length === 0 ? (
                <p className="muted">No finished runs in this range.</p>
              ) : (
                <table>
                  <TableHead
                    columns={["Repository", { num: "Completed" }, { num: "Finished" }, "Success rate"]}
                  />
                  <tbody>
                    {data.repositories.map((r) => (
                      <tr key={r.repoFullName}>
                        <td>{r.repoFullName}</td>
                        <td className="num">{r.completed}</td>
                        <td className="num">{r.finished}</td>
                        <td>
                          <meter
                            min={0}
                            max={1}
                            value={r.successRate}
                            aria-label={`success rate of ${r.repoFullName}`}
                          />{" "}
                          {Math.round(r.successRate * 100)}%
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          </div>
          <details className="card">
            <summary>The figures per day as a table</summary>
            <table>
              <TableHead
                columns={[
                  "Day",
                  { num: "Completed" },
                  { num: "Failed" },
                  { num: "Cancelled" },
                  { num: "Active" },
                  { num: "Cost" },
                  { num: "Median min to PR" },
                ]}
              />
              <tbody>
                {data.days.map((d) => (
                  <tr key={d.date}>
                    <td>{d.date}</td>
                    <td className="num">{d.completed}</td>
                    <td className="num">{d.failed}</td>
                    <td className="num">{d.cancelled}</td>
                    <td className="num">{d.active}</td>
                    <td className="num">{formatCost(d.costUsd)}</td>
                    <td className="num">{d.medianMinutesToPr ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </>
  )
}
