/**
 * The coding agent's commands in the real bubblewrap sandbox: the syntax check after an edit runs in
 * there (python3 and node are found inside, a missing gofmt is skipped), and the run's own HOME and
 * /tmp reach every command, so a reproduction script in /tmp survives to the next command.
 */
import { mkdir, mkdtemp, realpath, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createModelHandle } from "#adapters/model/ai-sdk-model.js"
import { createBwrapSandbox } from "#adapters/sandbox/bwrap-sandbox.js"
import { runCodingAgent } from "#application/agent/coding-agent.js"
import { startScriptedModelServer } from "../doubles/scripted-model-server.js"
import { createTempCheckout } from "../doubles/temp-checkout.js"
import { openIssue } from "../support/agent-harness.js"
import { bwrapWorks } from "../support/bwrap.js"

const issue = openIssue(
  { number: 1, title: "double() is wrong", body: "double(2) returns 5", author: "a" },
  "o/r",
)
const edit = (args: Record<string, unknown>) => ({ name: "str_replace_based_edit_tool", arguments: args })
const bash = (command: string) => ({ name: "bash", arguments: { command } })
const submit = { name: "submit", arguments: { title: "Fix double()", summary: "double() doubles." } }

describe.skipIf(!bwrapWorks)(
  "coding agent in the bwrap sandbox (skipped: bubblewrap is not installed or cannot create namespaces here)",
  () => {
    let dir: string
    beforeAll(async () => {
      dir = await realpath(await mkdtemp(path.join(tmpdir(), "prwright-agent-bwrap-")))
    })
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it("checks syntax in the sandbox and keeps /tmp between commands", async () => {
      const checkout = await createTempCheckout(path.join(dir, "repo"), {
        "calc.py": "def double(x):\n    return x * 2 + 1\n",
        ".gitignore": "__pycache__/\n",
      })
      const home = path.join(dir, "home")
      const tmp = path.join(dir, "tmp")
      await mkdir(home)
      await mkdir(tmp)
      const server = await startScriptedModelServer({
        script: [
          { toolCalls: [bash("printf 'from calc import double\\nprint(double(2))\\n' > /tmp/repro.py")] },
          { toolCalls: [bash("PYTHONPATH=. python3 /tmp/repro.py")] },
          {
            toolCalls: [
              edit({ command: "str_replace", path: "calc.py", old_str: "x * 2 + 1", new_str: "x * 2 +" }),
            ],
          },
          {
            toolCalls: [
              edit({ command: "str_replace", path: "calc.py", old_str: "x * 2 +", new_str: "x * 2" }),
            ],
          },
          { toolCalls: [bash("PYTHONPATH=. python3 /tmp/repro.py")] },
          { toolCalls: [submit] },
          { toolCalls: [submit] },
        ],
      })
      try {
        const model = createModelHandle({
          provider: "openai",
          model: "gpt-4.1",
          baseURL: server.baseUrl,
          apiKey: "k",
        })
        const result = await runCodingAgent({
          model,
          checkout,
          sandbox: createBwrapSandbox(),
          repoFullName: "o/r",
          issue,
          budget: { maxSteps: 10 },
          signal: new AbortController().signal,
          maxRetries: 0,
          onEvent: () => {},
          home,
          tmp,
        })
        expect(server.errors).toEqual([])
        expect(result).toMatchObject({ outcome: "submitted", editedPaths: ["calc.py"] })
        const tool = (request: number) =>
          (
            (server.requests[request]?.body ?? { messages: [] }) as {
              messages: Array<{ role: string; content: unknown }>
            }
          ).messages
            .filter((m) => m.role === "tool")
            .map((m) => String(m.content))
            .at(-1) ?? ""
        expect(tool(2)).toMatch(/^5\n\[exit code 0/)
        expect(tool(3)).toContain("[syntax check FAILED (python3 syntax check)")
        expect(tool(4)).toContain("[syntax check passed (python3 syntax check)]")
        expect(tool(5)).toMatch(/^4\n\[exit code 0/)
        // nothing of the checks or /tmp landed in the checkout
        expect((await checkout.status()).map((c) => c.path)).toEqual(["calc.py"])
      } finally {
        await server.close()
      }
    })
  },
)
