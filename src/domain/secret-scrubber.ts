/**
 * The one secret scrubber: what log lines, error messages from outside (git stderr, GitHub's
 * answers) and the coding agent's tool output pass through before anyone sees them.
 */

export interface ScrubOptions {
  /** values shorter than this are left alone, as they would mask ordinary words (default 4) */
  minLength?: number
  /**
   * also mask what is shaped like a credential whatever its value: an Authorization header's
   * value and a URL's `user:password@` (default true; off where text must reach a reader unchanged)
   */
  credentialShapes?: boolean
}

const AUTHORIZATION = /(authorization["']?\s*[:=]\s*["']?)(?:(basic|bearer|token)\s+)?[^\s"',}]+/gi
const URL_USERINFO = /(\/\/)[^/@\s]+@/g

/**
 * Replaces every known secret, in its raw, base64 and URL-encoded forms, with `[redacted]`. Reads
 * `secrets` when it is made; pass a fresh scrubber when the set of secrets changes.
 */
export const createScrubber = (
  secrets: Iterable<string>,
  options: ScrubOptions = {},
): ((text: string) => string) => {
  const minLength = options.minLength ?? 4
  const values = [...new Set(secrets)].filter((secret) => secret.length >= minLength)
  const forms = new Set(values.flatMap((s) => [s, Buffer.from(s).toString("base64"), encodeURIComponent(s)]))
  // longest first, so a secret containing another is masked whole
  const ordered = [...forms].sort((a, b) => b.length - a.length)
  const shapes = options.credentialShapes ?? true
  if (ordered.length === 0 && !shapes) return (text) => text
  return (text) => {
    let out = text
    for (const secret of ordered) if (out.includes(secret)) out = out.split(secret).join("[redacted]")
    if (!shapes) return out
    return out
      .replace(AUTHORIZATION, (_match, prefix: string, scheme: string | undefined) =>
        scheme ? `${prefix}${scheme} [redacted]` : `${prefix}[redacted]`,
      )
      .replace(URL_USERINFO, "$1[redacted]@")
  }
}
