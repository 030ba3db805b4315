/** `prwright migrate`: the schema is created (and upgraded) through src/main, not by the CLI itself. */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import Database from "better-sqlite3"
import { afterEach, expect, it } from "vitest"
import { startPrwright } from "../support/prwright-process.js"

let dataDir: string | undefined
afterEach(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

it("creates the SQLite schema, and says so; a second run finds it up to date", async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "prwright-migrate-"))
  const file = path.join(dataDir, "state.db")
  const env = { PRWRIGHT_DATA_DIR: dataDir, DATABASE_URL: `sqlite:${file}` }
  for (let round = 0; round < 2; round++) {
    const cli = startPrwright(["migrate"], env)
    expect(await cli.exited).toBe(0)
    expect(cli.output()).toContain("database is up to date (sqlite)")
  }
  const db = new Database(file, { readonly: true })
  try {
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((row) => row.name)
    expect(tables).toEqual(expect.arrayContaining(["runs", "run_events"]))
  } finally {
    db.close()
  }
}, 60_000)
