/**
 * A real checkout for the attack tests: the GitHub double serves a repository, the git CLI workspace
 * clones it into a temp data dir, and an "outside" dir holds host files an attacker would like to reach.
 */
import { randomBytes } from "node:crypto"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { createGitCliWorkspace, type GitCliWorkspaceOptions } from "#adapters/git/git-cli-workspace.js"
import { gitAuthHeader } from "#adapters/github/octokit-github.js"
import type { Checkout, Workspace } from "#application/ports/workspace.js"
import { parseRepoRef } from "#domain/repo-ref.js"
import { type GitHubDouble, startGitHubDouble } from "../doubles/github-double.js"

export interface CheckoutFixture {
  double: GitHubDouble
  dataDir: string
  /** host files outside every checkout */
  outside: string
  /** a host file holding SECRET */
  secretFile: string
  secret: string
  workspace: Workspace
  checkout(runId: string, branch?: string): Promise<Checkout>
  close(): Promise<void>
}

export const startCheckoutFixture = async (
  files: Record<string, string>,
  options: Partial<GitCliWorkspaceOptions> = {},
): Promise<CheckoutFixture> => {
  const token = `ghs_security${randomBytes(8).toString("hex")}`
  const secret = `host-secret-${randomBytes(8).toString("hex")}`
  const double = await startGitHubDouble({ tokens: { [token]: { login: "bot", repos: "*" } } })
  const created = await double.createRepo("octo/target", { files })
  const dataDir = await mkdtemp(path.join(tmpdir(), "security-data-"))
  const outside = await mkdtemp(path.join(tmpdir(), "security-outside-"))
  const secretFile = path.join(outside, "secret.key")
  await writeFile(secretFile, `${secret}\n`)
  const workspace = createGitCliWorkspace({
    dataDir,
    authHeader: async () => gitAuthHeader(token),
    ...options,
  })
  const open: Checkout[] = []
  return {
    double,
    dataDir,
    outside,
    secretFile,
    secret,
    workspace,
    async checkout(runId, branch) {
      const checkout = await workspace.checkout({
        repo: parseRepoRef("octo/target"),
        cloneUrl: created.cloneUrl,
        ref: "main",
        runId,
        branch,
      })
      open.push(checkout)
      return checkout
    },
    async close() {
      for (const checkout of open) await checkout.dispose().catch(() => undefined)
      await double.close()
      await rm(dataDir, { recursive: true, force: true })
      await rm(outside, { recursive: true, force: true })
    },
  }
}
