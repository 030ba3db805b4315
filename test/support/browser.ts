/**
 * Real headless Chromium for the UI tests (Debian's /usr/bin/chromium driven by playwright-core): the
 * loud skip (or, with REQUIRE_SERVICES=1, the failure) when it is missing, one launch with a profile of
 * its own, screenshots at a desktop and a phone width, and axe-core's serious and critical findings.
 */
import { existsSync } from "node:fs"
import { mkdir, mkdtemp, rm } from "node:fs/promises"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import path from "node:path"
import { type BrowserContext, chromium, type Page } from "playwright-core"
import { expect } from "vitest"

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
/** where the UI tests' screenshots go */
export const SHOTS = path.resolve(import.meta.dirname, "../..", "test-results", "ui")
const axeSource = (createRequire(import.meta.url)("axe-core") as { source: string }).source

/** whether Chromium is here; says loudly what is skipped when not (an error with REQUIRE_SERVICES=1) */
export const chromiumOrSkip = (what: string): boolean => {
  if (existsSync(CHROMIUM)) return true
  if (process.env.REQUIRE_SERVICES === "1")
    throw new Error(`${CHROMIUM} is missing and REQUIRE_SERVICES=1: apt-get install chromium`)
  console.warn(`\n!!! SKIPPING ${what}: no Chromium at ${CHROMIUM} (apt-get install chromium)\n`)
  return false
}

export interface Browser {
  context: BrowserContext
  page: Page
  close(): Promise<void>
}

/** Chromium headless, 1280×900, 20 s per action, its profile removed on close */
export const launchBrowser = async (): Promise<Browser> => {
  await mkdir(SHOTS, { recursive: true })
  const profile = await mkdtemp(path.join(tmpdir(), "prwright-chromium-"))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  })
  const page = context.pages()[0] ?? (await context.newPage())
  page.setDefaultTimeout(20_000)
  return {
    context,
    page,
    async close() {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    },
  }
}

/** `SHOTS/<name>-1280.png` and `-390.png` (a phone), full page; the viewport goes back to 1280 */
export const screenshots = async (page: Page, name: string): Promise<void> => {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 })
    await page.waitForTimeout(150)
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true })
  }
  await page.setViewportSize({ width: 1280, height: 900 })
}

/** axe-core on the page as it is: no serious or critical violation */
export const expectAccessible = async (page: Page, name: string): Promise<void> => {
  await page.evaluate(axeSource)
  const result = (await page.evaluate(`axe.run(document, { resultTypes: ["violations"] })`)) as {
    violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }>
  }
  const bad = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)
  expect(bad, `axe on ${name}`).toEqual([])
}
