/**
 * Exponential backoff with jitter: base · 2^(attempt−1), plus up to `jitter` of that on top, so a burst
 * of jobs failing together (GitHub down, rate limit) does not retry in lock-step.
 */
export const retryDelayMs = (options: {
  /** 1-based number of the attempt that just failed */
  attempt: number
  baseMs: number
  /** fraction of the delay added at random, 0..1; default 0.2 */
  jitter?: number
  random?: () => number
}): number => {
  const exponent = Math.max(0, options.attempt - 1)
  const delay = options.baseMs * 2 ** exponent
  const jitter = options.jitter ?? 0.2
  return Math.round(delay + delay * jitter * (options.random ?? Math.random)())
}
