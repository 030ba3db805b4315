/** Time and ids, injected so tests control them. */

export interface Clock {
  now(): Date
}

export type NewId = () => string
