import { useEffect, useRef } from "react"
import uPlot from "uplot"
import "uplot/dist/uPlot.min.css"

export interface ChartSeries {
  label: string
  /** CSS colour */
  stroke: string
  fill?: string
  values: Array<number | null>
  /** shown in the legend instead of the plotted value (stacked bars plot sums) */
  display?: Array<number | null>
  bars?: boolean
  format?: (value: number) => string
}

const cssVar = (name: string) =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888"
/** canvas cannot read CSS variables: resolve var(--x) to its value */
const color = (value: string) => (value.startsWith("var(") ? cssVar(value.slice(4, -1)) : value)

/** A uPlot chart over days (x = unix seconds), sized to its container. */
export const Chart = ({
  title,
  days,
  series,
  yLabel,
}: {
  title: string
  days: number[]
  series: ChartSeries[]
  yLabel: string
}) => {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current
    if (!el) return
    const axis = {
      stroke: cssVar("--muted"),
      grid: { stroke: cssVar("--grid") },
      ticks: { stroke: cssVar("--grid") },
    }
    const bars = uPlot.paths.bars?.({ size: [0.7, 40] })
    const options: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: 220,
      title,
      legend: { live: true },
      cursor: { points: { show: false } },
      // half a day of room each side, so the first and last bars are whole
      scales: { x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] } },
      axes: [axis, { ...axis, label: yLabel, size: 56 }],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: color(s.stroke),
          // uPlot's Series type takes no present undefined: no fill is left out
          ...(s.fill ? { fill: color(s.fill) } : s.bars ? { fill: color(s.stroke) } : {}),

          width: s.bars ? 0 : 2,
          ...(s.bars && bars
            ? { paths: bars, points: { show: false } }
            : { points: { show: true, size: 5 } }),
          value: (_u: uPlot, v: number | null, _si: number, idx: number | null) => {
            const shown = idx !== null && s.display ? s.display[idx] : v
            return shown === null || shown === undefined ? "—" : s.format ? s.format(shown) : String(shown)
          },
        })),
      ],
    }
    const plot = new uPlot(options, [days, ...series.map((s) => s.values)] as uPlot.AlignedData, el)
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(280, el.clientWidth), height: 220 }),
    )
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.destroy()
    }
  }, [title, days, series, yLabel])
  return (
    <div
      ref={box}
      className="chart"
      role="img"
      aria-label={`${title} (chart; the same figures are in the table below)`}
    />
  )
}
