// Moved to src/adapters/demo/github/actions-routes.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/github/actions-routes.js"
