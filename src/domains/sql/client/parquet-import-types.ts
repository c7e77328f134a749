import { Field, Float64, RecordBatch, Schema, Struct, Table, Type, Utf8, makeData, vectorFromArray, type Int, type List, type Vector } from 'apache-arrow'
import { InvalidArgumentError } from '../../../errors/errors.js'

/**
 * The Parquet types pandas, polars and DuckDB write every day that have no table dtype of their
 * own (docs/tables.md): `importParquet` refused them all ("name one in options.dtypes"), so a file
 * with a TINYINT, a timestamp or a list column could not be imported without naming each column.
 * Each is now given the table dtype that holds its values, unless `dtypes` names one for it:
 *
 * - 8- and 16-bit integers, signed or not: `i32`; unsigned 32- and 64-bit: `i64` (a UBIGINT above
 *   2^63 − 1 is refused by the write, naming the row). Exact.
 * - DATE and TIMESTAMP (any unit, with or without a time zone): `f64`, milliseconds since the epoch,
 *   UTC, as `vault.sql` returns timestamps (a fraction for finer units; `new Date(ms)` reads it).
 * - A list of numbers, strings or booleans: `json`, the list as JSON text (JSON's rules: a NaN or
 *   an infinity in a list is null; a 64-bit integer beyond 2^53 is refused, naming the row).
 *
 * Nullable (`?`) when the column holds a null. Returns the table to write (converted columns
 * replaced, each with its dtype in `labvault.dtype`) and the dtypes to name for the rest.
 */
export function importableTable(table: Table, named: Readonly<Record<string, unknown>>): { table: Table; dtypes: Record<string, unknown> } {
  const dtypes: Record<string, unknown> = { ...named }
  let changed = false
  const fields: Field[] = []
  const columns: Vector[] = []
  table.schema.fields.forEach((field, i) => {
    const vector = table.getChildAt(i)!
    fields.push(field)
    columns.push(vector)
    if (Object.hasOwn(named, field.name) || field.metadata.has('labvault.dtype')) return
    const q = vector.nullCount > 0 ? '?' : ''
    const type = vector.type
    switch (type.typeId as Type) {
      case Type.Int: {
        const { bitWidth, isSigned } = type as Int
        if (bitWidth < 32) dtypes[field.name] = `i32${q}`
        else if (!isSigned) dtypes[field.name] = `i64${q}`
        return
      }
      case Type.Date:
      case Type.Timestamp: {
        // arrow-js reads every date and timestamp unit as milliseconds since the epoch.
        const ms = Array.from({ length: vector.length }, (_, r) => (vector.get(r) as number | null) ?? null)
        replace(i, field, vectorFromArray(ms, new Float64()), `f64${q}`)
        return
      }
      case Type.List: {
        const element = (type as List).children[0]!.type.typeId as Type
        if (element !== Type.Int && element !== Type.Float && element !== Type.Utf8 && element !== Type.LargeUtf8 && element !== Type.Bool) return
        const text = Array.from({ length: vector.length }, (_, r) => {
          const list = vector.get(r) as Vector | null
          return list === null ? null : JSON.stringify(Array.from(list, (v: unknown) => jsonNumber(v, field.name, r)))
        })
        replace(i, field, vectorFromArray(text, new Utf8()), `json${q}`)
        return
      }
      default:
        return
    }
  })
  if (!changed) return { table, dtypes }
  // Built from the fields (not an object of columns): a replaced column's dtype rides in its
  // field's metadata, and a column named `__proto__` stays a column.
  const schema = new Schema(fields, table.schema.metadata)
  const children = columns.map((v) => (v.data.length === 1 ? v.data[0]! : vectorFromArray([...v], v.type).data[0]!))
  return { table: new Table(schema, new RecordBatch(schema, makeData({ type: new Struct(fields), length: table.numRows, nullCount: 0, children }))), dtypes }

  function replace(i: number, field: Field, vector: Vector, dtype: string): void {
    changed = true
    fields[i] = new Field(field.name, vector.type, field.nullable, new Map([...field.metadata, ['labvault.dtype', dtype]]))
    columns[i] = vector
  }
}

/** A list element as JSON holds it: a 64-bit integer as a number when that is exact. */
function jsonNumber(v: unknown, column: string, row: number): unknown {
  if (typeof v !== 'bigint') return v
  if (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(v)
  throw new InvalidArgumentError(`importParquet: column ${JSON.stringify(column)}, row ${row}: the list holds ${v}, beyond what JSON holds exactly; name a dtype for the column in options.dtypes`)
}
