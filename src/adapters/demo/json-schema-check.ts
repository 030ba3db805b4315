/**
 * A small JSON-schema checker for the scripted model server: enough of draft-07 / 2020-12 to
 * catch a script whose tool arguments drifted from the tool's real schema (types, required,
 * enum, const, additionalProperties, items/prefixItems, anyOf/oneOf, bounds). Written by hand so
 * the messages name the exact field, which is what a failing test needs.
 */
export type JsonSchema = boolean | { [key: string]: unknown }

const typeOf = (value: unknown): string => {
  if (value === null) return "null"
  if (Array.isArray(value)) return "array"
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number"
  return typeof value
}

const typeMatches = (expected: string, value: unknown): boolean => {
  const actual = typeOf(value)
  return actual === expected || (expected === "number" && actual === "integer")
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Returns one message per violation, each starting with the JSON path (`$.view_range[1]`). */
export const checkJsonSchema = (schema: JsonSchema, value: unknown, path = "$"): string[] => {
  if (schema === true) return []
  if (schema === false) return [`${path}: no value is allowed here`]
  const errors: string[] = []
  const type = schema.type
  if (type !== undefined) {
    const types = Array.isArray(type) ? (type as string[]) : [type as string]
    if (!types.some((t) => typeMatches(t, value))) {
      return [`${path}: expected ${types.join(" or ")}, got ${typeOf(value)}`]
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => Object.is(option, value))) {
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`)
  }
  if ("const" in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) {
    errors.push(`${path}: must be ${JSON.stringify(schema.const)}`)
  }
  for (const key of ["anyOf", "oneOf"] as const) {
    const options = schema[key]
    if (Array.isArray(options)) {
      const passing = options.filter(
        (option) => checkJsonSchema(option as JsonSchema, value, path).length === 0,
      )
      if (passing.length === 0 || (key === "oneOf" && passing.length > 1)) {
        errors.push(`${path}: matches ${passing.length} of the ${key} alternatives`)
      }
    }
  }
  if (Array.isArray(schema.allOf)) {
    for (const part of schema.allOf) errors.push(...checkJsonSchema(part as JsonSchema, value, path))
  }
  if (typeof value === "number") errors.push(...checkNumber(schema, value, path))
  if (typeof value === "string") {
    if (typeof schema.minLength === "number" && value.length < schema.minLength) {
      errors.push(`${path}: shorter than ${schema.minLength} characters`)
    }
    if (typeof schema.maxLength === "number" && value.length > schema.maxLength) {
      errors.push(`${path}: longer than ${schema.maxLength} characters`)
    }
  }
  if (Array.isArray(value)) errors.push(...checkArray(schema, value, path))
  if (isObject(value)) errors.push(...checkObject(schema, value, path))
  return errors
}

const checkNumber = (schema: Record<string, unknown>, value: number, path: string): string[] => {
  const errors: string[] = []
  if (typeof schema.minimum === "number" && value < schema.minimum)
    errors.push(`${path}: below ${schema.minimum}`)
  if (typeof schema.maximum === "number" && value > schema.maximum)
    errors.push(`${path}: above ${schema.maximum}`)
  if (typeof schema.exclusiveMinimum === "number" && value <= schema.exclusiveMinimum) {
    errors.push(`${path}: must be above ${schema.exclusiveMinimum}`)
  }
  if (typeof schema.exclusiveMaximum === "number" && value >= schema.exclusiveMaximum) {
    errors.push(`${path}: must be below ${schema.exclusiveMaximum}`)
  }
  return errors
}

const checkArray = (schema: Record<string, unknown>, value: unknown[], path: string): string[] => {
  const errors: string[] = []
  if (typeof schema.minItems === "number" && value.length < schema.minItems) {
    errors.push(`${path}: needs at least ${schema.minItems} items, got ${value.length}`)
  }
  if (typeof schema.maxItems === "number" && value.length > schema.maxItems) {
    errors.push(`${path}: allows at most ${schema.maxItems} items, got ${value.length}`)
  }
  // draft-07 tuples use `items: [...]` + `additionalItems`; 2020-12 uses `prefixItems` + `items`.
  const tuple = Array.isArray(schema.prefixItems)
    ? schema.prefixItems
    : Array.isArray(schema.items)
      ? schema.items
      : undefined
  const rest =
    tuple === undefined ? schema.items : Array.isArray(schema.items) ? schema.additionalItems : schema.items
  value.forEach((item, index) => {
    const itemSchema = tuple !== undefined && index < tuple.length ? tuple[index] : rest
    if (itemSchema !== undefined)
      errors.push(...checkJsonSchema(itemSchema as JsonSchema, item, `${path}[${index}]`))
  })
  return errors
}

const checkObject = (
  schema: Record<string, unknown>,
  value: Record<string, unknown>,
  path: string,
): string[] => {
  const errors: string[] = []
  const properties = isObject(schema.properties) ? schema.properties : {}
  if (Array.isArray(schema.required)) {
    for (const key of schema.required as string[]) {
      if (!(key in value)) errors.push(`${path}.${key}: is required`)
    }
  }
  for (const [key, item] of Object.entries(value)) {
    const propertySchema = properties[key]
    if (propertySchema !== undefined) {
      errors.push(...checkJsonSchema(propertySchema as JsonSchema, item, `${path}.${key}`))
    } else if (schema.additionalProperties === false) {
      errors.push(`${path}.${key}: is not allowed (additionalProperties is false)`)
    } else if (isObject(schema.additionalProperties)) {
      errors.push(...checkJsonSchema(schema.additionalProperties, item, `${path}.${key}`))
    }
  }
  return errors
}
