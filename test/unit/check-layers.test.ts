import { execFile } from "node:child_process"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { promisify } from "node:util"
import { afterEach, describe, expect, it } from "vitest"

const script = path.resolve(import.meta.dirname, "../../scripts/check-layers.js")
let dir: string | undefined

/** Runs the layer check on a made-up src/ tree; returns its exit code and what it printed. */
const check = async (files: Record<string, string>) => {
  dir = await mkdtemp(path.join(tmpdir(), "check-layers-"))
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true })
    await writeFile(path.join(dir, name), content)
  }
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, dir])
    return { code: 0, output: stdout + stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, output: failed.stdout + failed.stderr }
  }
}

afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
  dir = undefined
})

const layered = {
  "domain/errors.ts": "export class E extends Error {}\n",
  "application/ports/job-queue.ts": 'import type { E } from "#domain/errors.js"\nexport type Q = E\n',
  "application/use-case.ts": 'import type { Q } from "./ports/job-queue.js"\nexport type U = Q\n',
  "adapters/queue/shared.ts": 'import type { Q } from "#application/ports/job-queue.js"\nexport type S = Q\n',
  "adapters/queue/embedded/queue.ts": 'import type { S } from "../shared.js"\nexport type Em = S\n',
  "adapters/queue/bullmq/queue.ts": 'import type { S } from "../shared.js"\nexport type Bq = S\n',
  "entrypoints/cli.ts": 'import type { U } from "#application/use-case.js"\nimport("#main/container.js")\n',
  "main/container.ts": 'import type { Em } from "#adapters/queue/embedded/queue.js"\nexport type C = Em\n',
}

describe("scripts/check-layers.js", () => {
  it("passes a tree that keeps the layer table", async () => {
    const { code, output } = await check(layered)
    expect(output).toContain("layer rules hold, no import circle")
    expect(code).toBe(0)
  })

  it("fails on each kind of wrong import, naming the file and the rule", async () => {
    const { code, output } = await check({
      ...layered,
      "domain/errors.ts": 'import { z } from "zod"\nexport const e = z\n',
      "application/use-case.ts": 'import type { C } from "#main/container.js"\nexport type U = C\n',
      "adapters/queue/bullmq/queue.ts":
        'import type { Em } from "../embedded/queue.js"\nexport type Bq = Em\n',
      "adapters/queue/shared.ts": 'import type { U } from "#application/use-case.js"\nexport type S = U\n',
      "application/ports/job-queue.ts": 'import type { U } from "../use-case.js"\nexport type Q = U\n',
      // a dynamic import counts as much as a static one
      "entrypoints/cli.ts": 'const q = await import("#adapters/queue/bullmq/queue.js")\n',
    })
    expect(code).toBe(1)
    expect(output).toContain('src/domain/errors.ts: imports zod: domain imports the package "zod"')
    expect(output).toContain(
      "src/application/use-case.ts: imports #main/container.js: application imports main",
    )
    expect(output).toContain("the bullmq adapter imports its sibling embedded")
    expect(output).toContain(
      "src/adapters/queue/shared.ts: imports #application/use-case.js: an adapter imports application code that is not a port",
    )
    expect(output).toContain(
      "src/entrypoints/cli.ts: imports #adapters/queue/bullmq/queue.js: an entrypoint imports an adapter",
    )
    expect(output).toContain(
      "src/application/ports/job-queue.ts: imports ../use-case.js: a port imports application code",
    )
  })

  it("fails on an import circle, type-only imports included", async () => {
    const { code, output } = await check({
      ...layered,
      "application/a.ts": 'import type { B } from "./b.js"\nexport type A = B\n',
      "application/b.ts": 'import type { A } from "./a.js"\nexport type B = A | 1\n',
    })
    expect(code).toBe(1)
    expect(output).toContain("import circle: src/application/a.ts ⇄ src/application/b.ts")
  })
})
