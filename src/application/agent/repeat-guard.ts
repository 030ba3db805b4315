/**
 * Notices a model going round in circles: the same tool with the same arguments again and again,
 * back to back or among its last few calls. A file change in between makes a repeat legitimate
 * (edit, run the tests, edit, run the tests), so `reset()` is called after every edit.
 */

export interface RepeatVerdict {
  /** how many times this exact call was made within the window, this one included */
  count: number
  action: "run" | "nudge" | "stop"
}

export interface RepeatGuard {
  record(tool: string, input: unknown): RepeatVerdict
  reset(): void
}

/** JSON with sorted keys, so `{a, b}` and `{b, a}` are the same call */
const canonical = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`
  }
  return JSON.stringify(value) ?? "undefined"
}

export const createRepeatGuard = (
  options: { nudgeAt?: number; stopAt?: number; window?: number } = {},
): RepeatGuard => {
  const nudgeAt = options.nudgeAt ?? 3
  const stopAt = options.stopAt ?? 5
  const window = options.window ?? 10
  let recent: string[] = []
  return {
    record(tool, input) {
      const key = `${tool}\u0000${canonical(input)}`
      recent.push(key)
      if (recent.length > window) recent = recent.slice(-window)
      const count = recent.filter((k) => k === key).length
      return { count, action: count >= stopAt ? "stop" : count >= nudgeAt ? "nudge" : "run" }
    },
    reset() {
      recent = []
    },
  }
}
