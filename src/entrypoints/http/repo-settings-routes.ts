import type { Env, Hono } from "hono"
import { bodyLimit } from "hono/body-limit"
import type { RepoSettings } from "#application/repo-settings.js"
import { jsonBody } from "./json-body.js"

const view = (settings: Awaited<ReturnType<RepoSettings["get"]>>) => ({
  repoFullName: settings.repoFullName,
  settings: settings.settings,
  updatedAt: settings.updatedAt?.toISOString(),
})

/** GET and PUT /api/repos/:owner/:name/settings: one repository's settings, replaced as a whole. */
export const registerRepoSettingsRoutes = <E extends Env>(api: Hono<E>, repoSettings: RepoSettings): void => {
  const path = "/repos/:owner/:name/settings"
  api.get(path, async (c) =>
    c.json(view(await repoSettings.get(`${c.req.param("owner")}/${c.req.param("name")}`))),
  )
  api.put(
    path,
    bodyLimit({
      maxSize: 16 * 1024,
      onError: (c) =>
        c.json(
          { error: { code: "too_large", message: "settings are over 16 KiB: send only the fields" } },
          413,
        ),
    }),
    async (c) => {
      const saved = await repoSettings.put(
        `${c.req.param("owner")}/${c.req.param("name")}`,
        await jsonBody(c),
      )
      return c.json(view(saved))
    },
  )
}
