import { type FormEvent, useEffect, useId, useState } from "react"
import { ApiError, api, type JsonSchema, type WorkflowRoute } from "../api.ts"
import { navigate } from "../router.tsx"

const WORKFLOWS: Array<{ route: WorkflowRoute; label: string; hint: string }> = [
  {
    route: "autoResolveIssue",
    label: "Auto-resolve",
    hint: "plan, implement, verify and open a pull request",
  },
  { route: "commentOnIssue", label: "Plan", hint: "post a plan as one comment; approve it later" },
  { route: "resolveIssue", label: "Resolve", hint: "implement the issue's newest plan (or a plan id)" },
]
const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/

type Errors = Record<string, string>

/** the request schema the server validates with, from its OpenAPI document */
const useRequestSchema = (route: WorkflowRoute) => {
  const [schema, setSchema] = useState<JsonSchema>()
  useEffect(() => {
    api
      .openapi()
      .then((doc) =>
        setSchema(
          doc.paths[`/api/workflow/${route}`]?.post?.requestBody?.content["application/json"]?.schema,
        ),
      )
      .catch(() => setSchema(undefined))
  }, [route])
  return schema
}

export const StartPage = () => {
  const [route, setRoute] = useState<WorkflowRoute>("autoResolveIssue")
  const [repo, setRepo] = useState("")
  const [issue, setIssue] = useState("")
  const [priority, setPriority] = useState("normal")
  const [createPR, setCreatePR] = useState(true)
  const [post, setPost] = useState(true)
  const [maxAttempts, setMaxAttempts] = useState("3")
  const [budget, setBudget] = useState("")
  const [planId, setPlanId] = useState("")
  const [errors, setErrors] = useState<Errors>({})
  const [formError, setFormError] = useState<string>()
  const [busy, setBusy] = useState(false)
  const schema = useRequestSchema(route)
  const id = useId()

  const optionSchema = schema?.properties?.options?.properties ?? {}
  const attemptsRange = optionSchema.maxAttempts ?? { minimum: 1, maximum: 5 }
  // a cost budget per run, when this server's request schema offers one
  const budgetField = ["maxCostUsd", "budgetUsd"].find((name) => optionSchema[name])
  const hasOptions = route !== "commentOnIssue"

  const validate = (): Errors => {
    const found: Errors = {}
    if (!REPO.test(repo.trim())) found.repoFullName = 'Enter the repository as "owner/repo".'
    const n = Number(issue)
    if (!Number.isInteger(n) || n < 1) found.issueNumber = "Enter the issue number (a whole number from 1)."
    if (hasOptions) {
      const m = Number(maxAttempts)
      if (!Number.isInteger(m) || m < (attemptsRange.minimum ?? 1) || m > (attemptsRange.maximum ?? 5))
        found["options.maxAttempts"] =
          `Rounds must be a whole number from ${attemptsRange.minimum ?? 1} to ${attemptsRange.maximum ?? 5}.`
      if (budgetField && budget && !(Number(budget) > 0))
        found[`options.${budgetField}`] = "The budget must be a positive amount in USD."
    }
    return found
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setFormError(undefined)
    const found = validate()
    setErrors(found)
    if (Object.keys(found).length > 0) {
      const first = Object.keys(found)[0]
      document.getElementById(`${id}-${first}`)?.focus()
      return
    }
    const base = { repoFullName: repo.trim(), issueNumber: Number(issue) }
    const body =
      route === "commentOnIssue"
        ? { ...base, postToGithub: post, priority }
        : {
            ...base,
            ...(route === "resolveIssue" && planId.trim() ? { planId: planId.trim() } : {}),
            options: {
              createPR,
              maxAttempts: Number(maxAttempts),
              priority,
              ...(route === "autoResolveIssue" ? { postToGitHub: post } : {}),
              ...(budgetField && budget ? { [budgetField]: Number(budget) } : {}),
            },
          }
    setBusy(true)
    try {
      const accepted = await api.start(route, body)
      navigate(`/runs/${accepted.jobId}`)
    } catch (e) {
      if (e instanceof ApiError && e.issues.length > 0) {
        const fromServer: Errors = {}
        for (const issue of e.issues) fromServer[issue.field] = issue.message
        setErrors(fromServer)
      }
      setFormError(e instanceof ApiError ? e.message : String(e))
    } finally {
      setBusy(false)
    }
  }

  const field = (name: string) => ({
    id: `${id}-${name}`,
    "aria-invalid": errors[name] ? true : undefined,
    "aria-describedby": errors[name] ? `${id}-${name}-error` : undefined,
  })
  const fieldError = (name: string) =>
    errors[name] ? (
      <p id={`${id}-${name}-error`} className="field-error">
        <span aria-hidden="true">✗ </span>
        {errors[name]}
      </p>
    ) : null

  return (
    <>
      <h1>Start work</h1>
      <form
        className="card form"
        onSubmit={submit}
        noValidate
        aria-describedby={formError ? `${id}-form-error` : undefined}
      >
        <fieldset>
          <legend>Workflow</legend>
          {WORKFLOWS.map((w) => (
            <label key={w.route} className="choice">
              <input
                type="radio"
                name="workflow"
                value={w.route}
                checked={route === w.route}
                onChange={() => setRoute(w.route)}
              />
              <span>
                <strong>{w.label}</strong> <span className="muted">— {w.hint}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <div className="row">
          <div>
            <label htmlFor={`${id}-repoFullName`}>Repository</label>
            <input
              {...field("repoFullName")}
              value={repo}
              placeholder="owner/repo"
              autoComplete="off"
              onChange={(e) => setRepo(e.target.value)}
            />
            {fieldError("repoFullName")}
          </div>
          <div>
            <label htmlFor={`${id}-issueNumber`}>Issue number</label>
            <input
              {...field("issueNumber")}
              value={issue}
              inputMode="numeric"
              placeholder="12"
              onChange={(e) => setIssue(e.target.value)}
            />
            {fieldError("issueNumber")}
          </div>
        </div>
        <div className="row">
          <div>
            <label htmlFor={`${id}-priority`}>Priority</label>
            <select {...field("priority")} value={priority} onChange={(e) => setPriority(e.target.value)}>
              {["low", "normal", "high", "urgent"].map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </div>
          {hasOptions && (
            <div>
              <label htmlFor={`${id}-options.maxAttempts`}>Repair rounds</label>
              <input
                {...field("options.maxAttempts")}
                value={maxAttempts}
                inputMode="numeric"
                onChange={(e) => setMaxAttempts(e.target.value)}
              />
              {fieldError("options.maxAttempts")}
            </div>
          )}
          {hasOptions && budgetField && (
            <div>
              <label htmlFor={`${id}-options.${budgetField}`}>Budget (USD)</label>
              <input
                {...field(`options.${budgetField}`)}
                value={budget}
                inputMode="decimal"
                placeholder="server default"
                onChange={(e) => setBudget(e.target.value)}
              />
              {fieldError(`options.${budgetField}`)}
            </div>
          )}
        </div>
        {route === "resolveIssue" && (
          <div>
            <label htmlFor={`${id}-planId`}>Plan id (optional)</label>
            <input
              {...field("planId")}
              value={planId}
              placeholder="the newest plan"
              onChange={(e) => setPlanId(e.target.value)}
            />
            {fieldError("planId")}
          </div>
        )}
        {hasOptions && (
          <label className="choice">
            <input type="checkbox" checked={createPR} onChange={(e) => setCreatePR(e.target.checked)} /> Open
            a pull request
          </label>
        )}
        {route !== "resolveIssue" && (
          <label className="choice">
            <input type="checkbox" checked={post} onChange={(e) => setPost(e.target.checked)} /> Post the plan
            as a comment on the issue
          </label>
        )}
        {formError && (
          <p role="alert" id={`${id}-form-error`} className="error-text">
            {formError}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Starting…" : "Start"}
        </button>
      </form>
    </>
  )
}
