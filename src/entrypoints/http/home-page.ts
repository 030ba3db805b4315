/**
 * What a browser sees at `/` when the web UI has not been built (`npm run build` builds it into
 * dist/ui; `npm start` does so when needed): what this server is and how to use it meanwhile.
 * Static text only — no data, so it needs no token.
 */
export const homePage = (version: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>prwright ${version}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 3rem auto; padding: 0 1rem; color: #1f2328; }
  code, pre { font: 14px ui-monospace, monospace; background: #f6f8fa; border-radius: 6px; }
  code { padding: 0.1rem 0.3rem; } pre { padding: 0.8rem; overflow-x: auto; }
</style>
</head>
<body>
<h1>prwright <small>${version}</small></h1>
<p>Turns GitHub issues into implementation plans and pull requests with an LLM coding agent.
This server is running, but its web UI is not built: run <code>npm run build</code> (or
<code>npm start</code>, which builds what is missing) and reload. Meanwhile use the CLI or the HTTP API with the API token
(<code>PRWRIGHT_API_TOKEN</code>, or the one printed at first start).</p>
<pre>prwright plan owner/repo#12 --wait
prwright auto owner/repo#12 --wait
prwright runs
prwright doctor</pre>
<ul>
<li><a href="/api/openapi.json">/api/openapi.json</a> — the API (needs the bearer token)</li>
<li><a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a></li>
<li>GitHub webhooks: <code>POST /api/webhooks/github</code> (set <code>GITHUB_WEBHOOK_SECRET</code>)</li>
</ul>
</body>
</html>
`
