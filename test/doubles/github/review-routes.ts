// Moved to src/adapters/demo/github/review-routes.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/github/review-routes.js"
