import path from "node:path"
import react from "@vitejs/plugin-react"
import { defineConfig } from "vite"

// Built into dist/ui, which `prwright serve` serves (src/entrypoints/http/static-ui.ts).
export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  plugins: [react()],
  resolve: { conditions: ["prwright-source"] },
  build: {
    outDir: path.resolve(import.meta.dirname, "../dist/ui"),
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    chunkSizeWarningLimit: 400,
  },
  server: { proxy: { "/api": "http://127.0.0.1:3000" } },
})
