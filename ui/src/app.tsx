import { lazy, Suspense, useCallback, useEffect, useState } from "react"
import { api, setUnauthorizedHandler } from "./api.ts"
import { RunPage } from "./pages/run.tsx"
import { RunsPage } from "./pages/runs.tsx"
import { SetupPage } from "./pages/setup.tsx"
import { SignInPage } from "./pages/sign-in.tsx"
import { StartPage } from "./pages/start.tsx"
import { Link, navigate, useLocation } from "./router.tsx"

// uPlot is only needed on the overview: its own chunk
const OverviewPage = lazy(() => import("./pages/overview.tsx").then((m) => ({ default: m.OverviewPage })))

type Auth = { state: "checking" } | { state: "out" } | { state: "in"; actor: string }

const NAV = [
  ["/runs", "Runs"],
  ["/start", "Start work"],
  ["/overview", "Overview"],
  ["/setup", "Setup"],
] as const

export const App = () => {
  const { path } = useLocation()
  const [auth, setAuth] = useState<Auth>({ state: "checking" })

  useEffect(() => {
    setUnauthorizedHandler(() => setAuth({ state: "out" }))
    api
      .session()
      .then((s) => setAuth(s.signedIn ? { state: "in", actor: s.actor ?? "" } : { state: "out" }))
      .catch(() => setAuth({ state: "out" }))
  }, [])

  const signedIn = useCallback((actor: string) => {
    setAuth({ state: "in", actor })
    const back = new URLSearchParams(window.location.search).get("next")
    navigate(back?.startsWith("/") && !back.startsWith("//") ? back : "/runs", { replace: true })
  }, [])

  const signOut = async () => {
    await api.signOut().catch(() => undefined)
    setAuth({ state: "out" })
    navigate("/sign-in", { replace: true })
  }

  useEffect(() => {
    if (auth.state === "out" && path !== "/sign-in") {
      navigate(`/sign-in?next=${encodeURIComponent(window.location.pathname + window.location.search)}`, {
        replace: true,
      })
    }
    if (auth.state === "in" && (path === "/" || path === "/sign-in")) navigate("/runs", { replace: true })
  }, [auth.state, path])

  useEffect(() => {
    const title = path.startsWith("/runs/") ? "Run" : (NAV.find(([href]) => href === path)?.[1] ?? "Sign in")
    document.title = `${title} · prwright`
  }, [path])

  if (auth.state === "checking")
    return (
      <p className="loading" aria-live="polite">
        Loading…
      </p>
    )
  if (auth.state === "out") return <SignInPage onSignedIn={signedIn} />

  const runMatch = /^\/runs\/([^/]+)$/.exec(path)
  let page = <RunsPage />
  if (runMatch?.[1]) page = <RunPage key={runMatch[1]} jobId={decodeURIComponent(runMatch[1])} />
  else if (path === "/start") page = <StartPage />
  else if (path === "/overview") page = <OverviewPage />
  else if (path === "/setup") page = <SetupPage />

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link href="/runs" className="brand">
          prwright
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([href, label]) => (
              <li key={href}>
                <Link
                  href={href}
                  aria-current={
                    path === href || (href === "/runs" && path.startsWith("/runs/")) ? "page" : undefined
                  }
                >
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span className="muted" title="signed in as">
            {auth.actor}
          </span>
          <button type="button" className="link" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="loading">Loading…</p>}>{page}</Suspense>
      </main>
    </>
  )
}
