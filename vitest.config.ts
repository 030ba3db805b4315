import { defineConfig } from "vitest/config"

// "prwright-source" makes package.json#imports resolve to src/*.ts, so tests run the TypeScript directly.
export default defineConfig({
  resolve: { conditions: ["prwright-source", "node", "import", "default"] },
  // Not "import" here: vitest passes these to Node as --conditions, and pg's ESM wrapper breaks under it.
  ssr: { resolve: { conditions: ["prwright-source", "node", "default"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: ["test/support/global-setup.ts"],
  },
})
