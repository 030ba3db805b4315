// Moved to src/adapters/demo/github/repo-inspection.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/github/repo-inspection.js"
