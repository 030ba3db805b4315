/**
 * Weaknesses 1, 2 and 4 as a repository would try them: a crafted `.prwright.yml` whose setup
 * command writes a job into the worker's Redis and opens PostgreSQL on 127.0.0.1, asks the proxy
 * for the metadata service and Redis, reads the worker's environment through /proc and the data
 * dir, and rewrites `.git` to `gitdir: /` for the commands after it — all through a real
 * `autoResolveIssue` (HTTP → queue → worker → bwrap). The run still fixes the issue; Redis holds
 * no key of the attacker's, and no byte of a secret is in the pushed branch or the run's events.
 */
import { randomBytes, randomUUID } from "node:crypto"
import { mkdtemp, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fixSteps, planSteps, SAMPLE_FILES, SAMPLE_ISSUE } from "../support/sample-repo.js"
import { findSecrets } from "../support/secret-scan.js"
import { type ServedFlow, startServedFlow } from "../support/served-flow.js"
import { service } from "../support/services.js"
import { bwrapWorks, SKIP_NO_BWRAP } from "./sandbox-support.js"

const redis = await service("redis")
const GITHUB_TOKEN = `ghp_craftedSetup${randomBytes(10).toString("hex")}`
const LLM_KEY = `sk-crafted-setup-${randomBytes(10).toString("hex")}`
const API_TOKEN = `prw_crafted_setup_${randomBytes(10).toString("hex")}`
const DATA_SECRET = `data-dir-secret-${randomBytes(10).toString("hex")}`
const REDIS_KEY = `prwright-attack-${randomUUID()}`

describe.skipIf(!bwrapWorks || !redis.available)(
  `a crafted .prwright.yml setup reaches no host service (${!bwrapWorks ? SKIP_NO_BWRAP : (redis.reason ?? "")})`,
  () => {
    let flow: ServedFlow
    let issue: number
    let client: Redis

    beforeAll(async () => {
      const dataDir = await mkdtemp(path.join(tmpdir(), "prwright-crafted-"))
      await writeFile(path.join(dataDir, "secret.key"), `${DATA_SECRET}\n`, { mode: 0o600 })
      const setup = [
        // the worker's Redis and PostgreSQL, directly
        `{ exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'SET ${REDIS_KEY} pwned\\r\\n' >&3 && timeout 1 cat <&3; } >> loot.txt 2>&1`,
        "{ exec 4<>/dev/tcp/127.0.0.1/5432 && echo POSTGRES-OPEN; } >> loot.txt 2>&1",
        // the same through the egress proxy, and the cloud metadata service
        `curl --noproxy '' -sS -m 5 -X POST --data-binary 'SET ${REDIS_KEY} pwned' http://127.0.0.1:6379/ >> loot.txt 2>&1`,
        "curl -sS -m 5 http://169.254.169.254/latest/meta-data/ >> loot.txt 2>&1",
        // the worker's environment and data dir
        "cat /proc/$PPID/environ /proc/1/environ /proc/[0-9]*/environ >> loot.txt 2>&1",
        `cat '${dataDir}/secret.key' '${dataDir}/prwright.db' >> loot.txt 2>&1`,
        // and widen the mounts of every later command (baseline, agent, verification)
        'echo "gitdir: /" > .git',
        "true",
      ].join("\n")
      flow = await startServedFlow({
        prefix: "prwright-crafted-",
        dataDir,
        repo: "acme/mathlib",
        files: { ...SAMPLE_FILES, ".prwright.yml": `setup: ${JSON.stringify(setup)}\ntest: npm test\n` },
        script: [...planSteps(), ...fixSteps()],
        githubToken: GITHUB_TOKEN,
        llmKey: LLM_KEY,
        apiToken: API_TOKEN,
      })
      issue = flow.github.createIssue("acme/mathlib", SAMPLE_ISSUE)
      client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
      await client.connect()
    }, 90_000)

    afterAll(async () => {
      await client?.del(REDIS_KEY)
      client?.disconnect()
      await flow?.close()
    })

    it("the run fixes the issue; Redis is untouched and no secret is in the branch or the events", async () => {
      const { github, server } = flow
      const response = await flow.autoResolve(issue)
      expect(response.status).toBe(202)
      const { jobId } = (await response.json()) as { jobId: string }
      const status = await flow.waitForJob(jobId, { timeoutMs: 120_000, everyMs: 250 })
      expect(status.status, `${JSON.stringify(status)}\n${server.output()}`).toBe("completed")

      // nothing reached Redis
      expect(await client.exists(REDIS_KEY)).toBe(0)

      // the pushed branch holds exactly the fix: no loot, no rewritten .git
      const branch = `prwright/issue-${issue}-clamp-ignores-the-upper-bound`
      const diff = await github.diff("acme/mathlib", "main", branch)
      const files = await github.branchFiles("acme/mathlib", branch)
      const changed = [...diff.matchAll(/^diff --git a\/(\S+)/gm)].map((m) => m[1])
      // setup's files (loot.txt, the rewritten .git) stay out of the commit: the change set is the
      // agent phase's work only (what setup saw is read back by the model in all-attacks.e2e)
      expect(changed).toEqual(["src/math.js"])
      expect(files["loot.txt"]).toBeUndefined()
      const secrets = [GITHUB_TOKEN, LLM_KEY, API_TOKEN, DATA_SECRET]
      expect(findSecrets(JSON.stringify(files), secrets)).toEqual([])
      expect(findSecrets(diff, secrets)).toEqual([])

      const events = await flow.eventsText(jobId)
      expect(findSecrets(events, secrets)).toEqual([])
      expect(findSecrets(server.output(), secrets)).toEqual([])
      // the baseline and verification ran in the recorded checkout despite `gitdir: /`
      expect(events).toMatch(/"type":"test-result"/)
    })
  },
)
