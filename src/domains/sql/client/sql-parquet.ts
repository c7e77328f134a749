import type { Table } from 'apache-arrow'
import { InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import { readParquet, readParquetRows, writeParquet, type ParquetWriteOptions } from '../../../codec/parquet.js'
import type { Tables } from '../../tables/client/tables.js'
import type { ItemLists } from '../../items/client/item-lists.js'
import type { SqlOptions, SqlRelationInfo } from '../shared/sql-types.js'
import { importableTable } from './parquet-import-types.js'
import { foldCase } from '../shared/sql-names.js'

/** Options of `vault.exportParquet()`: the query's (params, signal, timeoutMs) and the writer's. */
export interface ExportParquetOptions extends SqlOptions {
  /** Parquet writer options: compression (zstd by default), level, rowGroupSize, metadata. */
  parquet?: ParquetWriteOptions
}

/** Options of `vault.importParquet()`. */
export interface ImportParquetOptions {
  /**
   * `table` (default): a materialised instance of the versioned table `name` (created when
   * missing), written with `vault.tables.write`. `records`: the rows appended to the record list
   * `name` (created with the file's columns as fields when missing), one commit.
   */
  into?: 'table' | 'records'
  /** `into: 'table'`: the instance's version (default `base`). */
  version?: string
  /**
   * `into: 'table'`: dtypes of columns by name, as `vault.tables.write` takes them, for a column
   * whose Arrow type names none (a list column: `{ emb: 'vec:f32:384' }` or `'vec:f32'`) or to
   * store one otherwise (`{ id: 'i32' }`).
   */
  dtypes?: Record<string, string>
}

/** What `vault.importParquet()` wrote. */
export interface ImportParquetResult {
  /** How many rows were imported. */
  rows: number
  /** `into: 'table'`: the instance written. */
  instanceId?: string
  /** `into: 'records'`: the index range the rows took in the list. */
  start?: number
  /** `into: 'records'`: after the last record written, exclusive. */
  end?: number
}

// A bare relation name as docs/sql.md lists them: `kv`, `lists`, or `items."runs"` / `col.loss`.
const RELATION = /^\s*(?:([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)\s*$/

function unquote(id: string): string {
  return id.startsWith('"') ? id.slice(1, -1).replace(/""/g, '"') : id
}

/**
 * The SQL to export: a query as given, or, for a relation's name, every row of that relation. A
 * name is looked up among the vault's relations and quoted as an identifier, never spliced as text.
 */
async function exportText(queryOrRelation: unknown, relations: () => Promise<SqlRelationInfo[]>): Promise<{ text: string; loneWord?: string }> {
  if (typeof queryOrRelation !== 'string' || queryOrRelation.trim() === '') {
    throw new InvalidArgumentError('exportParquet takes a query or a relation name (a non-empty string)')
  }
  const m = RELATION.exec(queryOrRelation)
  if (!m) return { text: queryOrRelation }
  const schema = m[1] ?? 'main'
  const name = unquote(m[2]!)
  // DuckDB matches names without regard to ASCII case, quoted or not (`Kv`, `items.runs` for the
  // list `Runs`): so does the lookup, as a query naming the relation would (an exact match first).
  const all = await relations()
  const known = all.find((r) => r.schema === schema && r.name === name) ?? all.find((r) => foldCase(r.schema) === foldCase(schema) && foldCase(r.name) === foldCase(name))
  if (!known) {
    // A lone word that is no relation may still be a statement (e.g. `SHOW`): let DuckDB judge it.
    if (m[1] === undefined && !m[2]!.startsWith('"')) return { text: queryOrRelation, loneWord: name }
    throw new NotFoundError(`no relation ${schema === 'main' ? '' : `${schema}.`}"${name}" in this vault (docs/sql.md lists them)`)
  }
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`
  return { text: `SELECT * FROM ${known.schema === 'main' ? '' : `${quote(known.schema)}.`}${quote(known.name)}` }
}

/** A query's result, or a whole relation, as a Parquet file (zstd pages by default). */
export async function exportParquet(
  sql: (text: string, options: SqlOptions) => Promise<Table>,
  relations: () => Promise<SqlRelationInfo[]>,
  queryOrRelation: unknown,
  options: ExportParquetOptions = {},
): Promise<Uint8Array> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('exportParquet options must be an object')
  const { parquet, ...query } = options
  const { text, loneWord } = await exportText(queryOrRelation, relations)
  const table = await sql(text, query).catch((err: unknown) => {
    // `exportParquet('nope')`: most likely a relation's name misspelt, rather than a query.
    if (loneWord !== undefined && err instanceof InvalidArgumentError && /Parser Error/.test(err.message)) {
      throw new NotFoundError(`no relation "${loneWord}" in this vault, and it is no query either (${err.message}); docs/sql.md lists the relations`, { cause: err })
    }
    throw err
  })
  return writeParquet(table, { ...parquet, metadata: { producer: 'labvault', ...parquet?.metadata } })
}

/** Read a Parquet file into a versioned table's new instance, or append its rows to a record list. */
export async function importParquet(target: { tables: Tables; lists: ItemLists }, name: unknown, bytes: unknown, options: ImportParquetOptions = {}): Promise<ImportParquetResult> {
  if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('importParquet needs the name of the table or record list to write')
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) throw new InvalidArgumentError('importParquet takes the file as a Uint8Array or an ArrayBuffer')
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('importParquet options must be an object')
  // A misspelt option (`dtype`, `versions`) was ignored without a word.
  const unknown = Object.keys(options).find((k) => !['into', 'version', 'dtypes'].includes(k))
  if (unknown !== undefined) throw new InvalidArgumentError(`importParquet: unknown option ${JSON.stringify(unknown)} (it takes into, version and dtypes)`)
  const into = options.into ?? 'table'
  if (into !== 'table' && into !== 'records') throw new InvalidArgumentError(`importParquet: into must be 'table' or 'records', got ${String(into)}`)
  const named: Record<string, unknown> = options.dtypes === undefined ? {} : options.dtypes
  if (named === null || typeof named !== 'object' || Array.isArray(named)) throw new InvalidArgumentError('importParquet: dtypes must be an object of dtypes by column name')
  if (into === 'records' && options.dtypes !== undefined) throw new InvalidArgumentError("importParquet: dtypes applies to into: 'table' (a record list's fields take any value)")
  const file = bytes instanceof Uint8Array ? bytes.slice() : new Uint8Array(bytes.slice(0))
  if (into === 'table') {
    const { table, dtypes } = importableTable(await readParquet(file), named)
    if (table.numRows === 0) throw new InvalidArgumentError(`importParquet: the file has no rows (a table instance cannot be empty)`)
    const created = !(await target.tables.list()).some((t) => t.name === name)
    if (created) await target.tables.create(name)
    const r = await undoing(target.tables.write(name, table, { version: options.version, dtypes } as never), created && (() => target.tables.delete(name)))
    return { rows: table.numRows, instanceId: r.instanceId }
  }
  const rows = await readParquetRows(file)
  if (rows.length === 0) return { rows: 0 }
  const fields = Object.keys(rows[0]!)
  const created = !(await target.lists.has(name))
  const list = created ? await target.lists.create(name, { type: 'record', fields }) : await target.lists.get(name)
  const r = await undoing(list.appendMany(rows as never), created && (() => target.lists.delete(name)))
  return { rows: rows.length, start: r.start, end: r.end }
}

/**
 * `write`'s outcome; when it fails, `undo` (the table or list the import made for it, deleted)
 * runs first: a failed import leaves nothing behind (a table whose columns the engine refused,
 * Uint64 or lists, stayed as an empty table).
 */
async function undoing<T>(write: Promise<T>, undo: false | (() => Promise<unknown>)): Promise<T> {
  try {
    return await write
  } catch (err) {
    if (undo) await undo().catch(() => {})
    throw err
  }
}
