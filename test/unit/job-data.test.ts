import { describe, expect, it } from "vitest"
import {
  AutoResolveIssueJobDataSchema,
  CommentOnIssueJobDataSchema,
  parseWith,
  requestSchemaFor,
} from "#application/job-data.js"
import { ValidationError } from "#domain/errors.js"

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
})
