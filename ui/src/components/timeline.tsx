import { memo } from "react"
import type { Phase, TestRun, TranscriptItem } from "../../../src/entrypoints/cli/transcript.ts"
import { testCounts } from "../../../src/entrypoints/cli/transcript.ts"
import { toolSummary } from "../../../src/entrypoints/cli/transcript-text.ts"
import { formatCost, formatTokens } from "../format.ts"
import { Markdown } from "./markdown.tsx"
import { TableHead } from "./table-head.tsx"
import { VirtualText } from "./virtual-text.tsx"

const time = (iso: string) => new Date(iso).toLocaleTimeString(undefined, { hour12: false })

const TestTable = ({ run, baseline }: { run: TestRun; baseline?: TestRun | undefined }) => {
  const rows: Array<[string, TestRun]> = baseline
    ? [
        ["before", baseline],
        ["after", run],
      ]
    : [[run.phase === "baseline" ? "before" : "after", run]]
  return (
    <div className="table-scroll">
      <table className="tests">
        <caption>
          Tests {run.phase === "baseline" ? "before the change (baseline)" : "after the change"}:{" "}
          <code>{run.command}</code>
        </caption>
        <TableHead columns={["When", { num: "Failed" }, { num: "Passed" }, "Result", { num: "Time" }]} />
        <tbody>
          {rows.map(([when, r]) => {
            const ok = r.exitCode === 0
            return (
              <tr key={when}>
                <th scope="row">{when}</th>
                <td className="num">{r.failed ?? "—"}</td>
                <td className="num">{r.passed ?? "—"}</td>
                <td className={ok ? "ok" : "bad"}>
                  <span aria-hidden="true">{ok ? "✓ " : "✗ "}</span>
                  {ok ? "pass" : "fail"} ({testCounts(r)})
                </td>
                <td className="num">{(r.durationMs / 1000).toFixed(1)} s</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}

const Item = memo(
  ({ item }: { item: TranscriptItem; rev: number }) => {
    switch (item.kind) {
      case "status":
        return (
          <li className="ev ev-status" data-seq={item.seq} data-kind="status">
            <span className={`dot dot-${item.status}`} aria-hidden="true" />
            <strong>{item.status}</strong>
            {item.attempt > 0 && <span className="muted"> · attempt {item.attempt}</span>}
            {item.message && <span> — {item.message}</span>}
            <time className="muted small">{time(item.at)}</time>
          </li>
        )
      case "turn":
        return (
          <li className="ev ev-turn" data-seq={item.seq} data-kind="turn">
            <span className="label">Model turn</span> <code>{item.model}</code>{" "}
            <span className="muted">
              {formatTokens(item.inputTokens)} in / {formatTokens(item.outputTokens)} out
              {item.costKnown
                ? item.costUsd > 0
                  ? ` · ${formatCost(item.costUsd)}`
                  : ""
                : " · cost unknown"}{" "}
              · {(item.latencyMs / 1000).toFixed(1)} s
            </span>
          </li>
        )
      case "text":
        return (
          <li className="ev ev-text" data-seq={item.seq} data-kind="text">
            <p>{item.text}</p>
          </li>
        )
      case "tool": {
        const r = item.result
        return (
          <li className="ev ev-tool" data-seq={item.seq} data-kind="tool" data-tool={item.tool}>
            <details>
              <summary>
                <span className="label">Tool</span> <code>{item.tool}</code>{" "}
                <span className="args">{toolSummary(item.tool, item.input)}</span>{" "}
                {r ? (
                  r.isError ? (
                    <span className="bad">✗ error</span>
                  ) : (
                    <span className="ok">✓ {r.bytes.toLocaleString()} bytes</span>
                  )
                ) : (
                  <span className="muted">running…</span>
                )}
              </summary>
              <h4>Arguments</h4>
              <VirtualText text={JSON.stringify(item.input, null, 2)} label={`${item.tool} arguments`} />
              {r && (
                <>
                  <h4>
                    {r.isError ? "Error" : "Output"}
                    {r.truncated ? ` (truncated; ${r.bytes.toLocaleString()} bytes in full)` : ""}
                  </h4>
                  <VirtualText text={r.output || "(no output)"} label={`${item.tool} output`} />
                </>
              )}
            </details>
          </li>
        )
      }
      case "diff":
        return (
          <li className="ev ev-diff" data-seq={item.seq} data-kind="diff">
            <details>
              <summary>
                <span className="label">Diff</span> {item.files.join(", ")}{" "}
                <span className="muted">
                  ({item.files.length} file{item.files.length === 1 ? "" : "s"}
                  {item.truncated ? ", truncated" : ""})
                </span>
              </summary>
              <VirtualText text={item.diff} label={`diff of ${item.files.join(", ")}`} diff />
            </details>
          </li>
        )
      case "tests":
        return (
          <li className="ev ev-tests" data-seq={item.seq} data-kind="tests">
            <TestTable run={item.run} baseline={item.baseline} />
            <details>
              <summary>Test output</summary>
              <VirtualText text={item.run.output || "(no output)"} label={`output of ${item.run.command}`} />
            </details>
          </li>
        )
      case "plan":
        return (
          <li className="ev ev-plan" data-seq={item.seq} data-kind="plan">
            <h4>Plan</h4>
            <Markdown source={item.plan} label="plan" />
          </li>
        )
      case "error":
        return (
          <li className="ev ev-error" data-seq={item.seq} data-kind="error">
            <strong>
              <span aria-hidden="true">⚠ </span>Error{item.retryable ? " (will retry)" : ""}:
            </strong>{" "}
            {item.message}
          </li>
        )
      case "log":
        return (
          <li className={`ev ev-log log-${item.level}`} data-seq={item.seq} data-kind="log">
            <span className="label">{item.level}</span> {item.message}
          </li>
        )
      case "budget":
        return (
          <li className="ev ev-budget" data-seq={item.seq} data-kind="budget">
            <strong>Budget{item.resource ? ` (${item.resource})` : ""}:</strong> {item.used} of {item.limit}
            {item.message ? ` — ${item.message}` : ""}
          </li>
        )
    }
  },
  (a, b) => a.item === b.item && a.rev === b.rev,
)

const PhaseView = memo(
  ({ phase, current }: { phase: Phase; count: number; rev: number; current: boolean }) => (
    <li className="phase" aria-current={current ? "step" : undefined}>
      <h3>
        <span className="phase-title">{phase.title}</span>{" "}
        <span className="muted small">
          {phase.seq > 0 ? `${Math.round(phase.progress)}%` : ""}
          {phase.at ? ` · ${time(phase.at)}` : ""}
        </span>
      </h3>
      <ol className="items">
        {phase.items.map((item) => (
          <Item key={item.seq} item={item} rev={item.kind === "tool" && item.result ? 1 : 0} />
        ))}
      </ol>
    </li>
  ),
  (a, b) => a.phase === b.phase && a.count === b.count && a.rev === b.rev && a.current === b.current,
)

export const Timeline = ({ phases, live }: { phases: Phase[]; version: number; live: boolean }) => (
  <ol className="timeline" aria-label="Timeline">
    {phases.map((phase, index) =>
      phase.items.length === 0 && index === 0 && phases.length > 1 ? null : (
        <PhaseView
          key={phase.seq}
          phase={phase}
          count={phase.items.length}
          rev={phase.items.filter((i) => i.kind === "tool" && i.result).length + phase.progress}
          current={live && index === phases.length - 1}
        />
      ),
    )}
  </ol>
)
