/**
 * Host-side file access to a checkout that a sandboxed command may have rearranged. Every open uses
 * O_NOFOLLOW (a symlink swapped in as the last component is refused, not followed) and O_NONBLOCK (a FIFO
 * never blocks a libuv thread), then checks the open handle itself: fstat says it is a regular file, and
 * on Linux `/proc/self/fd/N` says where it really is, so a parent directory swapped for a symlink between
 * the path check and the open is caught after the fact instead of trusted.
 */
import { constants } from "node:fs"
import { type FileHandle, lstat, open, readlink, rm } from "node:fs/promises"
import path from "node:path"
import { ValidationError } from "#domain/errors.js"

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants

export type EntryKind = "file" | "dir" | "symlink" | "fifo" | "socket" | "device" | "other"

export const kindOf = (info: {
  isFile(): boolean
  isDirectory(): boolean
  isSymbolicLink(): boolean
  isFIFO(): boolean
  isSocket(): boolean
  isCharacterDevice(): boolean
  isBlockDevice(): boolean
}): EntryKind =>
  info.isFile()
    ? "file"
    : info.isDirectory()
      ? "dir"
      : info.isSymbolicLink()
        ? "symlink"
        : info.isFIFO()
          ? "fifo"
          : info.isSocket()
            ? "socket"
            : info.isCharacterDevice() || info.isBlockDevice()
              ? "device"
              : "other"

const DESCRIBED: Record<EntryKind, string> = {
  file: "a file",
  dir: "a directory",
  symlink: "a symlink",
  fifo: "a FIFO (named pipe)",
  socket: "a socket",
  device: "a device",
  other: "not a regular file",
}

export const refusePath = (input: string, why: string): never => {
  throw new ValidationError(`path ${JSON.stringify(input)} ${why}`, [{ field: "path", message: why }])
}

/** The refusal for anything that is neither a regular file nor a directory. */
export const refuseSpecial = (input: string, kind: EntryKind): never =>
  refusePath(
    input,
    `is ${DESCRIBED[kind]}: only regular files and directories can be read, written or searched`,
  )

export const isInside = (root: string, candidate: string): boolean =>
  candidate === root || candidate.startsWith(`${root}${path.sep}`)

/** lstat that answers undefined for a missing path; never follows a final symlink. */
export const lstatKind = async (absolute: string): Promise<{ kind: EntryKind; size: number } | undefined> => {
  try {
    const info = await lstat(absolute)
    return { kind: kindOf(info), size: info.size }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === "ENOENT" || code === "ENOTDIR") return undefined
    throw error
  }
}

/** Where an open descriptor really points (Linux); undefined where /proc is not available. */
const whereIs = async (handle: FileHandle): Promise<string | undefined> =>
  readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined)

export interface ConfinedOpen {
  /** the checkout's real path */
  root: string
  /** real path of the file, already checked to be inside root (see checkout-paths.ts) */
  real: string
  /** the caller's path, for error messages */
  input: string
}

/** Verifies an open handle: a regular file, really inside the root. Closes it and throws otherwise. */
const verifyHandle = async (handle: FileHandle, request: ConfinedOpen) => {
  try {
    const info = await handle.stat()
    if (!info.isFile()) refuseSpecial(request.input, kindOf(info))
    const where = await whereIs(handle)
    if (where !== undefined && !isInside(request.root, where.replace(/ \(deleted\)$/, ""))) {
      refusePath(request.input, "leads outside the repository (it was swapped for a symlink)")
    }
    return info
  } catch (error) {
    await handle.close().catch(() => undefined)
    throw error
  }
}

const openError = (error: unknown, input: string): never => {
  const code = (error as NodeJS.ErrnoException).code
  // O_NOFOLLOW on a symlink; ENXIO: a FIFO opened for writing with no reader
  if (code === "ELOOP") refusePath(input, "is a symlink here (it changed after it was checked)")
  if (code === "ENXIO") refuseSpecial(input, "fifo")
  if (code === "ENOTDIR") refusePath(input, "passes through something that is not a directory")
  throw error
}

/** Opens a checkout file for reading: regular files only, never through a symlink, never blocking. */
export const openForRead = async (request: ConfinedOpen): Promise<{ handle: FileHandle; size: number }> => {
  const before = await lstatKind(request.real)
  if (before && before.kind !== "file") refuseSpecial(request.input, before.kind)
  const handle = await open(request.real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch((error: unknown) =>
    openError(error, request.input),
  )
  const info = await verifyHandle(handle, request)
  return { handle, size: info.size }
}

/** Reads at most `limit` + 1 bytes from an open handle (the file may grow after it was measured). */
export const readCapped = async (handle: FileHandle, limit: number): Promise<Buffer> => {
  const chunks: Buffer[] = []
  let total = 0
  for (;;) {
    const buffer = Buffer.alloc(Math.min(64 * 1024, limit + 1 - total))
    if (buffer.length === 0) break
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null)
    if (bytesRead === 0) break
    chunks.push(buffer.subarray(0, bytesRead))
    total += bytesRead
  }
  return Buffer.concat(chunks)
}

/**
 * Creates or replaces the content of a checkout file: never through a symlink, never a FIFO or device.
 * A file this call created outside the root (a parent swapped for a symlink meanwhile) is removed again.
 */
export const writeConfined = async (request: ConfinedOpen, content: string | Buffer): Promise<void> => {
  const before = await lstatKind(request.real)
  if (before && before.kind !== "file") refuseSpecial(request.input, before.kind)
  let created = false
  let handle: FileHandle
  try {
    handle = await open(request.real, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK, 0o644)
    created = true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") openError(error, request.input)
    handle = await open(request.real, O_WRONLY | O_NOFOLLOW | O_NONBLOCK).catch((again: unknown) =>
      openError(again, request.input),
    )
  }
  try {
    await verifyHandle(handle, request)
  } catch (error) {
    if (created) await rm(request.real, { force: true }).catch(() => undefined)
    throw error
  }
  try {
    await handle.truncate(0)
    await handle.writeFile(content)
  } finally {
    await handle.close()
  }
}

/**
 * Writes a file of the host's own (e.g. a worktree's `.git` link) where a sandboxed command may have left
 * anything: whatever is there (a symlink, a directory, a FIFO) is removed without being followed, and the
 * new file is created exclusively, so a link planted again in between makes this fail instead of writing
 * through it.
 */
export const replaceHostFile = async (file: string, content: string): Promise<void> => {
  await rm(file, { recursive: true, force: true })
  const handle = await open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644)
  try {
    await handle.writeFile(content)
  } finally {
    await handle.close()
  }
}
