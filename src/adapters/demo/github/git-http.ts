/**
 * Git smart HTTP for the GitHub double: runs the real `git http-backend` CGI for each request, streaming
 * the request body in (gunzipped when git compressed it) and the CGI's answer out.
 */
import { spawn } from "node:child_process"
import type { IncomingMessage, ServerResponse } from "node:http"
import { createGunzip } from "node:zlib"

export interface GitCgiRequest {
  /** directory holding `<owner>/<name>.git` bare repositories */
  projectRoot: string
  /** e.g. `/octo/demo.git/info/refs` */
  pathInfo: string
  query: string
  /** the authenticated login; receive-pack needs one */
  remoteUser: string
}

/** `git http-backend` CGI output: header lines, a blank line, then the body. */
const headerEnd = (buffer: Buffer): { end: number; skip: number } | undefined => {
  const crlf = buffer.indexOf("\r\n\r\n")
  const lf = buffer.indexOf("\n\n")
  if (crlf === -1 && lf === -1) return undefined
  if (lf === -1 || (crlf !== -1 && crlf < lf)) return { end: crlf, skip: 4 }
  return { end: lf, skip: 2 }
}

export const serveGit = (req: IncomingMessage, res: ServerResponse, request: GitCgiRequest): void => {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_PROJECT_ROOT: request.projectRoot,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: request.pathInfo,
    QUERY_STRING: request.query,
    REQUEST_METHOD: req.method ?? "GET",
    CONTENT_TYPE: req.headers["content-type"] ?? "",
    REMOTE_USER: request.remoteUser,
    REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
    // protocol v2 is negotiated through this header
    HTTP_GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
  }
  const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] })
  let stderr = ""
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  child.stdin.on("error", () => {
    // http-backend may exit before reading everything (e.g. on a bad request); its answer says why
  })

  const gzipped = String(req.headers["content-encoding"] ?? "").toLowerCase() === "gzip"
  if (gzipped) {
    const gunzip = createGunzip()
    gunzip.on("error", () => child.kill())
    req.pipe(gunzip).pipe(child.stdin)
  } else {
    req.pipe(child.stdin)
  }

  let head = Buffer.alloc(0)
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk])
    const found = headerEnd(head)
    if (!found) return
    child.stdout.off("data", onData)
    let status = 200
    for (const line of head.subarray(0, found.end).toString("latin1").split(/\r?\n/)) {
      const colon = line.indexOf(":")
      if (colon === -1) continue
      const name = line.slice(0, colon).trim()
      const value = line.slice(colon + 1).trim()
      if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500
      else res.setHeader(name, value)
    }
    res.statusCode = status
    res.write(head.subarray(found.end + found.skip))
    child.stdout.pipe(res)
  }
  child.stdout.on("data", onData)
  child.on("error", (error) => {
    if (!res.headersSent) {
      res.statusCode = 500
      res.end(`git http-backend failed to start: ${error.message}`)
    }
  })
  child.on("close", (code) => {
    if (!res.headersSent) {
      res.statusCode = 500
      res.end(`git http-backend exited with ${code}: ${stderr}`)
    }
  })
  res.on("close", () => {
    if (child.exitCode === null) child.kill()
  })
}
