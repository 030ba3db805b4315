/**
 * A small Prometheus text registry for the HTTP process: request counts and durations per route,
 * jobs accepted per type, and process gauges. Counters are per process (workers in other processes
 * keep theirs); the run store, not these counters, is the history.
 */
type Labels = Record<string, string>

const key = (labels: Labels) =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",")

export interface Metrics {
  countRequest(labels: { method: string; route: string; status: string }, seconds: number): void
  countJob(type: string, created: boolean): void
  render(): string
}

export const createMetrics = (now: () => number = Date.now): Metrics => {
  const startedAt = now()
  const requests = new Map<string, number>()
  const durations = new Map<string, { sum: number; count: number }>()
  const jobs = new Map<string, number>()
  const bump = (map: Map<string, number>, k: string) => map.set(k, (map.get(k) ?? 0) + 1)
  return {
    countRequest(labels, seconds) {
      bump(requests, key(labels))
      const route = key({ method: labels.method, route: labels.route })
      const d = durations.get(route) ?? { sum: 0, count: 0 }
      durations.set(route, { sum: d.sum + seconds, count: d.count + 1 })
    },
    countJob(type, created) {
      bump(jobs, key({ type, created: String(created) }))
    },
    render() {
      const lines: string[] = []
      lines.push("# HELP prwright_http_requests_total HTTP requests answered, by route and status.")
      lines.push("# TYPE prwright_http_requests_total counter")
      for (const [k, v] of requests) lines.push(`prwright_http_requests_total{${k}} ${v}`)
      lines.push("# HELP prwright_http_request_duration_seconds Time to answer HTTP requests.")
      lines.push("# TYPE prwright_http_request_duration_seconds summary")
      for (const [k, v] of durations) {
        lines.push(`prwright_http_request_duration_seconds_sum{${k}} ${v.sum.toFixed(6)}`)
        lines.push(`prwright_http_request_duration_seconds_count{${k}} ${v.count}`)
      }
      lines.push(
        "# HELP prwright_jobs_requested_total Workflow requests accepted (created=false: a repeated jobId).",
      )
      lines.push("# TYPE prwright_jobs_requested_total counter")
      for (const [k, v] of jobs) lines.push(`prwright_jobs_requested_total{${k}} ${v}`)
      const memory = process.memoryUsage()
      lines.push("# HELP process_resident_memory_bytes Resident memory size in bytes.")
      lines.push("# TYPE process_resident_memory_bytes gauge")
      lines.push(`process_resident_memory_bytes ${memory.rss}`)
      lines.push("# HELP nodejs_heap_used_bytes V8 heap in use.")
      lines.push("# TYPE nodejs_heap_used_bytes gauge")
      lines.push(`nodejs_heap_used_bytes ${memory.heapUsed}`)
      lines.push("# HELP process_uptime_seconds Seconds since the process started serving.")
      lines.push("# TYPE process_uptime_seconds gauge")
      lines.push(`process_uptime_seconds ${((now() - startedAt) / 1000).toFixed(3)}`)
      return `${lines.join("\n")}\n`
    },
  }
}
