import type { DerivedFileHost } from '../../../engine/engine-services.js'
import { DuckDbRuntime, type DuckDbLocation } from './duckdb-runtime.js'
import type { RelationSnapshot } from './relation-store.js'
import type { RelationDef } from './relations/relation.js'
import { sqlLiteral } from './sql-statement.js'
import { ident } from './arrow-rows.js'
import { loadSnapshot } from './relation-snapshot.js'
import { bounded } from './start-steps.js'

/**
 * DuckDB's own database file as a cache of the relations (docs/sql.md, "Cache file"): a reopened
 * vault does not reload unchanged relations. It is derived data: its record (`_labvault.cache`)
 * names the vault (name and creation time) and the log sequence number its relations were made at;
 * a file of another vault, another format, or one DuckDB cannot open is deleted and rebuilt.
 */

/** Version of what the cache file holds; another version is rebuilt. */
// 2: the store's relations have one provider per table.
export const CACHE_FORMAT = 2
const TABLE = '"_labvault".cache'

/** Where the vault stands, from EngineServices.commitPosition. */
export interface CommitPosition {
  vault: string
  seq: number
}

/** JSON that keeps Maps (the providers' states hold some). */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Map ? { $map: [...v.entries()] } : v))
}

function fromJson(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => (v && typeof v === 'object' && Array.isArray((v as { $map?: unknown }).$map) ? new Map((v as { $map: [unknown, unknown][] }).$map) : v))
}

/** What DuckDB's start made of the cache file (refreshStats reports it: tests and the bench tell why a reopen reloaded). */
export type CacheOutcome = 'restored' | 'behind' | 'empty' | 'rebuilt' | 'busy' | 'memory' | 'none'

/** DuckDB opened on the cache file (when this engine may hold it), with what the file says it holds. */
export async function openCached(location: DuckDbLocation, file: DerivedFileHost | undefined, position: CommitPosition): Promise<{ runtime: DuckDbRuntime; restored?: RelationSnapshot; cached: boolean; outcome: CacheOutcome; why?: string }> {
  if (!file || !(await file.acquire().catch(() => false))) return { runtime: await DuckDbRuntime.open(location), cached: false, outcome: 'none' }
  if (file.read) return openSnapshot(location, file, position)
  let runtime: DuckDbRuntime | undefined
  let why: string
  try {
    runtime = await DuckDbRuntime.open(location, file.path)
    const restored = readRecord(runtime, position)
    if (restored) return { runtime, restored, cached: true, outcome: restored.fresh ? 'restored' : 'behind' }
    // A new file, or another vault's, another format's, or made while changes were uncommitted:
    // emptied in place (starting DuckDB again on a fresh file would cost a second start).
    emptyDatabase(runtime)
    return { runtime, cached: true, outcome: 'empty' }
  } catch (err) {
    runtime?.close()
    runtime = undefined
    why = errorText(err)
    // Held by another worker (a tab of another profile's process, a worker still letting it go
    // past the waits of openOpfsHandles): the file is sound, so it is kept; the relations stay in
    // memory for this engine.
    if (isBusy(err)) {
      await file.release().catch(() => {})
      return { runtime: await DuckDbRuntime.open(location), cached: false, outcome: 'busy', why }
    }
    // Damaged (DuckDB cannot open it, or its record cannot be read): rebuilt below.
  }
  try {
    await bounded(file.remove(), 'removing the damaged cache file')
    return { runtime: await DuckDbRuntime.open(location, file.path), cached: true, outcome: 'rebuilt', why }
  } catch (err) {
    await file.release().catch(() => {})
    return { runtime: await DuckDbRuntime.open(location), cached: false, outcome: 'memory', why: `${why}; then ${errorText(err)}` }
  }
}

/** An OPFS file another worker holds an access handle on (the browser's NoModificationAllowedError). */
function isBusy(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'NoModificationAllowedError'
}

function errorText(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown } | null
  return `${typeof e?.name === 'string' ? e.name : 'Error'}: ${typeof e?.message === 'string' ? e.message : String(err)}`
}

/** Node: DuckDB in memory, loaded from labvault's own snapshot file (relation-snapshot.ts). */
async function openSnapshot(location: DuckDbLocation, file: DerivedFileHost, position: CommitPosition): Promise<{ runtime: DuckDbRuntime; restored?: RelationSnapshot; cached: boolean; outcome: CacheOutcome; why?: string }> {
  let runtime: DuckDbRuntime
  try {
    runtime = await DuckDbRuntime.open(location)
  } catch (err) {
    await file.release().catch(() => {})
    throw err
  }
  try {
    const restored = await loadSnapshot(runtime, file, position, CACHE_FORMAT)
    return { runtime, restored, cached: true, outcome: !restored ? 'empty' : restored.fresh ? 'restored' : 'behind' }
  } catch (err) {
    // It parsed but DuckDB refused a part of it: start from an empty DuckDB, derive everything.
    runtime.close()
    return { runtime: await DuckDbRuntime.open(location), cached: true, outcome: 'rebuilt', why: errorText(err) }
  }
}

/** Drop every table of the database file (its relations and record): it is rebuilt from the vault. */
function emptyDatabase(runtime: DuckDbRuntime): void {
  const tables = runtime.rows('SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary')
  if (tables.length === 0) return
  runtime.exec(tables.map((t) => `DROP TABLE IF EXISTS ${ident(String(t.schema_name))}.${ident(String(t.table_name))}`).join('; '))
  runtime.exec('CHECKPOINT')
}

/** The relations a file holds, when it is this vault's, of this format, made from committed data. */
function readRecord(runtime: DuckDbRuntime, position: CommitPosition): RelationSnapshot | undefined {
  const exists = runtime.rows(`SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = '_labvault' AND table_name = 'cache'`)[0]!.n
  if (Number(exists) === 0) return undefined
  const row = runtime.rows(`SELECT format, vault, seq, clean, states, made FROM ${TABLE}`)[0]
  if (!row || Number(row.format) !== CACHE_FORMAT || row.vault !== position.vault || row.clean !== true) return undefined
  const seq = Number(row.seq)
  if (seq > position.seq) return undefined
  return { states: fromJson(row.states as string) as Record<string, unknown>, made: fromJson(row.made as string) as Record<string, RelationDef[]>, fresh: seq === position.seq }
}

/** Record what the file now holds (after a refresh). `position` is where the vault stood before it. */
export function writeRecord(runtime: DuckDbRuntime, position: CommitPosition, snapshot: { states: Record<string, unknown>; made: Record<string, RelationDef[]>; clean: boolean }): void {
  runtime.exec(
    `CREATE SCHEMA IF NOT EXISTS "_labvault"; CREATE OR REPLACE TABLE ${TABLE} AS SELECT ${CACHE_FORMAT} AS format, ${sqlLiteral(position.vault)} AS vault, ` +
      `${sqlLiteral(BigInt(position.seq))} AS seq, ${snapshot.clean ? 'TRUE' : 'FALSE'} AS clean, ${sqlLiteral(toJson(snapshot.states))} AS states, ${sqlLiteral(toJson(snapshot.made))} AS made`,
  )
}
