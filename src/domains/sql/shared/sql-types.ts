/**
 * Types both halves of the sql domain use: what a query carries to the engine and what comes back.
 */

/** A value that can be bound to a parameter of a query (`?` or `$1` in the text). */
export type SqlParam = null | undefined | boolean | number | bigint | string | Date | Uint8Array | readonly SqlParam[]

/** Options of `vault.sql(text, options)`. */
export interface SqlOptions {
  /** Values of the query's parameters (`?`, `$1`, …), in order: bound, never spliced into the text. */
  params?: readonly SqlParam[]
  /** Aborting it interrupts the query: the call rejects with StoppedError. */
  signal?: AbortSignal
  /** Interrupt the query after this many milliseconds (StoppedError). Default: no limit. */
  timeoutMs?: number
}

/** What the client sends to the engine for one query. */
export interface SqlRequest {
  text: string
  params: SqlParam[]
  /** Chosen by the client: `cancel(id)` interrupts this query. */
  id: string
  timeoutMs?: number
}

/** A query's result: an Arrow IPC stream (one buffer, transferred). */
export interface SqlResult {
  ipc: Uint8Array
}

/** One relation a query can read, as `databaseClient().describeTables()` lists it. */
export interface SqlRelationInfo {
  /** `main` for the vault-wide relations, `items` for one relation per item list, `col` for one per column. */
  schema: string
  /** The relation's name within its schema (quote it in SQL when it is not a plain identifier). */
  name: string
  /** Its columns in order: name, DuckDB type, and whether it may hold NULL. */
  columns: { name: string; type: string; nullable: boolean }[]
}

/** The most milliseconds `timeoutMs` may be (about 24 days: what setTimeout can wait). */
export const MAX_SQL_TIMEOUT_MS = 2 ** 31 - 1
