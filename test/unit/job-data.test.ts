import { describe, expect, it } from "vitest"
import {
  AutoResolveIssueJobDataSchema,
  CommentOnIssueJobDataSchema,
  enqueueRequestOf,
  parseJobData,
  parseWith,
  requestSchemaFor,
  waitReasonOf,
} from "#application/job-data.js"
import { ValidationError } from "#domain/errors.js"
import type { WorkflowRun } from "#domain/workflow-run.js"

const jobId = "0b9f6f0e-7c55-4f55-9d7e-2f5b8f0c1a2b"

describe("job DTOs", () => {
  it("applies the seed note's defaults", () => {
    expect(
      parseWith(CommentOnIssueJobDataSchema, { repoFullName: "o/r", issueNumber: 1, jobId }, "x"),
    ).toEqual({
      repoFullName: "o/r",
      issueNumber: 1,
      jobId,
      postToGitHub: true,
      priority: "normal",
    })
    expect(
      parseWith(AutoResolveIssueJobDataSchema, { repoFullName: "o/r", issueNumber: 1, jobId }, "x").options,
    ).toEqual({
      createPR: true,
      postToGitHub: false,
      maxAttempts: 3,
      priority: "normal",
    })
  })

  it("refuses a secret-bearing field by name, without echoing its value", () => {
    try {
      parseWith(
        requestSchemaFor("comment-on-issue"),
        { repoFullName: "o/r", issueNumber: 1, apiKey: "sk-live-xyz" },
        "request",
      )
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).issues[0]?.field).toBe("apiKey")
      expect((error as Error).message).toMatch(/secrets are configured on the server/)
      expect((error as Error).message).not.toContain("sk-live-xyz")
    }
  })

  it("names every bad field", () => {
    try {
      parseWith(
        requestSchemaFor("auto-resolve-issue"),
        { repoFullName: "nope", issueNumber: 1.5, options: { maxAttempts: 9 } },
        "request",
      )
      expect.unreachable()
    } catch (error) {
      expect((error as ValidationError).issues.map((i) => i.field).sort()).toEqual([
        "issueNumber",
        "options.maxAttempts",
        "repoFullName",
      ])
    }
  })

  it("makes jobId optional in requests but not in jobs", () => {
    expect(
      parseWith(requestSchemaFor("comment-on-issue"), { repoFullName: "o/r", issueNumber: 2 }, "r").jobId,
    ).toBeUndefined()
    expect(() =>
      parseWith(CommentOnIssueJobDataSchema, { repoFullName: "o/r", issueNumber: 2 }, "job"),
    ).toThrow(/jobId/)
  })

  // The queue carries opaque payloads; these are the checks it used to run on the job data.
  it("parses a job payload once, naming each bad field, before it is queued", () => {
    const valid = { issueNumber: 7, repoFullName: "octocat/hello-world", jobId }
    const { repoFullName: _dropped, ...withoutRepo } = valid
    const fieldsOf = (value: unknown) => {
      try {
        parseJobData("comment-on-issue", value)
        return []
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError)
        return (error as ValidationError).issues.map((issue) => issue.field)
      }
    }
    expect(fieldsOf(withoutRepo)).toEqual(["repoFullName"])
    expect(fieldsOf({ ...valid, apiKey: "sk-nope" })).toEqual(["apiKey"])
    expect(parseJobData("comment-on-issue", valid)).toEqual({
      ...valid,
      postToGitHub: true,
      priority: "normal",
    })
  })

  it("builds the queue request of a run: its id, priority, attempts and the issue as concurrency key", () => {
    const run = {
      id: jobId,
      type: "comment-on-issue",
      repoFullName: "octocat/hello-world",
      issueNumber: 7,
      priority: "high",
      maxAttempts: 2,
    } as WorkflowRun
    const data = parseJobData("comment-on-issue", {
      issueNumber: 7,
      repoFullName: "octocat/hello-world",
      jobId,
    })
    expect(enqueueRequestOf(run, data)).toEqual({
      type: "comment-on-issue",
      jobId,
      data,
      priority: "high",
      attempts: 2,
      concurrencyKey: "octocat/hello-world#7",
    })
    const other = { ...data, jobId: "5d3c1f0e-7c55-4f55-9d7e-2f5b8f0c1a2b" }
    const error = (() => {
      try {
        enqueueRequestOf(run, other)
      } catch (caught) {
        return caught
      }
    })()
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).issues.map((issue) => issue.field)).toEqual(["data.jobId"])
  })

  it("adds the repository's and the installation's run limits as counted slots; 0 means none", () => {
    const run = {
      id: jobId,
      type: "comment-on-issue",
      repoFullName: "octocat/hello-world",
      issueNumber: 7,
      priority: "normal",
      maxAttempts: 3,
    } as WorkflowRun
    const data = parseJobData("comment-on-issue", {
      issueNumber: 7,
      repoFullName: "octocat/hello-world",
      jobId,
    })
    expect(enqueueRequestOf(run, data, { perRepository: 2, perInstallation: 5 }).limits).toEqual([
      { key: "repo:octocat/hello-world", max: 2 },
      { key: "installation:octocat", max: 5 },
    ])
    expect(enqueueRequestOf(run, data, { perRepository: 0, perInstallation: 5 }).limits).toEqual([
      { key: "installation:octocat", max: 5 },
    ])
    expect(enqueueRequestOf(run, data, { perRepository: 0, perInstallation: 0 })).not.toHaveProperty("limits")
    expect(waitReasonOf({ kind: "limit", key: "installation:octocat", max: 5 })).toEqual({
      reason: "installation-limit",
      limit: 5,
    })
    expect(waitReasonOf({ kind: "limit", key: "repo:octocat/hello-world", max: 2 })).toEqual({
      reason: "repository-limit",
      limit: 2,
    })
    expect(waitReasonOf({ kind: "key", key: "octocat/hello-world#7" })).toEqual({ reason: "issue-active" })
    expect(waitReasonOf({ kind: "workers" })).toEqual({ reason: "workers-busy" })
  })
})
