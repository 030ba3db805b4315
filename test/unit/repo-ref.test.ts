import { describe, expect, it } from "vitest"
import { ValidationError } from "#domain/errors.js"
import { isRepoFullName, parseIssueRef, parseRepoRef } from "#domain/repo-ref.js"

describe("RepoRef / IssueRef", () => {
  it.each(["octocat/hello-world", "a/b", "my-org/repo.js", "A1/x_y-z.v2"])("accepts %s", (name) => {
    expect(isRepoFullName(name)).toBe(true)
  })

  it.each([
    "octocat",
    "a/b/c",
    "/b",
    "a/",
    "-a/b",
    "a--b/c",
    "a/..",
    "a/.",
    "o wner/r",
    "a/b c",
    `${"x".repeat(40)}/r`,
  ])("refuses %s", (name) => {
    expect(isRepoFullName(name)).toBe(false)
    expect(() => parseRepoRef(name)).toThrow(ValidationError)
  })

  it("splits owner and name", () => {
    expect(parseRepoRef("octocat/hello-world")).toEqual({
      owner: "octocat",
      name: "hello-world",
      fullName: "octocat/hello-world",
    })
  })

  it("parses owner/repo#N, owner/repo/issues/N and issue URLs", () => {
    expect(parseIssueRef("o/r#12")).toMatchObject({ repo: { fullName: "o/r" }, number: 12 })
    expect(parseIssueRef("o/r/issues/7").number).toBe(7)
    expect(parseIssueRef("https://github.com/o/r/issues/3")).toMatchObject({
      repo: { fullName: "o/r" },
      number: 3,
    })
  })

  it("names the field and the expected shape when the issue is malformed", () => {
    const error = (() => {
      try {
        parseIssueRef("o/r#0", "<issue>")
      } catch (e) {
        return e as ValidationError
      }
    })()
    expect(error).toBeInstanceOf(ValidationError)
    expect(error?.issues[0]?.field).toBe("<issue>")
    expect(() => parseIssueRef("just-text")).toThrow(/owner\/repo#12/)
  })
})
