import {
  Binary, Bool, Field, Float32, Float64, Int64, List, Table, TimestampMillisecond, Utf8, makeData, makeVector, tableToIPC, vectorFromArray,
  type DataType, type Vector,
} from 'apache-arrow'
import type { ColumnValues, RelationDef, SqlColumnType } from './relations/relation.js'

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

const encoder = new TextEncoder()

/** Bytes of a string in UTF-8 as TextEncoder writes it (a lone surrogate becomes U+FFFD, 3 bytes). */
function utf8Length(str: string): number {
  let len = 0
  for (let j = 0; j < str.length; j++) {
    const c = str.charCodeAt(j)
    if (c < 0x80) len += 1
    else if (c < 0x800) len += 2
    else if (c >= 0xd800 && c < 0xdc00 && j + 1 < str.length && (str.charCodeAt(j + 1) & 0xfc00) === 0xdc00) {
      len += 4
      j++
    } else len += 3
  }
  return len
}

/**
 * A VARCHAR column as an Arrow Utf8 vector, written directly: arrow-js's builder encodes each string
 * with its own TextEncoder call and grows its buffers as it goes (a third of the time of loading a
 * 100k-row record list, measured). Lengths first, then ASCII copied by a loop and the rest encoded in place.
 */
function utf8Vector(values: ArrayLike<unknown>): Vector {
  const n = values.length
  const offsets = new Int32Array(n + 1)
  const validity = new Uint8Array((n + 7) >> 3)
  let nulls = 0
  let total = 0
  for (let i = 0; i < n; i++) {
    const v = values[i]
    if (v === null || v === undefined) {
      nulls++
    } else {
      validity[i >> 3]! |= 1 << (i & 7)
      total += utf8Length(v as string)
    }
    offsets[i + 1] = total
  }
  const data = new Uint8Array(total)
  for (let i = 0; i < n; i++) {
    const v = values[i]
    if (v === null || v === undefined) continue
    const str = v as string
    let at = offsets[i]!
    const end = offsets[i + 1]!
    if (end - at === str.length) {
      for (let j = 0; j < str.length; j++) data[at++] = str.charCodeAt(j)
    } else {
      encoder.encodeInto(str, data.subarray(at, end))
    }
  }
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount: nulls, valueOffsets: offsets, data, nullBitmap: nulls > 0 ? validity : undefined }))
}

function vectorOf(type: SqlColumnType, values: ArrayLike<unknown>): Vector {
  if (type === 'DOUBLE' && values instanceof Float64Array) return vectorFromArray(values)
  if (type === 'VARCHAR') return utf8Vector(values)
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
