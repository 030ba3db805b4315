// Moved to src/adapters/demo/scripted-model-server.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/scripted-model-server.js"
