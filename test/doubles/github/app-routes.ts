// Moved to src/adapters/demo/github/app-routes.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/github/app-routes.js"
