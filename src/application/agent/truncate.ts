/**
 * Keeps the head and the tail of a long text and says what was cut in between. Both ends matter for
 * tool output: the head shows what ran, the tail shows how it ended (the error, the summary line).
 */
export const truncateMiddle = (text: string, maxChars: number): string => {
  if (text.length <= maxChars) return text
  const limit = Math.max(0, Math.floor(maxChars))
  // The note's length depends on the numbers in it; reserve a generous fixed budget for it.
  const reserve = Math.min(limit, 80)
  const budget = limit - reserve
  let headEnd = Math.ceil(budget * 0.6)
  let tailStart = text.length - (budget - headEnd)
  // Prefer cutting at line boundaries when one is near, so no line is shown half.
  const headBreak = text.lastIndexOf("\n", headEnd)
  if (headBreak > headEnd * 0.8) headEnd = headBreak + 1
  const tailBreak = text.indexOf("\n", tailStart)
  if (tailBreak !== -1 && tailBreak < tailStart + (text.length - tailStart) * 0.2) tailStart = tailBreak + 1
  const cut = text.slice(headEnd, tailStart)
  const lines = cut.split("\n").length - 1
  const note = `\n[… ${cut.length} characters${lines > 0 ? ` (${lines} lines)` : ""} cut from the middle …]\n`
  const result = `${text.slice(0, headEnd)}${note}${text.slice(tailStart)}`
  return result.length <= limit ? result : result.slice(0, limit)
}
