/**
 * Notices a model going round in circles: the same tool call answered the same way again and
 * again, with nothing changed in between. It judges progress, not text: a call is a repeat only if
 * its action (tool and arguments) and its observation (what the tool answered) are the same as
 * before, and any change of the working tree makes a repeat legitimate (edit with the editor or
 * with `sed -i`, run the same check again), so the caller calls `reset()` whenever the tree changes.
 */

export interface RepeatVerdict {
  /** how many times this exact call got this exact answer within the window, this one included */
  count: number
  action: "run" | "nudge" | "stop"
}

export interface RepeatGuard {
  /** a finished call and what it answered */
  record(tool: string, input: unknown, observation?: string): RepeatVerdict
  /** the working tree changed: what came before is no longer a repeat of what comes next */
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

/** durations differ from run to run (`0.3 s`, `12ms`) and do not make an answer new */
export const normalizeObservation = (text: string): string =>
  text.replace(/\b\d+(\.\d+)?\s?(ms|s|sec|seconds)\b/g, "#")

export const createRepeatGuard = (
  options: { nudgeAt?: number; stopAt?: number; window?: number } = {},
): RepeatGuard => {
  const nudgeAt = options.nudgeAt ?? 3
  const stopAt = options.stopAt ?? 5
  const window = options.window ?? 10
  let recent: string[] = []
  return {
    record(tool, input, observation = "") {
      const key = `${tool}\u0000${canonical(input)}\u0000${normalizeObservation(observation)}`
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
