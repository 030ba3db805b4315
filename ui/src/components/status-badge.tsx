const ICONS: Record<string, string> = {
  pending: "◷",
  running: "▶",
  completed: "✓",
  failed: "✗",
  cancelled: "⊘",
}

/** status as icon + word (colour is never the only signal) */
export const StatusBadge = ({ status, position }: { status: string; position?: number | undefined }) => (
  <span className={`badge badge-${status}`} data-status={status}>
    <span aria-hidden="true">{ICONS[status] ?? "•"}</span> {status}
    {position ? <span className="queue"> · #{position} in queue</span> : null}
  </span>
)
