import { useEffect, useId, useState } from "react"
import { ApiError, api, type Setup } from "../api.ts"

const MARK = { ok: ["✓", "OK"], warn: ["!", "Warning"], fail: ["✗", "Fails"] } as const

export const SetupPage = () => {
  const [setup, setSetup] = useState<Setup>()
  const [error, setError] = useState<string>()
  const [copied, setCopied] = useState(false)
  const urlId = useId()
  const load = () => {
    setSetup(undefined)
    api
      .setup()
      .then(setSetup)
      .catch((e: unknown) => setError(e instanceof ApiError ? e.message : String(e)))
  }
  useEffect(load, [])

  return (
    <>
      <div className="page-head">
        <h1>Setup</h1>
        <button type="button" onClick={load}>
          Check again
        </button>
      </div>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      {!setup && !error && (
        <p className="loading" aria-live="polite">
          Running the checks (prwright doctor)…
        </p>
      )}
      {setup && (
        <>
          <section className="card" aria-labelledby="webhook-heading">
            <h2 id="webhook-heading">GitHub webhook</h2>
            <label htmlFor={urlId}>Payload URL (content type JSON; events: Issues, Issue comments)</label>
            <div className="copy">
              <input id={urlId} readOnly value={setup.webhookUrl} onFocus={(e) => e.currentTarget.select()} />
              <button
                type="button"
                onClick={() =>
                  void navigator.clipboard?.writeText(setup.webhookUrl).then(() => {
                    setCopied(true)
                    setTimeout(() => setCopied(false), 2000)
                  })
                }
              >
                {copied ? "Copied" : "Copy"}
              </button>
            </div>
            <p className={setup.webhookSecretSet ? "ok" : "bad"}>
              <span aria-hidden="true">{setup.webhookSecretSet ? "✓ " : "✗ "}</span>
              {setup.webhookSecretSet
                ? "GITHUB_WEBHOOK_SECRET is set: use the same value as the webhook's secret."
                : "GITHUB_WEBHOOK_SECRET is not set: webhooks are refused until you set it (and the same secret on GitHub), then restart."}
            </p>
          </section>
          <section className="card" aria-labelledby="checks-heading">
            <h2 id="checks-heading">Checks</h2>
            <ul className="checks">
              {setup.checks.map((check, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: the doctor's order is stable
                <li key={i} className={`check check-${check.ok}`}>
                  <span className="mark" aria-hidden="true">
                    {MARK[check.ok][0]}
                  </span>
                  <span className="sr-only">{MARK[check.ok][1]}:</span>
                  <strong>{check.name}</strong>
                  <span className="detail">{check.detail}</span>
                </li>
              ))}
            </ul>
          </section>
        </>
      )}
    </>
  )
}
