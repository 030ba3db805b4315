import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import type { ApiTokenStore } from "./ports/api-token-store.js"

export const hashToken = (token: string): string => createHash("sha256").update(token).digest("hex")

const newToken = (): string => `prw_${randomBytes(24).toString("base64url")}`

/**
 * `prwright token rotate`: replaces every stored API token with one new token and returns it, the only
 * time it exists in clear (only its hash is stored). The old tokens stop working at once, also on a
 * running server, which looks tokens up in the store on every request. PRWRIGHT_API_TOKEN is not
 * touched: when it is set, the server accepts that token and never the stored ones.
 */
export const rotateApiToken = async (deps: {
  store: ApiTokenStore
  newId: () => string
}): Promise<string> => {
  const token = newToken()
  await deps.store.replaceApiTokens({ id: deps.newId(), label: "rotated", hash: hashToken(token) })
  return token
}

export interface ApiAuth {
  /** the label of the token, or undefined when it is not valid */
  verify(token: string | undefined): Promise<string | undefined>
}

/**
 * Bearer-token auth for the API. With PRWRIGHT_API_TOKEN set, that token is the one accepted.
 * Without it, tokens live hashed in the store; on first start one is generated and handed to
 * `announce` exactly once (it is never stored or logged in clear).
 */
export const createApiAuth = async (deps: {
  store: ApiTokenStore
  configuredToken?: string | undefined
  announce: (token: string) => void
  newId: () => string
}): Promise<ApiAuth> => {
  const configured = deps.configuredToken ? Buffer.from(hashToken(deps.configuredToken)) : undefined
  if (!configured && (await deps.store.countApiTokens()) === 0) {
    const token = newToken()
    await deps.store.addApiToken({ id: deps.newId(), label: "generated", hash: hashToken(token) })
    deps.announce(token)
  }
  return {
    async verify(token) {
      if (!token) return undefined
      const hash = hashToken(token)
      if (configured) {
        return timingSafeEqual(Buffer.from(hash), configured) ? "PRWRIGHT_API_TOKEN" : undefined
      }
      return (await deps.store.findApiTokenByHash(hash))?.label
    },
  }
}
