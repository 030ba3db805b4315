const ICONS: Record<string, string> = {
  pending: "◷",
  running: "▶",
  completed: "✓",
  failed: "✗",
  cancelled: "⊘",
}

/** status as icon + word (colour is never the only signal); a waiting run adds its place in line */
export const StatusBadge = ({
  status,
  position,
  detail,
}: {
  status: string
  position?: number | undefined
  /** the place in words (what it waits for, the estimate), as a tooltip */
  detail?: string | undefined
}) => (
  <span className={`badge badge-${status}`} data-status={status} title={detail}>
    <span aria-hidden="true">{ICONS[status] ?? "•"}</span> {status}
    {position && status === "pending" ? <span className="queue"> · #{position} in line</span> : null}
  </span>
)
