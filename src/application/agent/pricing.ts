/** Prices live in the model table (model-table.ts), beside the context windows; kept as an entry point. */
export { costOf, type ModelPricing, pricingFor, type TokenUsage } from "#domain/model-table.js"
