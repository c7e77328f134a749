import {
  Binary, Bool, Field, Float32, Float64, Int64, List, Table, TimestampMillisecond, Utf8, makeData, makeVector, tableToIPC, vectorFromArray,
  type DataType, type Vector,
} from 'apache-arrow'
import type { ColumnValues, RelationDef, SqlColumnType } from './relations/relation.js'
import { utf8Vector } from '../../../codec/arrow-utf8.js'

/** The Arrow type that feeds each DuckDB column type. */
function arrowType(type: SqlColumnType): DataType {
  switch (type) {
    case 'VARCHAR':
      return new Utf8()
    case 'BIGINT':
      return new Int64()
    case 'DOUBLE':
      return new Float64()
    case 'BOOLEAN':
      return new Bool()
    case 'BLOB':
      return new Binary()
    case 'TIMESTAMP':
      return new TimestampMillisecond()
    case 'FLOAT[]':
      return new List(new Field('item', new Float32(), true))
    case 'DOUBLE[]':
      return new List(new Field('item', new Float64(), true))
    case 'BIGINT[]':
      return new List(new Field('item', new Int64(), true))
    case 'VARCHAR[]':
      return new List(new Field('item', new Utf8(), true))
  }
}

function toBigInt(v: unknown): bigint | null {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint') return v
  return BigInt(Math.trunc(v as number))
}

function vectorOf(type: SqlColumnType, values: ArrayLike<unknown>): Vector {
  if (type === 'DOUBLE' && values instanceof Float64Array) return vectorFromArray(values)
  if (type === 'VARCHAR') return utf8Vector(values as ArrayLike<string | null>)
  if (type === 'BIGINT') return vectorFromArray(Array.from(values, toBigInt), new Int64())
  if (type === 'BIGINT[]') return vectorFromArray(Array.from(values, (l) => (l == null ? null : Array.from(l as ArrayLike<unknown>, toBigInt))), arrowType(type))
  const list = Array.isArray(values) ? values : Array.from(values)
  return vectorFromArray(list.map((v) => (v === undefined ? null : v)), arrowType(type))
}

/** Rows as an Arrow IPC stream with the relation's columns, in order. */
export function rowsToIpc(def: RelationDef, rows: ColumnValues): Uint8Array {
  const vectors: Record<string, Vector> = {}
  // defineProperty, and only own values read: a column named `__proto__` is a column, not the prototype.
  for (const c of def.columns) {
    const values = Object.hasOwn(rows, c.name) ? rows[c.name]! : []
    Object.defineProperty(vectors, c.name, { value: vectorOf(c.type, values), enumerable: true, writable: true, configurable: true })
  }
  return tableToIPC(new Table(vectors), 'stream')
}

/** A double-quoted DuckDB identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** `CREATE OR REPLACE TABLE` for a relation. */
export function createTableSql(def: RelationDef): string {
  const cols = def.columns.map((c) => `${ident(c.name)} ${c.type}`).join(', ')
  return `CREATE OR REPLACE TABLE ${ident(def.schema)}.${ident(def.name)} (${cols})`
}
