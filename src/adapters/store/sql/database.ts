/**
 * The tables of the SQL run store, as Kysely sees them. Column types are what the drivers hand back:
 * better-sqlite3 returns INTEGER as number, while pg returns BIGINT as a string and JSONB already
 * parsed, so reads go through row-mapping.ts, never straight to the domain.
 */
import type { ColumnType, Generated } from "kysely"

/** Epoch milliseconds: INTEGER in SQLite, BIGINT in Postgres (read back as a string there). */
export type Millis = ColumnType<number | string, number, number>
/** JSON: TEXT in SQLite (a string), JSONB in Postgres (a value); written as a JSON string in both. */
export type Json = ColumnType<unknown, string, string>

export interface RunsTable {
  id: string
  type: string
  status: string
  repo_full_name: string
  issue_number: number
  priority: string
  input: Json
  trigger: Json
  attempts: number
  max_attempts: number
  progress: number
  progress_message: string | null
  artifacts: Json
  input_tokens: ColumnType<number | string, number, number>
  output_tokens: ColumnType<number | string, number, number>
  cost_usd: number
  unpriced_model: ColumnType<string | null, string | null | undefined, string | null>
  summary: string | null
  error: string | null
  created_at: Millis
  updated_at: Millis
  started_at: ColumnType<number | string | null, number | null, number | null>
  finished_at: ColumnType<number | string | null, number | null, number | null>
  last_event_seq: Generated<number>
}

export interface RunEventsTable {
  run_id: string
  seq: number
  type: string
  data: Json
  at: Millis
}

export interface ApiTokensTable {
  id: string
  label: string
  hash: string
  created_at: Millis
}

export interface PlansTable {
  id: string
  repo_full_name: string
  issue_number: number
  version: number
  status: string
  body: string
  run_id: string | null
  /** GitHub comment ids outgrow 32 bits: BIGINT in Postgres */
  comment_id: ColumnType<number | string | null, number | null, number | null>
  comment_url: string | null
  created_at: Millis
  updated_at: Millis
}

export interface WebhookDeliveriesTable {
  delivery_id: string
  event: string
  received_at: Millis
  run_id: string | null
}

export interface SecretsTable {
  name: string
  /** `v1:` + base64(iv | tag | AES-256-GCM ciphertext); never the plain value */
  value: string
  created_at: Millis
  updated_at: Millis
}

export interface RepoSettingsTable {
  repo_full_name: string
  settings: Json
  updated_at: Millis
}

export interface Database {
  runs: RunsTable
  run_events: RunEventsTable
  api_tokens: ApiTokensTable
  plans: PlansTable
  webhook_deliveries: WebhookDeliveriesTable
  secrets: SecretsTable
  repo_settings: RepoSettingsTable
}

export type SqlDialectName = "sqlite" | "postgres"
