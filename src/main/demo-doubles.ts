/**
 * The stand-ins `prwright demo` runs in-process (a GitHub double serving git over HTTP, a scripted
 * OpenAI-compatible model, a sample repository), handed to the entrypoint from the composition root
 * so that entrypoints import no adapter (the layer rule, scripts/check-layers.js).
 */
export { startGitHubDouble } from "#adapters/demo/github-double.js"
export { fixSteps, planSteps, SAMPLE_FILES, SAMPLE_ISSUE } from "#adapters/demo/sample-repo.js"
export { SCRIPTED_MODEL_PRICES, startScriptedModelServer } from "#adapters/demo/scripted-model-server.js"
