/**
 * The HTTP app in process (`app.request`) on a real SQLite store and the embedded queue, in a fresh
 * data dir, with one configured API token: the set-up the HTTP tests share.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { type ApiAuth, createApiAuth } from "#application/api-auth.js"
import { createHttpApp, type HttpAppDeps } from "#entrypoints/http/app.js"
import { loadConfig } from "#main/config.js"
import { type Container, createContainer } from "#main/container.js"
import { createCapturingLogger } from "./logger.js"

export interface TestHttpApp {
  dir: string
  container: Container
  app: ReturnType<typeof createHttpApp>
  close(): Promise<void>
}

/** The HTTP app on a container's parts, with `auth` (version "test"); `extra` adds dependencies. */
export const httpAppOf = (container: Container, auth: ApiAuth, extra: Partial<HttpAppDeps> = {}) =>
  createHttpApp({
    requester: container.requester,
    cancelRun: container.cancelRun,
    runPlaces: container.runPlaces,
    store: container.store,
    bus: container.bus,
    auth,
    logger: container.logger,
    workflows: container.jobTypes,
    version: "test",
    ...extra,
  })

export const startTestHttpApp = async (options: {
  token: string
  /** the data dir's name prefix under the system temp dir */
  prefix: string
  /** more of the app's dependencies (the UI's, repository settings …), given the container */
  extra?: (container: Container) => Partial<HttpAppDeps>
  /** more configuration; with LLM_* set, the container builds its model (none otherwise) */
  env?: Record<string, string>
}): Promise<TestHttpApp> => {
  const dir = await mkdtemp(path.join(tmpdir(), options.prefix))
  const container = await createContainer(
    loadConfig({ PRWRIGHT_DATA_DIR: dir, PRWRIGHT_API_TOKEN: options.token, ...options.env }),
    { logger: createCapturingLogger(), ...(options.env?.LLM_PROVIDER ? {} : { model: null }) },
  )
  const auth = await createApiAuth({
    store: container.store,
    configuredToken: options.token,
    announce: () => {},
    newId: () => "id",
  })
  const app = httpAppOf(container, auth, options.extra?.(container))
  return {
    dir,
    container,
    app,
    async close() {
      await container.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
