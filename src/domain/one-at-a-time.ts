/**
 * Runs steps one at a time per key, within this process: a step starts when the previous step for
 * the same key has settled (fulfilled or not), and steps for other keys run freely. Keys with nothing
 * queued are forgotten, so the map holds only keys with work in flight.
 */
export const createOneAtATime = () => {
  const chains = new Map<string, Promise<unknown>>()
  return <T>(key: string, step: () => Promise<T>): Promise<T> => {
    const previous = chains.get(key) ?? Promise.resolve()
    const result = previous.then(step, step)
    const settled = result.catch(() => undefined)
    chains.set(key, settled)
    void settled.then(() => {
      if (chains.get(key) === settled) chains.delete(key)
    })
    return result
  }
}
