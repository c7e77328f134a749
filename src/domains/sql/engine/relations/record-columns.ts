import { jsonText, type SqlColumnType } from './relation.js'

/**
 * The typed columns of a record list: each field's DuckDB type, inferred from its values (records
 * are free-form msgpack values), and the values converted for it. A field whose values disagree
 * (numbers and strings, nested objects) is JSON text.
 */

/** The type a field's values have, or `NULL` when every value is null. */
export type InferredType = SqlColumnType | 'NULL'

function typeOf(v: unknown): InferredType {
  if (v === null || v === undefined) return 'NULL'
  switch (typeof v) {
    case 'boolean':
      return 'BOOLEAN'
    case 'number':
      return Number.isSafeInteger(v) ? 'BIGINT' : 'DOUBLE'
    case 'bigint':
      return 'BIGINT'
    case 'string':
      return 'VARCHAR'
  }
  if (v instanceof Date) return 'TIMESTAMP'
  if (v instanceof Float32Array) return 'FLOAT[]'
  if (v instanceof Uint8Array) return 'BLOB'
  if (v instanceof Float64Array || (Array.isArray(v) && v.every((x) => typeof x === 'number'))) return 'DOUBLE[]'
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return 'VARCHAR[]'
  return 'VARCHAR'
}

/** The type that holds values of both types (JSON text when nothing narrower does). */
export function mergeTypes(a: InferredType, b: InferredType): InferredType {
  if (a === 'NULL') return b
  if (b === 'NULL' || a === b) return a
  if ((a === 'BIGINT' && b === 'DOUBLE') || (a === 'DOUBLE' && b === 'BIGINT')) return 'DOUBLE'
  return 'VARCHAR'
}

/** Each field's type over these records. */
export function inferFieldTypes(fields: readonly string[], records: readonly unknown[]): InferredType[] {
  return fields.map((f) => {
    let t: InferredType = 'NULL'
    for (const r of records) {
      t = mergeTypes(t, typeOf((r as Record<string, unknown> | null)?.[f]))
      if (t === 'VARCHAR' && typeOf((r as Record<string, unknown> | null)?.[f]) !== 'VARCHAR') break
    }
    return t
  })
}

/** A value as its column of type `type` holds it. */
export function fieldValue(type: SqlColumnType, v: unknown): unknown {
  if (v === null || v === undefined) return null
  switch (type) {
    case 'BIGINT':
      return typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
    case 'DOUBLE':
      return Number(v)
    case 'VARCHAR':
      return typeof v === 'string' ? v : jsonText(v)
    case 'TIMESTAMP':
      return (v as Date).getTime()
    case 'FLOAT[]':
    case 'DOUBLE[]':
      return Array.from(v as ArrayLike<number>)
    default:
      return v
  }
}
