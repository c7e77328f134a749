import { Float64, Int32, Table, TimestampMillisecond, makeData, makeVector, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow'
import type { SqlValue } from '../../../sqlite/sqlite-database.js'
import { utf8Vector } from '../../../codec/arrow-utf8.js'

/** How a result column becomes Arrow: text, float64, int32, JSON (kept as its text), a time (ISO text → ms). */
export type ColumnType = 'utf8' | 'f64' | 'i32' | 'json' | 'date'

/** One column of a result: its name in the table, its type, and its index in the SQL row. */
export interface ResultColumn {
  name: string
  type: ColumnType
}

/**
 * SQL rows as an Arrow IPC stream (one buffer that crosses the worker by transfer; the client reads
 * it with `tableFromIPC`). Column `i` of the table is value `i` of each row.
 */
export function rowsToIpc(columns: readonly ResultColumn[], rows: SqlValue[][]): Uint8Array {
  const vectors: Record<string, Vector> = {}
  columns.forEach((c, i) => {
    // defineProperty: a column named `__proto__` is a column, not the record's prototype.
    Object.defineProperty(vectors, c.name, { value: c.type === 'date' ? dateVector(rows, i) : columnVector(c.type, rows, i), enumerable: true, writable: true, configurable: true })
  })
  return tableToIPC(new Table(vectors), 'stream')
}

/**
 * A time column (ISO text → epoch ms). Few per result: arrow-js's builder does it. A text that is
 * no time is null (arrow-js threw a RangeError on its NaN, failing the whole result).
 */
function dateVector(rows: SqlValue[][], i: number): Vector {
  return vectorFromArray(rows.map((r) => {
    const ms = r[i] === null || r[i] === undefined ? NaN : Date.parse(r[i] as string)
    return Number.isNaN(ms) ? null : ms
  }), new TimestampMillisecond()) as Vector
}

/**
 * A text, JSON or number column built straight into Arrow's buffers (src/codec/arrow-utf8.ts for
 * text): arrow-js's builder encoded each string on its own and grew its buffers value by value
 * (100k predictions: 1.7 s of a 3.2 s queryPredictions, most of it there and in the garbage it
 * left). The values are those the builder made: null and undefined are nulls, a bigint is its
 * Number, anything else in a text column is its String (as TextEncoder makes it), and number
 * columns take what a typed array stores. test/node/store-arrow-ipc.test.ts compares both by
 * generation.
 */
function columnVector(type: Exclude<ColumnType, 'date'>, rows: SqlValue[][], i: number): Vector {
  if (type === 'utf8' || type === 'json') return textVector(rows, i)
  const n = rows.length
  let nullBitmap: Uint8Array | undefined
  let nullCount = 0
  const isNull = (row: number, v: unknown) => {
    if (v !== null && v !== undefined) return false
    // Arrow's validity bitmap: a set bit is a value (least significant bit first).
    if (!nullBitmap) (nullBitmap = new Uint8Array((n + 7) >> 3).fill(0xff))
    nullBitmap[row >> 3]! &= ~(1 << (row & 7))
    nullCount++
    return true
  }
  const data = type === 'f64' ? new Float64Array(n) : new Int32Array(n)
  for (let r = 0; r < n; r++) {
    const v = rows[r]![i]
    if (!isNull(r, v)) data[r] = typeof v === 'bigint' ? Number(v) : (v as number)
  }
  if (data instanceof Float64Array) return makeVector(makeData({ type: new Float64(), length: n, nullCount, nullBitmap, data }))
  return makeVector(makeData({ type: new Int32(), length: n, nullCount, nullBitmap, data }))
}

/** A text or JSON column: a string as it is, anything else as its String (a bigint as its Number's). */
function textVector(rows: SqlValue[][], i: number): Vector {
  return utf8Vector(rows.map((r) => {
    const v = r[i]
    return v === null || v === undefined ? null : typeof v === 'string' ? v : String(typeof v === 'bigint' ? Number(v) : v)
  }))
}
