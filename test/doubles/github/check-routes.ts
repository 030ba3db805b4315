// Moved to src/adapters/demo/github/check-routes.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/github/check-routes.js"
