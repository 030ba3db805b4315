// Moved to src/adapters/demo/github/shapes.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/github/shapes.js"
