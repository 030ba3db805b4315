import { defineConfig } from "vitest/config"

// "prwright-source" makes package.json#imports resolve to src/*.ts, so tests run the TypeScript directly.
export default defineConfig({
  resolve: { conditions: ["prwright-source", "node", "import", "default"] },
  ssr: { resolve: { conditions: ["prwright-source", "node", "import", "default"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: [],
  },
})
