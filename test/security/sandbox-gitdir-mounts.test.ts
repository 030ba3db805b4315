/**
 * Weakness 1: mounts derived from sandbox-writable files. A repository command rewrites the
 * checkout's `.git` (to name `/`, the data dir, a fake git dir whose `commondir` is `/`, or as a
 * symlink or a FIFO); a later command must still see only the checkout and the git metadata the
 * workspace recorded, never the host's files. The checkout lives in a "data dir" that also holds
 * what an attacker wants: `.env`, the key file, the database and another run's worktree.
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createBwrapSandbox } from "#adapters/sandbox/bwrap-sandbox.js"
import type { SandboxCommand } from "#application/ports/sandbox.js"
import { ValidationError } from "#domain/errors.js"
import { bwrapWorks, makeWorktree, SKIP_NO_BWRAP, type WorktreeFixture } from "./sandbox-support.js"

const SECRET = `prwright-secret-${randomBytes(12).toString("hex")}`

describe.skipIf(!bwrapWorks)(`sandbox mounts come from the workspace's records (${SKIP_NO_BWRAP})`, () => {
  let fixture: WorktreeFixture
  let dataDir: string
  let hostFiles: Record<string, string>
  const sandbox = createBwrapSandbox()
  const run = (command: string, extra: Partial<SandboxCommand> = {}) =>
    sandbox.run({
      command,
      root: fixture.worktree,
      mounts: fixture.mounts,
      network: "none",
      timeoutMs: 10_000,
      ...extra,
    })

  /** everything a later command could print if it saw the host: the secret must not be in it */
  const loot = () =>
    [
      `cat '${dataDir}/.env' '${dataDir}/secret.key' '${dataDir}/prwright.db' '${dataDir}/runs/other/loot.txt'`,
      "cat .git/.env .git/secret.key .git/runs/other/loot.txt",
      "cat /root/.env",
      `ls -A '${dataDir}' | sed 's/^/LS /'`,
      "git status --short; git log --format=%s -1",
      // everything the sandbox mounts that is not the system: the checkout's parent, /tmp, HOME, /run
      `grep -rsl '${SECRET}' '${dataDir}' /tmp /home /run /root /var /data | head -3`,
    ].join(" 2>&1; ")

  beforeEach(() => {
    fixture = makeWorktree()
    dataDir = fixture.parent
    hostFiles = {
      ".env": `GITHUB_TOKEN=${SECRET}\n`,
      "secret.key": `${SECRET}\n`,
      "prwright.db": `SQLite format 3\0${SECRET}`,
      "runs/other/loot.txt": `another run's worktree ${SECRET}\n`,
    }
    mkdirSync(path.join(dataDir, "runs/other"), { recursive: true })
    for (const [name, content] of Object.entries(hostFiles)) writeFileSync(path.join(dataDir, name), content)
  })
  afterEach(() => {
    rmSync(fixture.parent, { recursive: true, force: true })
  })

  const expectHostIntact = () => {
    for (const [name, content] of Object.entries(hostFiles)) {
      expect(readFileSync(path.join(dataDir, name), "utf8")).toBe(content)
    }
    expect(readdirSync(dataDir).sort()).toEqual([
      ".env",
      "mirror",
      "prwright.db",
      "runs",
      "secret.key",
      "worktree",
    ])
  }

  it("the checkout's own .git file names the recorded git dir, and git works through the recorded mounts", async () => {
    const result = await run("cat .git; git log --format=%s -1")
    expect(result.output).toContain("gitdir: ")
    expect(result.output).toContain("first\n")
  })

  const attacks: Array<[string, string]> = [
    ["`gitdir: /`", 'echo "gitdir: /" > .git'],
    ["`gitdir:` naming the data dir", `echo "gitdir: ${"$"}(dirname "$PWD")" > .git`],
    [
      "a fake git dir whose `commondir` is `/`",
      'mkdir -p fake && echo / > fake/commondir && echo "ref: refs/heads/main" > fake/HEAD && echo "gitdir: $PWD/fake" > .git',
    ],
    [
      "a fake git dir whose `commondir` is the data dir",
      'mkdir -p fake && dirname "$PWD" > fake/commondir && echo "ref: refs/heads/main" > fake/HEAD && echo "gitdir: $PWD/fake" > .git',
    ],
    ["`.git` replaced by a symlink to /", "rm -f .git && ln -s / .git"],
    ["`.git` replaced by a symlink to the data dir", 'rm -f .git && ln -s "$(dirname "$PWD")" .git'],
    ["`.git` replaced by a FIFO (a host that read it would hang)", "rm -f .git && mkfifo .git"],
  ]

  for (const [name, attack] of attacks) {
    it(`a later command sees no host file after ${name}`, async () => {
      const first = await run(attack)
      expect(first.exitCode).toBe(0)
      const later = await run(loot(), { timeoutMs: 20_000 })
      expect(later.timedOut).toBe(false)
      expect(later.output).not.toContain(SECRET)
      // the data dir holds only the mount points of the recorded mirror and the checkout in the sandbox
      const listed = [...later.output.matchAll(/^LS (.*)$/gm)].map((match) => match[1])
      expect(listed.sort()).toEqual(["mirror", "worktree"])
      expectHostIntact()
    })
  }

  it("the agent's later command (per-run HOME and /tmp) sees no host file either, and a symlink left in HOME resolves inside the sandbox", async () => {
    const home = path.join(dataDir, "runs/home-of-this-run")
    const tmp = path.join(dataDir, "runs/tmp-of-this-run")
    mkdirSync(home)
    mkdirSync(tmp)
    const perRun = { home, tmp }
    await run(`echo "gitdir: /" > .git; ln -s '${dataDir}' "$HOME/data"; ln -s / /tmp/root`, perRun)
    const later = await run(`${loot()}; cat "$HOME/data/.env" /tmp/root${dataDir}/.env`, perRun)
    expect(later.output).not.toContain(SECRET)
    expectHostIntact()
  })

  it("refuses to bind a per-run HOME, /tmp or recorded mount that lies in or resolves into the checkout, where a command could have swapped in a symlink", async () => {
    await run('mkdir -p .cache && ln -s / .cache/home && ln -s "$(dirname "$PWD")" data-link')
    const inCheckout = path.join(fixture.worktree, ".cache/home")
    const throughCheckout = path.join(fixture.worktree, "data-link")
    for (const extra of [
      { home: inCheckout },
      { tmp: inCheckout },
      { home: throughCheckout },
      { mounts: { readOnly: [throughCheckout], writable: [] } },
      { mounts: { readOnly: [], writable: [inCheckout] } },
      { home: "relative/home" },
    ]) {
      await expect(run(`cat '${dataDir}/.env'`, extra), JSON.stringify(extra)).rejects.toBeInstanceOf(
        ValidationError,
      )
    }
    expectHostIntact()
  })
})
