// Moved to src/adapters/demo/sample-repo.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/sample-repo.js"
