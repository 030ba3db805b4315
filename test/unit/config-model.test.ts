import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { ConfigError } from "#domain/errors.js"
import { loadConfig } from "#main/config.js"

const base = { LLM_PROVIDER: "openai-compatible", LLM_BASE_URL: "http://127.0.0.1:9/v1", LLM_MODEL: "local" }

describe("model configuration (issue 10)", () => {
  it("reads reasoning effort, thinking budget, the OpenAI API and model prices as JSON or a file", async () => {
    const config = loadConfig({
      ...base,
      LLM_REASONING_EFFORT: "high",
      LLM_THINKING_BUDGET: "4096",
      LLM_OPENAI_API: "chat",
      PRWRIGHT_MODEL_PRICES: '{"local": {"input": 0.1, "output": 0.2, "contextWindow": 32768}}',
    })
    expect(config.llm).toMatchObject({
      reasoningEffort: "high",
      thinkingBudgetTokens: 4096,
      openaiApi: "chat",
      modelTable: {
        local: { contextWindow: 32_768, pricing: { inputPerMillion: 0.1, outputPerMillion: 0.2 } },
      },
    })
    const dir = await mkdtemp(path.join(tmpdir(), "prwright-prices-"))
    try {
      await writeFile(path.join(dir, "prices.json"), '{"local": {"input": 1, "output": 2}}')
      const fromFile = loadConfig({ ...base, PRWRIGHT_MODEL_PRICES: "prices.json" }, dir)
      expect(fromFile.llm.modelTable?.local?.pricing).toEqual({ inputPerMillion: 1, outputPerMillion: 2 })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it("allows unpriced models only when PRWRIGHT_ALLOW_UNPRICED=1 (the default cap binds too)", () => {
    expect(loadConfig(base).llm.allowUnpriced).toBe(false)
    expect(loadConfig({ ...base, PRWRIGHT_ALLOW_UNPRICED: "1" }).llm.allowUnpriced).toBe(true)
    expect(loadConfig({ ...base, PRWRIGHT_MAX_COST_USD: "2" }).llm.allowUnpriced).toBe(false)
    expect(
      loadConfig({ ...base, PRWRIGHT_MAX_COST_USD: "2", PRWRIGHT_ALLOW_UNPRICED: "1" }).llm.allowUnpriced,
    ).toBe(true)
  })

  it("names the variable and the fix for bad values", () => {
    expect(() => loadConfig({ ...base, LLM_REASONING_EFFORT: "max" })).toThrow(
      /LLM_REASONING_EFFORT must be minimal, low, medium or high/,
    )
    expect(() => loadConfig({ ...base, PRWRIGHT_MODEL_PRICES: "{bad" })).toThrow(ConfigError)
    expect(() => loadConfig({ ...base, PRWRIGHT_MODEL_PRICES: "/no/such/prices.json" })).toThrow(
      /neither JSON nor an existing file/,
    )
    expect(() =>
      loadConfig({ ...base, PRWRIGHT_MODEL_PRICES: '{"m": {"input": "cheap", "output": 1}}' }),
    ).toThrow(/PRWRIGHT_MODEL_PRICES\["m"\]\.input must be a price/)
  })
})
