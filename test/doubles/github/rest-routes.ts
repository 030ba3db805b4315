// Moved to src/adapters/demo/github/rest-routes.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/github/rest-routes.js"
