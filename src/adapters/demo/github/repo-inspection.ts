/**
 * What a hosted bare repository holds, read with real git: the files of a branch and the diff between two
 * refs, so end-to-end tests can assert exactly what prwright pushed.
 */
import { execFile, spawn } from "node:child_process"
import { promisify } from "node:util"

const run = promisify(execFile)

/** Every file of `ref` (path → content as UTF-8); symlinks map to their target. */
export const filesAt = async (gitDir: string, ref: string): Promise<Record<string, string>> => {
  const { stdout } = await run("git", ["ls-tree", "-r", "-z", "--full-tree", ref], {
    cwd: gitDir,
    maxBuffer: 256 * 1024 * 1024,
  })
  const entries = stdout
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf("\t")
      const [, type = "", sha = ""] = line.slice(0, tab).split(" ")
      return { type, sha, path: line.slice(tab + 1) }
    })
    .filter((entry) => entry.type === "blob")
  const contents = await catBlobs(
    gitDir,
    entries.map((entry) => entry.sha),
  )
  return Object.fromEntries(entries.map((entry, index) => [entry.path, contents[index] ?? ""]))
}

/** `git cat-file --batch` for many blobs in one process. */
const catBlobs = (gitDir: string, shas: string[]): Promise<string[]> =>
  new Promise((resolve, reject) => {
    if (shas.length === 0) {
      resolve([])
      return
    }
    const child = spawn("git", ["cat-file", "--batch"], { cwd: gitDir })
    const chunks: Buffer[] = []
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk))
    child.on("error", reject)
    child.on("close", (code) => {
      if (code !== 0) {
        reject(new Error(`git cat-file exited with ${code}`))
        return
      }
      const output = Buffer.concat(chunks)
      const blobs: string[] = []
      let offset = 0
      for (let i = 0; i < shas.length; i++) {
        const newline = output.indexOf(10, offset)
        const size = Number(output.subarray(offset, newline).toString().split(" ")[2])
        blobs.push(output.subarray(newline + 1, newline + 1 + size).toString("utf8"))
        offset = newline + 1 + size + 1
      }
      resolve(blobs)
    })
    child.stdin.end(`${shas.join("\n")}\n`)
  })

/** The diff a pull request from `head` into `base` shows (changes since their merge base). */
export const diffBetween = async (gitDir: string, base: string, head: string): Promise<string> =>
  (
    await run("git", ["diff", "--no-color", "--no-ext-diff", `${base}...${head}`], {
      cwd: gitDir,
      maxBuffer: 256 * 1024 * 1024,
    })
  ).stdout
