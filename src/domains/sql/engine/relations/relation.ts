import type { CallContext } from '../../../../engine/context.js'
import { ErrorCode, VaultError } from '../../../../errors/errors.js'
import { foldCase } from '../../shared/sql-names.js'
import type { EngineChange } from '../../../changes/shared/changes.js'

/**
 * A relation provider: one small module per domain (src/domains/sql/engine/relations/), listed in
 * relations/index.ts. It names the SQLite tables it reads (a commit touching one makes its
 * relations stale) and writes its relations into DuckDB through a {@link RelationSink}.
 */

/** A column's type in DuckDB. */
export type SqlColumnType = 'VARCHAR' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'BLOB' | 'TIMESTAMP' | 'FLOAT[]' | 'DOUBLE[]' | 'BIGINT[]' | 'VARCHAR[]'

/** A column of a relation. */
export interface SqlColumn {
  name: string
  type: SqlColumnType
}

/** A relation as DuckDB holds it: `schema.name` with its columns. */
export interface RelationDef {
  schema: string
  name: string
  columns: SqlColumn[]
}

/** Rows by column: one array (or typed array) of values per column, all of one length. */
export type ColumnValues = Record<string, ArrayLike<unknown>>

/** Where providers write. Each call replaces or extends one relation in DuckDB. */
export interface RelationSink {
  /** Create or replace a relation with these rows. */
  replace(def: RelationDef, rows: ColumnValues, count: number): void
  /** Add rows to a relation this provider made before (same columns). */
  append(def: RelationDef, rows: ColumnValues, count: number): void
  /**
   * Remove from a relation this provider made before every row whose values in the columns of
   * `keys` (a subset of its columns) equal those of one of the `count` rows given (nulls equal
   * nulls). Returns false, removing nothing, when the relation is not there as rows (it failed and
   * is an error view): the provider then replaces it whole.
   */
  remove(def: RelationDef, keys: ColumnValues, count: number): boolean
  /**
   * The relation cannot be made because the vault's data behind it cannot be read now (`err`: a
   * damaged or missing blob, a static host that does not answer): it becomes a view that raises
   * an error naming it and `err`, queries that do not read it run, and the provider runs again
   * from scratch before the next query.
   */
  unreadable(def: RelationDef, err: unknown): void
}

/**
 * Whether `err` is the vault's data failing to be read (CorruptionError, NetworkError), which
 * fails only the relation built from it ({@link RelationSink.unreadable}); any other error ends the
 * refresh, as a closed vault or a bug should.
 */
export function unreadableData(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return VaultError.isVaultError(err) && (code === ErrorCode.CorruptionError || code === ErrorCode.NetworkError)
}

/** One provider of relations. */
export interface RelationProvider<State = unknown> {
  /** Its name (in errors and docs). */
  readonly name: string
  /** SQLite tables it reads: a commit that changes one makes its relations stale. */
  readonly tables: readonly string[]
  /**
   * True when its state stays valid across commits that only INSERT into its tables (it then
   * loads just the new rows): a commit that updates, deletes or replaces rows in one of them
   * (ChangeEvent.rewritten), or a cache file restored behind the vault, drops its state first.
   */
  readonly appendsOnly?: boolean
  /**
   * Bring its relations up to date. `state` is what the last call returned (undefined the first
   * time, or after the relations were lost): a provider may use it to append only new rows. Returns
   * the relations it now provides (others it made before are dropped) and its new state.
   */
  sync(ctx: CallContext, sink: RelationSink, state: State | undefined): Promise<{ relations: RelationDef[]; state: State }>
  /**
   * Follow a commit that touched its tables, before the next sync: returns the state that sync will
   * get, or undefined to load everything again. A provider with this hook keeps its state across
   * such commits (and adds what each says changed); like an append-only provider's, its state is not
   * trusted behind the vault (a cache file restored after commits it did not see).
   */
  follow?(change: EngineChange, state: State | undefined): State | undefined
}

/** ISO time text (as the domains store it) as epoch milliseconds, for TIMESTAMP columns. */
export function isoMs(iso: unknown): number | null {
  if (typeof iso !== 'string') return null
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? null : ms
}

/** A value as JSON text, for values a typed column cannot hold (bigint as number when safe, else text; bytes as arrays). */
export function jsonText(value: unknown): string | null {
  if (value === undefined) return null
  // A bigint as a number when that is exact, else as its decimal text (a typed array's elements too:
  // Number() rounded a BigInt64Array's 2^53 + 1).
  const exact = (x: bigint) => (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString())
  try {
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return exact(v)
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? exact(x) : x))
      if (v instanceof Map) return Object.fromEntries(v)
      if (v instanceof Set) return [...v]
      return v
    }) ?? null
  } catch {
    return null
  }
}

/**
 * Distinct DuckDB column names for a relation's columns `names`, after its own columns `reserved`
 * (DuckDB compares names case-insensitively and refuses a table with two columns of one name; the
 * domains allow fields `a` and `A`). The first column of each name keeps it, as the older list or
 * column keeps its relation; a later one, or one whose name is reserved, gets `<name>_2`, `<name>_3`,
 * …: the first such name no other column has. An empty name counts as `column`. Names are
 * assigned to the columns that keep theirs first, so a renamed column never takes the name of a
 * column that comes after it (fields `a`, `A`, `a_2` become `a`, `A_3`, `a_2`).
 */
export function distinctColumnNames(names: readonly string[], reserved: readonly string[] = []): string[] {
  const own = names.map((name) => (name === '' ? 'column' : name))
  const taken = new Set(reserved.map(foldCase))
  const kept = own.map((name) => {
    const key = foldCase(name)
    if (taken.has(key)) return undefined
    taken.add(key)
    return name
  })
  return kept.map((name, i) => {
    if (name !== undefined) return name
    let n = 2
    while (taken.has(foldCase(`${own[i]}_${n}`))) n++
    taken.add(foldCase(`${own[i]}_${n}`))
    return `${own[i]}_${n}`
  })
}
