import { describe, expect, it } from "vitest"
import { ConfigError } from "#domain/errors.js"
import { loadConfig } from "#main/config.js"

const failing = (env: Record<string, string>): string => {
  try {
    loadConfig(env, "/srv/app")
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error("expected the config to be refused")
}

describe("config", () => {
  it("runs on embedded defaults with an empty environment", () => {
    const config = loadConfig({}, "/srv/app")
    expect(config.port).toBe(3000)
    expect(config.dataDir).toBe("/srv/app/.prwright")
    expect(config.databaseUrl).toBe("sqlite:/srv/app/.prwright/prwright.db")
    expect(config.redisUrl).toBeUndefined()
    expect(config.github.apiUrl).toBe("https://api.github.com")
    expect(config.llm.provider).toBe("openai")
    expect(config.concurrency).toEqual({ comment: 3, "auto-resolve": 1, resolve: 1, ask: 3 })
  })

  it("names the variable and the fix in one line", () => {
    const message = failing({ PORT: "eighty" })
    expect(message).toMatch(
      /^invalid configuration: PORT must be an integer from 0 to 65535 \(got "eighty"\)/,
    )
    expect(message).not.toContain("\n")
    expect(failing({ DATABASE_URL: "mysql://x" })).toMatch(/DATABASE_URL must start with "sqlite:"/)
    expect(failing({ REDIS_URL: "localhost:6379" })).toMatch(/REDIS_URL must be a Redis URL/)
    expect(failing({ LLM_PROVIDER: "gemini" })).toMatch(
      /LLM_PROVIDER must be one of openai, anthropic, openai-compatible/,
    )
    expect(failing({ PRWRIGHT_API_TOKEN: "short" })).toMatch(
      /PRWRIGHT_API_TOKEN must be at least 16 characters/,
    )
    expect(failing({ PRWRIGHT_MAX_RUNS_PER_REPO: "two" })).toMatch(
      /PRWRIGHT_MAX_RUNS_PER_REPO must be an integer from 0 to 1000 \(got "two"\): runs one repository may have active at once/,
    )
    expect(failing({ PRWRIGHT_MAX_RUNS_PER_INSTALLATION: "-1" })).toMatch(
      /PRWRIGHT_MAX_RUNS_PER_INSTALLATION must be an integer from 0 to 10000/,
    )
  })

  it("limits active runs per repository and installation: defaults, settings, 0 for none", () => {
    expect(loadConfig({}, "/srv/app").runLimits).toEqual({ perRepository: 4, perInstallation: 10 })
    expect(
      loadConfig({ PRWRIGHT_MAX_RUNS_PER_REPO: "1", PRWRIGHT_MAX_RUNS_PER_INSTALLATION: "0" }, "/srv/app")
        .runLimits,
    ).toEqual({ perRepository: 1, perInstallation: 0 })
  })

  it("never echoes a secret's value in a config error", () => {
    expect(failing({ PRWRIGHT_API_TOKEN: "tooShortSecret" })).not.toContain("tooShortSecret")
    expect(failing({ REDIS_URL: "x://user:hunter2secret@h" })).not.toContain("hunter2secret")
  })

  it("picks the provider's key, LLM_API_KEY winning, and lists every secret for scrubbing", () => {
    const config = loadConfig(
      {
        LLM_PROVIDER: "anthropic",
        ANTHROPIC_API_KEY: "sk-ant-1234",
        OPENAI_API_KEY: "sk-openai-5678",
        GITHUB_TOKEN: "ghp_abcdef",
        DATABASE_URL: "postgres://u:dbpass123@h/db",
      },
      "/x",
    )
    expect(config.llm.apiKey).toBe("sk-ant-1234")
    expect(loadConfig({ LLM_API_KEY: "sk-generic-9", OPENAI_API_KEY: "sk-o" }).llm.apiKey).toBe(
      "sk-generic-9",
    )
    expect(config.secrets).toEqual(
      expect.arrayContaining(["sk-ant-1234", "sk-openai-5678", "ghp_abcdef", "dbpass123"]),
    )
  })

  it("reads the setup egress allow-list and exempt networks, refusing addresses and bad CIDRs", () => {
    expect(loadConfig({}, "/x").setupEgress.allow).toContain("registry.npmjs.org")
    expect(loadConfig({}, "/x").setupEgress.exemptNetworks).toEqual([])
    const config = loadConfig(
      { PRWRIGHT_SETUP_ALLOW: "pypi.org, *.corp.example", PRWRIGHT_SETUP_ALLOW_NETWORKS: "10.20.0.0/16" },
      "/x",
    )
    expect(config.setupEgress).toEqual({
      allow: ["pypi.org", "*.corp.example"],
      exemptNetworks: ["10.20.0.0/16"],
    })
    expect(loadConfig({ PRWRIGHT_SETUP_ALLOW: "none" }, "/x").setupEgress.allow).toEqual([])
    expect(failing({ PRWRIGHT_SETUP_ALLOW: "127.0.0.1" })).toMatch(
      /PRWRIGHT_SETUP_ALLOW entry "127.0.0.1" is not a host name/,
    )
    expect(failing({ PRWRIGHT_SETUP_ALLOW_NETWORKS: "10.0.0.0" })).toMatch(
      /PRWRIGHT_SETUP_ALLOW_NETWORKS entry "10.0.0.0" is not a CIDR/,
    )
  })
})
