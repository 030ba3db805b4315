/** `prwright/issue-12-add-clamp-helper`: stable for an issue, so retries and re-runs find their branch and PR. */
export const branchNameFor = (prefix: string, issueNumber: number, title: string): string => {
  const slug = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "")
  const base = prefix.endsWith("/") || prefix === "" ? prefix : `${prefix}/`
  return `${base}issue-${issueNumber}${slug ? `-${slug}` : ""}`
}
