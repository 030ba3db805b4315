// Moved to src/adapters/demo/github/pull-shapes.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/github/pull-shapes.js"
