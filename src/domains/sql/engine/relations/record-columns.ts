import { jsonText, type SqlColumnType } from './relation.js'

/**
 * The typed columns of a record list: each field's DuckDB type, inferred from its values (records
 * are free-form msgpack values), and the values converted for it. A field whose values disagree
 * (numbers and strings, nested objects) is JSON text.
 */

/**
 * The type a field's values have; `NULL` when every value is null, `LIST` when every list is empty,
 * `INT64` for bigints beyond 2^53 that fit in 64 bits (a BIGINT column, but one no DOUBLE column
 * holds exactly).
 */
export type InferredType = SqlColumnType | 'NULL' | 'LIST' | 'INT64'

const I64_MIN = -(2n ** 63n)
const I64_MAX = 2n ** 63n - 1n
const SAFE = BigInt(Number.MAX_SAFE_INTEGER)

function typeOf(v: unknown): InferredType {
  if (v === null || v === undefined) return 'NULL'
  switch (typeof v) {
    case 'boolean':
      return 'BOOLEAN'
    case 'number':
      // -0 is no integer to DuckDB: a BIGINT column wrote it as 0.
      return Number.isSafeInteger(v) && !Object.is(v, -0) ? 'BIGINT' : 'DOUBLE'
    case 'bigint':
      // A bigint beyond 64 bits was wrapped by the Int64 column (2^63 read as −2^63, 2^70 as 0):
      // JSON text instead. One beyond 2^53 must not be merged into a DOUBLE column (rounded).
      if (v < I64_MIN || v > I64_MAX) return 'VARCHAR'
      return v < -SAFE || v > SAFE ? 'INT64' : 'BIGINT'
    case 'string':
      return 'VARCHAR'
  }
  if (v instanceof Date) return 'TIMESTAMP'
  if (v instanceof Float32Array) return 'FLOAT[]'
  if (v instanceof Uint8Array) return 'BLOB'
  if (Array.isArray(v) && v.length === 0) return 'LIST'
  if (v instanceof Float64Array || (Array.isArray(v) && v.every((x) => typeof x === 'number'))) return 'DOUBLE[]'
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return 'VARCHAR[]'
  return 'VARCHAR'
}

/** The type that holds values of both types (JSON text when nothing narrower does). */
export function mergeTypes(a: InferredType, b: InferredType): InferredType {
  if (a === 'NULL') return b
  if (b === 'NULL' || a === b) return a
  // An empty list fits any list type.
  if (a === 'LIST' && b.endsWith('[]')) return b
  if (b === 'LIST' && a.endsWith('[]')) return a
  if ((a === 'BIGINT' && b === 'DOUBLE') || (a === 'DOUBLE' && b === 'BIGINT')) return 'DOUBLE'
  if ((a === 'BIGINT' && b === 'INT64') || (a === 'INT64' && b === 'BIGINT')) return 'INT64'
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

/** The column type of an inferred type (a field of nulls is VARCHAR, of empty lists VARCHAR[], of INT64 BIGINT). */
export function columnType(t: InferredType): SqlColumnType {
  return t === 'NULL' ? 'VARCHAR' : t === 'LIST' ? 'VARCHAR[]' : t === 'INT64' ? 'BIGINT' : t
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
