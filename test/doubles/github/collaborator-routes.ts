// Moved to src/adapters/demo/github/collaborator-routes.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/github/collaborator-routes.js"
