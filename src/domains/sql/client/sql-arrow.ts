import { Float64, Table, Vector, makeData, makeVector, tableFromIPC } from 'apache-arrow'
import { keepingByteOrderMarks } from '../../../codec/keep-bom.js'
import { numericData, numericType } from './sql-numbers.js'
import { keepLeadingBoms } from '../../../codec/arrow-strings.js'

/**
 * A result as users get it. DuckDB's BIGINT (`count(*)`, ids) arrives as Arrow Int64, which
 * arrow-js reads as bigint: a column of BIGINT whose every value is a safe integer (|v| ≤ 2^53 − 1)
 * becomes a Float64 column of the same numbers, exactly; a column holding any larger value stays
 * Int64 (bigint values). DECIMAL, HUGEINT (`sum` over integers) and UHUGEINT, which DuckDB sends
 * as 128-bit integers, become doubles, at any depth (sql-numbers.ts). Timestamps and dates stay
 * Arrow timestamp/date columns, read as epoch milliseconds.
 */
export function resultTable(ipc: Uint8Array): Table {
  // Column and field names keep a leading U+FEFF (keep-bom.ts); values do below (codec/arrow-strings.ts).
  const table = keepingByteOrderMarks(() => tableFromIPC(ipc))
  const fields = table.schema.fields
  const names = new Set(fields.map((f) => f.name))
  // Duplicate column names cannot be rebuilt by name: such a result is returned as DuckDB made it.
  if (names.size !== fields.length) return table
  const replaced = fields.map((f, i): Vector | undefined => {
    const child = table.getChildAt(i)!
    if (f.type.typeId === 2 && (f.type as { bitWidth?: number }).bitWidth === 64) return safeAsNumbers(child)
    let data = child.data
    let changed = false
    const to = numericType(f)
    if (to) {
      data = data.map((d) => numericData(f, to, d))
      changed = true
    }
    const kept = data.map(keepLeadingBoms)
    if (kept.some((k) => k !== undefined)) {
      data = data.map((d, j) => kept[j] ?? d)
      changed = true
    }
    return changed && data.length > 0 ? new Vector(data) : undefined
  })
  if (replaced.every((v) => v === undefined)) return table
  const columns: Record<string, Vector> = {}
  for (let i = 0; i < fields.length; i++) {
    // Defined, not assigned: a column named `__proto__` would set the object's prototype instead
    // (a result with such a column and a BIGINT one overflowed the stack).
    Object.defineProperty(columns, fields[i]!.name, { value: replaced[i] ?? table.getChildAt(i)!, enumerable: true, configurable: true, writable: true })
  }
  return new Table(columns)
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER)

/** The column as doubles when every value is a safe integer; undefined otherwise. */
function safeAsNumbers(column: Vector): Vector | undefined {
  const out = new Float64Array(column.length)
  for (let i = 0; i < column.length; i++) {
    const v = column.get(i) as bigint | null
    if (v === null) continue
    if (v > MAX || v < -MAX) return undefined
    out[i] = Number(v)
  }
  if (column.nullCount === 0) return makeVector(out)
  // Keep the nulls: the same validity bitmap, over the doubles.
  const validity = new Uint8Array(Math.ceil(column.length / 8))
  for (let i = 0; i < column.length; i++) if (column.isValid(i)) validity[i >> 3]! |= 1 << (i & 7)
  return makeVector(makeData({ type: new Float64(), length: column.length, nullCount: column.nullCount, data: out, nullBitmap: validity }))
}
