// Moved to src/adapters/demo/github/git-http.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/github/git-http.js"
