import type { Field, Table } from 'apache-arrow'
import { InvalidArgumentError } from '../../../errors/errors.js'
import type { SqlOptions, SqlParam, SqlRelationInfo } from '../shared/sql-types.js'
import { escapeIdentifier, queryTag } from '../shared/sql-tag.js'

/** A column as notebooks describe it (Observable's types: number, integer, bigint, string, boolean, date, buffer, array, object, other). */
export interface DatabaseColumn {
  /** The column's name in the result. */
  name: string
  /** What its values are in JavaScript (Observable's DatabaseClient types). */
  type: 'number' | 'integer' | 'bigint' | 'string' | 'boolean' | 'date' | 'buffer' | 'array' | 'object' | 'other'
  /** Whether it may hold null. */
  nullable: boolean
  /** The type as DuckDB (or Arrow) names it. */
  databaseType: string
}

/** A row of a result: column name → value (timestamps and dates as Date, lists as arrays). */
export type DatabaseRow = Record<string, unknown>

/** The rows of `query()`: an array with the result's `schema` and `columns`, as Observable's clients return. */
export type DatabaseRows = DatabaseRow[] & { schema: DatabaseColumn[]; columns: string[] }

/** `queryStream()`: rows as they come, with the schema known first. */
export interface DatabaseRowStream extends AsyncIterable<DatabaseRow> {
  /** The result's columns in order. */
  schema: DatabaseColumn[]
  /** Batches of rows (Observable Framework's `readRows`). */
  readRows(): AsyncGenerator<DatabaseRow[]>
}

/** Arrow type ids (apache-arrow's `Type` enum) this client names. */
const ARROW = { Int: 2, Float: 3, Binary: 4, Utf8: 5, Bool: 6, Decimal: 7, Date: 8, Time: 9, Timestamp: 10, List: 12, Struct: 13, FixedSizeList: 16, Map: 17 } as const

function columnOf(field: Field): DatabaseColumn {
  const t = field.type as { typeId: number; bitWidth?: number }
  const type: DatabaseColumn['type'] =
    t.typeId === ARROW.Int ? (t.bitWidth === 64 ? 'bigint' : 'integer')
    : t.typeId === ARROW.Float || t.typeId === ARROW.Decimal ? 'number'
    : t.typeId === ARROW.Utf8 ? 'string'
    : t.typeId === ARROW.Bool ? 'boolean'
    : t.typeId === ARROW.Date || t.typeId === ARROW.Timestamp ? 'date'
    : t.typeId === ARROW.Binary ? 'buffer'
    : t.typeId === ARROW.List || t.typeId === ARROW.FixedSizeList ? 'array'
    : t.typeId === ARROW.Struct || t.typeId === ARROW.Map ? 'object'
    : 'other'
  return { name: field.name, type, nullable: field.nullable, databaseType: String(field.type) }
}

const TYPE_OF_SQL: Record<string, DatabaseColumn['type']> = {
  VARCHAR: 'string', BIGINT: 'integer', DOUBLE: 'number', BOOLEAN: 'boolean', BLOB: 'buffer', TIMESTAMP: 'date',
}

/**
 * `key: value` as an own property of `object`. Defined, not assigned: a column, struct field or
 * map key named `__proto__` would otherwise set the object's prototype (to a struct's value) or
 * be dropped (any other value), though `schema` and `columns` list it.
 */
function put(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
}

/** A cell as a notebook expects it. */
function plain(value: unknown, column: DatabaseColumn): unknown {
  if (value === null || value === undefined) return null
  if (column.type === 'date') return new Date(value as number)
  if (column.type === 'array') return Array.from(value as Iterable<unknown>)
  if (column.type === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // A struct or map row iterates its [key, value] pairs (its own toJSON assigns them).
    const object: Record<string, unknown> = {}
    for (const [key, v] of value as Iterable<[unknown, unknown]>) put(object, String(key), v)
    return object
  }
  return value
}

function rowsOf(table: Table, schema: DatabaseColumn[]): DatabaseRow[] {
  const children = schema.map((_, i) => table.getChildAt(i)!)
  const rows: DatabaseRow[] = new Array(table.numRows)
  for (let r = 0; r < table.numRows; r++) {
    const row: DatabaseRow = {}
    for (let c = 0; c < schema.length; c++) put(row, schema[c]!.name, plain(children[c]!.get(r), schema[c]!))
    rows[r] = row
  }
  return rows
}

