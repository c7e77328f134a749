import { Float64, Int32, Table, TimestampMillisecond, Utf8, tableToIPC, vectorFromArray, type DataType, type Vector } from 'apache-arrow'
import type { SqlValue } from '../../../sqlite/sqlite-database.js'

/** How a result column becomes Arrow: text, float64, int32, JSON (kept as its text), a time (ISO text → ms). */
export type ColumnType = 'utf8' | 'f64' | 'i32' | 'json' | 'date'

/** One column of a result: its name in the table, its type, and its index in the SQL row. */
export interface ResultColumn {
  name: string
  type: ColumnType
}

function arrowType(t: ColumnType): DataType {
  switch (t) {
    case 'utf8':
    case 'json':
      return new Utf8()
    case 'f64':
      return new Float64()
    case 'i32':
      return new Int32()
    case 'date':
      return new TimestampMillisecond()
  }
}

/**
 * SQL rows as an Arrow IPC stream (one buffer that crosses the worker by transfer; the client reads
 * it with `tableFromIPC`). Column `i` of the table is value `i` of each row.
 */
export function rowsToIpc(columns: readonly ResultColumn[], rows: SqlValue[][]): Uint8Array {
  const vectors: Record<string, Vector> = {}
  columns.forEach((c, i) => {
    const values = rows.map((r) => {
      const v = r[i]
      if (v === null || v === undefined) return null
      if (c.type === 'date') return Date.parse(v as string)
      if (typeof v === 'bigint') return Number(v)
      return v
    })
    vectors[c.name] = vectorFromArray(values, arrowType(c.type) as Utf8) as Vector
  })
  return tableToIPC(new Table(vectors), 'stream')
}
