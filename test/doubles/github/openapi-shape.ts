/**
 * Checks a JSON body against the response schema GitHub publishes (@octokit/openapi, api.github.com):
 * required fields, types, nullability and enums, resolving $ref lazily. Extra fields are allowed, as
 * GitHub adds fields over time. Returns the problems found ("" path = the root).
 */
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"

interface Schema {
  $ref?: string
  type?: string
  nullable?: boolean
  required?: string[]
  properties?: Record<string, Schema>
  items?: Schema
  enum?: unknown[]
  allOf?: Schema[]
  oneOf?: Schema[]
  anyOf?: Schema[]
}

interface Spec {
  paths: Record<string, Record<string, { operationId?: string; responses?: Record<string, unknown> }>>
  components: { schemas: Record<string, Schema> }
}

let spec: Spec | undefined
const loadSpec = (): Spec => {
  if (!spec) {
    const file = createRequire(import.meta.url).resolve("@octokit/openapi/generated/api.github.com.json")
    spec = JSON.parse(readFileSync(file, "utf8")) as Spec
  }
  return spec
}

const resolve = (schema: Schema): Schema => {
  let current = schema
  while (current.$ref) {
    const name = current.$ref.replace("#/components/schemas/", "")
    const next = loadSpec().components.schemas[name]
    if (!next) throw new Error(`openapi: cannot resolve ${current.$ref}`)
    current = next
  }
  return current
}

/** The schema of the `status` response of an operation, e.g. ("issues/get", 200). */
export const responseSchema = (operationId: string, status: number): Schema => {
  for (const operations of Object.values(loadSpec().paths)) {
    for (const operation of Object.values(operations)) {
      if (operation?.operationId !== operationId) continue
      const response = operation.responses?.[String(status)] as
        | { content?: Record<string, { schema?: Schema }> }
        | undefined
      const schema = response?.content?.["application/json"]?.schema
      if (!schema) throw new Error(`openapi: ${operationId} has no JSON ${status} response`)
      return schema
    }
  }
  throw new Error(`openapi: no operation ${operationId}`)
}

const typeOk = (type: string, value: unknown): boolean => {
  switch (type) {
    case "string":
      return typeof value === "string"
    case "integer":
      return Number.isInteger(value)
    case "number":
      return typeof value === "number"
    case "boolean":
      return typeof value === "boolean"
    case "array":
      return Array.isArray(value)
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value)
    default:
      return true
  }
}

export const validateValue = (input: Schema, value: unknown, at = ""): string[] => {
  const schema = resolve(input)
  if (value === null) {
    const branches = [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])].map(resolve)
    if (schema.nullable || branches.some((branch) => branch.nullable)) return []
    return schema.type || schema.properties || branches.length > 0
      ? [`${at || "(root)"}: null is not allowed`]
      : []
  }
  const problems: string[] = []
  for (const part of schema.allOf ?? []) problems.push(...validateValue(part, value, at))
  const alternatives = schema.oneOf ?? schema.anyOf
  if (alternatives && !alternatives.some((branch) => validateValue(branch, value, at).length === 0)) {
    problems.push(`${at || "(root)"}: matches none of the ${alternatives.length} alternatives`)
  }
  if (schema.type && !typeOk(schema.type, value)) {
    return [
      ...problems,
      `${at || "(root)"}: expected ${schema.type}, got ${JSON.stringify(value)?.slice(0, 60)}`,
    ]
  }
  if (schema.enum && !schema.enum.includes(value)) {
    problems.push(`${at || "(root)"}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`)
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, index) => {
      problems.push(...validateValue(schema.items as Schema, item, `${at}[${index}]`))
    })
  }
  if (typeof value === "object" && !Array.isArray(value)) {
    const record = value as Record<string, unknown>
    for (const key of schema.required ?? []) {
      if (!(key in record)) problems.push(`${at ? `${at}.` : ""}${key}: required field is missing`)
    }
    for (const [key, property] of Object.entries(schema.properties ?? {})) {
      if (key in record) problems.push(...validateValue(property, record[key], at ? `${at}.${key}` : key))
    }
  }
  return problems
}

/** Problems of `body` as the `status` response of `operationId`; [] when it fits GitHub's schema. */
export const openApiProblems = (operationId: string, status: number, body: unknown): string[] =>
  validateValue(responseSchema(operationId, status), body)
