// Moved to src/adapters/demo/github/router.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/github/router.js"
