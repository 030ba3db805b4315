// Moved to src/adapters/demo/github-double.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/github-double.js"
