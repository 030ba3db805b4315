import { type FormEvent, useId, useState } from "react"
import { ApiError, api } from "../api.ts"

export const SignInPage = ({ onSignedIn }: { onSignedIn: (actor: string) => void }) => {
  const [token, setToken] = useState("")
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  const inputId = useId()
  const hintId = useId()

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (!token.trim()) {
      setError("Paste the API token first.")
      return
    }
    setBusy(true)
    setError(undefined)
    try {
      const session = await api.signIn(token.trim())
      setToken("")
      onSignedIn(session.actor ?? "")
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <main id="main" className="sign-in">
      <h1>prwright</h1>
      <p className="muted">Turns GitHub issues into plans and pull requests with an LLM coding agent.</p>
      <form onSubmit={submit} className="card" noValidate>
        <h2>Sign in</h2>
        <label htmlFor={inputId}>API token</label>
        <input
          id={inputId}
          name="token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-describedby={hintId}
          aria-invalid={error ? true : undefined}
          required
        />
        <p id={hintId} className="hint">
          <code>PRWRIGHT_API_TOKEN</code>, or the token the server printed when it first started. It is
          exchanged for a session cookie and never stored in the page.
        </p>
        {error && (
          <p role="alert" className="error-text">
            <strong>Not signed in:</strong> {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  )
}
