import { createHash } from "node:crypto"
import type { Redis } from "ioredis"

/**
 * Runs a Lua script by its SHA1 (EVALSHA), sending its text (EVAL) only when Redis answers NOSCRIPT
 * (after a restart or SCRIPT FLUSH). EVAL sent each script's whole text, a few kilobytes, with every
 * call, and Redis hashed it each time; the line's REGISTER runs for every enqueued job.
 */
export const evalScript = (() => {
  const shas = new Map<string, string>()
  return async (
    client: Redis,
    script: string,
    numKeys: number,
    ...args: Array<string | number>
  ): Promise<unknown> => {
    let sha = shas.get(script)
    if (!sha) {
      sha = createHash("sha1").update(script).digest("hex")
      shas.set(script, sha)
    }
    try {
      return await client.evalsha(sha, numKeys, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error
      return client.eval(script, numKeys, ...args)
    }
  }
})()
