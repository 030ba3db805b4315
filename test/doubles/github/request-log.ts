// Moved to src/adapters/demo/github/request-log.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/github/request-log.js"
