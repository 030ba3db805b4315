import { useEffect, useRef } from "react"

/** Calls `tick` now and every `ms` while the page is visible; stops when `active` turns false. */
export const usePolling = (
  tick: () => Promise<unknown> | undefined,
  ms: number,
  active = true,
  deps: unknown[] = [],
) => {
  const saved = useRef(tick)
  saved.current = tick
  useEffect(() => {
    if (!active) return
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const run = async () => {
      if (stopped) return
      if (document.visibilityState === "visible")
        await Promise.resolve(saved.current()).catch(() => undefined)
      if (!stopped) timer = setTimeout(run, ms)
    }
    void run()
    return () => {
      stopped = true
      if (timer) clearTimeout(timer)
    }
  }, [active, ms, ...deps])
}
