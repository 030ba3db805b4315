import type { Context } from "hono"
import { ValidationError } from "#domain/errors.js"

/** The request's JSON body, or a 400 that says what to send. */
export const jsonBody = async (c: Context): Promise<unknown> => {
  try {
    return await c.req.json()
  } catch {
    throw new ValidationError("the request body must be a JSON object (Content-Type: application/json)", [
      { field: "(body)", message: "not valid JSON" },
    ])
  }
}
