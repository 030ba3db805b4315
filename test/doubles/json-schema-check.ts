// Moved to src/adapters/demo/json-schema-check.ts (the demo uses it); kept so existing imports work.
export * from "#adapters/demo/json-schema-check.js"