/** Rows per batch of `queryStream`. */
const STREAM_BATCH = 1024

/**
 * A database client in the shape notebooks expect (Observable's DatabaseClient: SQL cells and
 * `Inputs.table` call it): `query`, `queryRow`, `queryStream`, the `sql` tagged template,
 * `queryTag`, `escape`, `describeTables`, `describeColumns`. Get it with `vault.databaseClient()`.
 */
export class DatabaseClient {
  /** The SQL dialect, which notebooks read to pick their syntax and quoting. */
  readonly dialect = 'duckdb'

  /** @internal */
  constructor(
    private readonly run: (text: string, options: SqlOptions) => Promise<Table>,
    private readonly relations: () => Promise<SqlRelationInfo[]>,
  ) {}

  /** Rows of a query, with `schema` and `columns`. `params` bind its `?` placeholders. */
  async query(text: string, params?: readonly SqlParam[], options: { signal?: AbortSignal } = {}): Promise<DatabaseRows> {
    const table = await this.run(text, { ...(params ? { params } : {}), ...(options?.signal ? { signal: options.signal } : {}) })
    const schema = table.schema.fields.map(columnOf)
    const rows = rowsOf(table, schema) as DatabaseRows
    rows.schema = schema
    rows.columns = schema.map((c) => c.name)
    return rows
  }

  /** The first row of a query, or null when it has none. */
  async queryRow(text: string, params?: readonly SqlParam[], options: { signal?: AbortSignal } = {}): Promise<DatabaseRow | null> {
    const rows = await this.query(text, params, options)
    return rows[0] ?? null
  }

  /** A query's rows as an async iterator (with `schema`, and `readRows()` for batches). */
  async queryStream(text: string, params?: readonly SqlParam[], options: { signal?: AbortSignal } = {}): Promise<DatabaseRowStream> {
    const rows = await this.query(text, params, options)
    const schema = rows.schema
    return {
      schema,
      async *readRows() {
        for (let i = 0; i < rows.length; i += STREAM_BATCH) yield rows.slice(i, i + STREAM_BATCH)
      },
      async *[Symbol.asyncIterator]() {
        yield* rows
      },
    }
  }

  /** ``db.sql`SELECT … ${x}` ``: rows, each `${value}` a bound parameter. */
  sql(strings: TemplateStringsArray, ...values: SqlParam[]): Promise<DatabaseRows> {
    return this.query(...this.queryTag(strings, ...values))
  }

  /** The text and parameters of a tagged template (Observable's SQL cells call this). */
  queryTag(strings: TemplateStringsArray, ...values: SqlParam[]): [string, SqlParam[]] {
    return queryTag(strings, values)
  }

  /** A name quoted as a DuckDB identifier. */
  escape(name: string): string {
    return escapeIdentifier(name)
  }

  /** Every relation a query can read: `{ name }` for the vault-wide ones, `{ schema, name }` for per-list and per-column ones. */
  async describeTables(): Promise<{ name: string; schema?: string }[]> {
    return (await this.relations()).map((r) => (r.schema === 'main' ? { name: r.name } : { schema: r.schema, name: r.name }))
  }

  /** The columns of one relation (`{ table, schema }`, schema `main` by default). */
  async describeColumns({ table, schema = 'main' }: { table?: string; schema?: string } = {}): Promise<DatabaseColumn[]> {
    if (typeof table !== 'string' || table === '') throw new InvalidArgumentError('describeColumns needs { table }: the name of a relation')
    const relation = (await this.relations()).find((r) => r.schema === schema && r.name === table)
    if (!relation) throw new InvalidArgumentError(`describeColumns: there is no relation ${schema === 'main' ? '' : `${schema}.`}${table}`)
    return relation.columns.map((c) => ({ name: c.name, type: TYPE_OF_SQL[c.type] ?? (c.type.endsWith('[]') ? 'array' : 'other'), nullable: c.nullable, databaseType: c.type }))
  }
}
