/**
 * A large synthetic repository for the workspace benchmark, built in seconds with `git fast-import`:
 * `files` TypeScript files in nested directories (one big first commit) and then `commits` small commits
 * that each touch a handful of files, so the history is deep the way a real project's is.
 */
import { spawn } from "node:child_process"

export interface BigRepoShape {
  files: number
  commits: number
  filesPerCommit: number
}

export const filePath = (index: number): string =>
  `packages/pkg${index % 20}/src/module${Math.floor(index / 20) % 50}/part${Math.floor(index / 1000) % 4}/file${index}.ts`

const fileBody = (index: number, revision: number): string => {
  const lines = [`// file ${index}, revision ${revision}`, `export const value${index} = ${revision}`]
  for (let k = 0; k < 20; k++)
    lines.push(`export function f${index}_${k}(x: number): number { return x * ${k} + ${index} }`)
  return `${lines.join("\n")}\n`
}

const stream = (shape: BigRepoShape): Buffer => {
  const parts: Buffer[] = []
  const push = (text: string) => parts.push(Buffer.from(text))
  const file = (index: number, revision: number) => {
    const body = Buffer.from(fileBody(index, revision))
    push(`M 100644 inline ${filePath(index)}\ndata ${body.length}\n`)
    parts.push(body, Buffer.from("\n"))
  }
  const commit = (number: number, message: string) => {
    const text = Buffer.from(message)
    push(`commit refs/heads/main\ncommitter Bench <bench@example.invalid> ${1_600_000_000 + number} +0000\n`)
    push(`data ${text.length}\n${message}\n`)
  }
  commit(0, "Initial import")
  push("M 100644 inline README.md\ndata 15\n# Big project\n\n")
  for (let index = 0; index < shape.files; index++) file(index, 0)
  for (let number = 1; number <= shape.commits; number++) {
    commit(number, `Change ${number}`)
    for (let j = 0; j < shape.filesPerCommit; j++) file((number * 131 + j * 977) % shape.files, number)
  }
  return Buffer.concat(parts)
}

/** Fills the bare repository `gitDir` (already `git init --bare`) with the history; HEAD → main. */
export const generateBigRepo = (gitDir: string, shape: BigRepoShape): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn("git", ["fast-import", "--quiet"], { cwd: gitDir, stdio: ["pipe", "ignore", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on("error", reject)
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`git fast-import failed (${code}): ${stderr}`)),
    )
    child.stdin.end(stream(shape))
  })
