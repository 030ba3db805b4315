/**
 * Keeps the head and the tail of a stream of bytes within a budget, counting what falls in between:
 * the start of a command's output says what ran, the end says how it finished; the middle is
 * usually the noise a model can do without.
 */
export interface OutputBuffer {
  push(chunk: Buffer): void
  /** total bytes pushed so far */
  readonly totalBytes: number
  /** head and tail, with a note of how many bytes were cut between them */
  render(): { output: string; truncated: boolean }
}

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024

export const createOutputBuffer = (maxBytes = DEFAULT_MAX_OUTPUT_BYTES): OutputBuffer => {
  const budget = Math.max(2, Math.floor(maxBytes))
  const headLimit = Math.ceil(budget / 2)
  const tailLimit = budget - headLimit
  const head: Buffer[] = []
  let headBytes = 0
  let tail = Buffer.alloc(0)
  let totalBytes = 0

  return {
    get totalBytes() {
      return totalBytes
    },
    push(chunk) {
      totalBytes += chunk.length
      let rest = chunk
      if (headBytes < headLimit) {
        const taken = rest.subarray(0, headLimit - headBytes)
        head.push(Buffer.from(taken))
        headBytes += taken.length
        rest = rest.subarray(taken.length)
      }
      if (rest.length === 0 || tailLimit === 0) return
      tail =
        rest.length >= tailLimit
          ? Buffer.from(rest.subarray(rest.length - tailLimit))
          : Buffer.concat([tail, rest]).subarray(-tailLimit)
    },
    render() {
      const headText = Buffer.concat(head).toString("utf8")
      const cut = totalBytes - headBytes - tail.length
      if (cut <= 0) return { output: headText + tail.toString("utf8"), truncated: false }
      const note = `\n[… ${cut} bytes of ${totalBytes} cut from the middle of the output …]\n`
      return { output: headText + note + tail.toString("utf8"), truncated: true }
    },
  }
}
