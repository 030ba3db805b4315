import { useMemo, useState } from "react"

const LINE_PX = 20
const WINDOW_LINES = 400
const VIEW_LINES = 24

const lineClass = (line: string, diff: boolean) => {
  if (!diff) return undefined
  if (line.startsWith("+++") || line.startsWith("---")) return "d-file"
  if (line.startsWith("@@")) return "d-hunk"
  if (line.startsWith("+")) return "d-add"
  if (line.startsWith("-")) return "d-del"
  return undefined
}

/**
 * Tool output and diffs. Short text is a plain <pre>; long text renders only the lines in view
 * (plus a margin), so a 10 000-line log costs what 60 lines do. Scrollable by keyboard.
 */
export const VirtualText = ({
  text,
  label,
  diff = false,
}: {
  text: string
  label: string
  diff?: boolean
}) => {
  const lines = useMemo(() => text.replace(/\n$/, "").split("\n"), [text])
  const [top, setTop] = useState(0)
  if (lines.length <= WINDOW_LINES) {
    return (
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
      <section className={`output${diff ? " diff" : ""}`} tabIndex={0} aria-label={label}>
        <pre>
          {lines.map((line, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
            <span key={i} className={lineClass(line, diff)}>
              {line}
            </span>
          ))}
        </pre>
      </section>
    )
  }
  const first = Math.max(0, Math.floor(top / LINE_PX) - 40)
  const last = Math.min(lines.length, first + VIEW_LINES + 80)
  return (
    <section
      className={`output virtual${diff ? " diff" : ""}`}
      style={{ height: VIEW_LINES * LINE_PX }}
      onScroll={(e) => setTop(e.currentTarget.scrollTop)}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
      tabIndex={0}
      aria-label={`${label} (${lines.length} lines)`}
    >
      <pre style={{ height: lines.length * LINE_PX, paddingTop: first * LINE_PX }}>
        {lines.slice(first, last).map((line, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
          <span key={first + i} className={lineClass(line, diff)}>
            {line}
          </span>
        ))}
      </pre>
    </section>
  )
}
