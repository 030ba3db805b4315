/**
 * The run's HOME and /tmp on the host: `<base>/<runId>-<random>/{home,tmp}`, mode 0700, removed with
 * the run. Sandboxed commands write here, so the host reads only regular files directly in `tmp`,
 * opened with O_NOFOLLOW|O_NONBLOCK and checked on the handle, and removes the tree without
 * following links (after making read-only directories writable, as Go's module cache leaves them).
 */
import { constants } from "node:fs"
import { chmod, lstat, mkdir, mkdtemp, open, readdir, rm, unlink } from "node:fs/promises"
import path from "node:path"
import type { MakeRunDirs, RunDirs } from "#application/ports/run-dirs.js"

const plainName = (name: string): string => {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name === "." || name === "..") {
    throw new Error(`run dir file name must be a plain name, got ${JSON.stringify(name)}`)
  }
  return name
}

/** Makes every directory below `dir` writable by its owner, never following a symlink. */
const makeWritable = async (dir: string): Promise<void> => {
  const info = await lstat(dir).catch(() => undefined)
  if (!info?.isDirectory()) return
  await chmod(dir, 0o700).catch(() => {})
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) await makeWritable(path.join(dir, entry.name))
  }
}

/** Directories of runs whose worker died before removing them: older than any run may last. */
const STALE_MS = 48 * 3600_000

const removeTree = async (root: string) => {
  try {
    await rm(root, { recursive: true, force: true })
  } catch {
    await makeWritable(root)
    await rm(root, { recursive: true, force: true })
  }
}

const pruneStale = async (baseDir: string, now: number) => {
  for (const entry of await readdir(baseDir, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory()) continue
    const dir = path.join(baseDir, entry.name)
    const info = await lstat(dir).catch(() => undefined)
    if (info && now - info.mtimeMs > STALE_MS) await removeTree(dir).catch(() => {})
  }
}

export const createRunDirs =
  (options: { baseDir: string; now?: () => number }): MakeRunDirs =>
  async (runId) => {
    await mkdir(options.baseDir, { recursive: true, mode: 0o700 })
    await pruneStale(options.baseDir, (options.now ?? Date.now)())
    const safeId = runId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64)
    const root = await mkdtemp(path.join(options.baseDir, `${safeId}-`))
    const home = path.join(root, "home")
    const tmp = path.join(root, "tmp")
    await mkdir(home, { mode: 0o700 })
    await mkdir(tmp, { mode: 0o700 })
    const dirs: RunDirs = {
      home,
      tmp,
      async readTmpFile(name, maxBytes) {
        const file = path.join(tmp, plainName(name))
        let handle: Awaited<ReturnType<typeof open>>
        try {
          handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
        } catch {
          return undefined
        }
        try {
          const info = await handle.stat()
          if (!info.isFile() || info.size > maxBytes) return undefined
          return (await handle.readFile()).toString("utf8")
        } finally {
          await handle.close()
        }
      },
      async removeTmpFile(name) {
        await unlink(path.join(tmp, plainName(name))).catch(() => {})
      },
      dispose: () => removeTree(root),
    }
    return dirs
  }
