import { InvalidArgumentError } from '../../../errors/errors.js'
import { isWellFormed } from '../../../codec/checks.js'
import { encodeValue, prepareValue } from '../../../codec/value-codec.js'
import { parseDType, type DType } from '../../columns/shared/dtypes.js'
import { typeName } from '../../columns/shared/value-errors.js'

/**
 * Table column dtypes: every column dtype (docs/columns.md, "dtypes") plus `artifact` (the name of
 * a file in the instance's artifact folder), each with a nullable variant written with a trailing
 * `?` (`f64?`, `str:utf8?`). TableVault's pandas dtypes were nullable by default; here a column holds
 * nulls only when its dtype says so, so a builder that forgot a row is caught, not stored. Pandas
 * dtype names are accepted as aliases ({@link PANDAS_DTYPES}).
 */
export interface TableDType {
  /** The canonical string (`f64?`, `str:8:utf8`). */
  readonly name: string
  /** The dtype without `?`. */
  readonly base: string
  readonly nullable: boolean
  /** `artifact`, or the column dtype's kind. */
  readonly kind: DType['kind'] | 'artifact'
  /** The column dtype (undefined for `artifact`). */
  readonly column?: DType
}

const cache = new Map<string, TableDType>()

/**
 * TableVault's pandas dtypes, so its builder files and write() calls port as they are: pandas'
 * capitalised extension types and `string` hold nulls, numpy's lowercase ones do not.
 */
export const PANDAS_DTYPES: Readonly<Record<string, string>> = {
  Int64: 'i64?', Int32: 'i32?', Float64: 'f64?', Float32: 'f32?', boolean: 'bool?', string: 'str:utf8?',
  artifact_string: 'artifact?', object: 'msgpack?', int64: 'i64', int32: 'i32', float64: 'f64', float32: 'f32',
}

/** Parse a table dtype; InvalidArgumentError naming `where` when it is not one. */
export function parseTableDType(spec: unknown, where = 'dtype'): TableDType {
  if (typeof spec !== 'string') throw new InvalidArgumentError(`${where}: a dtype must be a string such as "f64" or "str:utf8?", got ${typeName(spec)}`)
  const hit = cache.get(spec)
  if (hit) return hit
  const text = Object.hasOwn(PANDAS_DTYPES, spec) ? PANDAS_DTYPES[spec]! : spec
  const nullable = text.endsWith('?')
  const base = nullable ? text.slice(0, -1) : text
  let dt: TableDType
  if (base === 'artifact') dt = { name: text, base, nullable, kind: 'artifact' }
  else {
    let column: DType
    try {
      column = parseDType(base)
    } catch (err) {
      throw new InvalidArgumentError(`${where}: ${(err as Error).message} (a table dtype is a column dtype or "artifact", with "?" for nullable, or a pandas dtype such as "Int64" or "string")`)
    }
    // CBOR's codec loads on the page, on demand; tables encode in the engine: msgpack serves there.
    if (column.kind === 'cbor') throw new InvalidArgumentError(`${where}: "${base}" is a column dtype tables do not take; use msgpack for structured values`)
    dt = { name: `${column.name}${nullable ? '?' : ''}`, base: column.name, nullable, kind: column.kind, column }
  }
  cache.set(spec, dt)
  return dt
}

/**
 * The dtype a value suggests when a builder lists none for its column: number → f64, bigint → i64,
 * boolean → bool, string → str:utf8, Uint8Array → bytes, Float32Array → vec:f32, anything else
 * msgpack. Nullable (`?`) since the first value says nothing about later ones being null.
 */
export function inferTableDType(values: ArrayLike<unknown>): TableDType {
  let v: unknown = null
  for (let i = 0; i < values.length && (v === null || v === undefined); i++) v = values[i]
  const base =
    typeof v === 'number' ? 'f64'
    : typeof v === 'bigint' ? 'i64'
    : typeof v === 'boolean' ? 'bool'
    : typeof v === 'string' ? 'str:utf8'
    : v instanceof Uint8Array ? 'bytes'
    : v instanceof Float32Array ? 'vec:f32'
    : 'msgpack'
  return parseTableDType(`${base}?`)
}

// ignoreBOM: a value that begins with U+FEFF keeps it (by default TextDecoder drops it).
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })

/**
 * Check one value against a dtype and return it as stored: what a later reader sees (an i64 given as
 * a safe integer number becomes a bigint, a `str:N` string is cut to N bytes, a vec becomes its typed
 * array). `json` values come back as their JSON text and `msgpack` values as their encoded bytes:
 * that is their Arrow form (table-arrow.ts). InvalidArgumentError naming `where` otherwise.
 */
export function storedValue(dt: TableDType, v: unknown, where: string | (() => string)): unknown {
  // `where` may be a function: the message is built only when a value is refused (this runs per value).
  if (v === null || v === undefined) {
    if (dt.nullable) return null
    throw new InvalidArgumentError(`${at(where)}: ${v === null ? 'null' : 'undefined'} in a column of dtype ${dt.name} (write "${dt.name}?" to allow nulls)`)
  }
  switch (dt.kind) {
    case 'artifact':
      if (typeof v !== 'string' || v.length === 0 || !isWellFormed(v)) {
        throw new InvalidArgumentError(`${at(where)}: an artifact column holds file names (non-empty well-formed strings), got ${typeName(v)}`)
      }
      return v
    case 'f64':
      if (typeof v !== 'number') throw new InvalidArgumentError(`${at(where)}: an f64 column takes numbers, got ${typeName(v)}`)
      return v
    case 'i32':
      // The fast paths of the common dtypes; the rest goes through the column dtype's own check.
      if (typeof v === 'number' && (v | 0) === v) return v
      break
    case 'f32':
      if (typeof v === 'number') return Math.fround(v)
      break
    case 'bool':
      if (typeof v === 'boolean') return v
      break
    case 'str':
      if (dt.base === 'str:utf8' && typeof v === 'string' && isWellFormed(v)) return v
      break
    case 'i64':
      if (typeof v === 'bigint') {
        if (BigInt.asIntN(64, v) !== v) throw new InvalidArgumentError(`${at(where)}: ${v} does not fit in 64 bits`)
        return v
      }
      if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v)
      throw new InvalidArgumentError(`${at(where)}: an i64 column takes bigints or safe integers, got ${typeof v === 'number' ? v : typeName(v)}`)
  }
  const c = dt.column!
  if (c.kind === 'json') {
    const bytes = c.write(v, scratch, scratchView, 0, at(where))!
    return utf8.decode(bytes)
  }
  if (c.kind === 'msgpack') {
    c.write(v, c.elemSize > 0 ? new Uint8Array(c.elemSize) : scratch, scratchView, 0, at(where))
    return encodeValue(prepareValue(v, at(where)))
  }
  let read: unknown
  if (c.elemSize > 0) {
    const out = new Uint8Array(c.elemSize)
    const view = new DataView(out.buffer)
    c.write(v, out, view, 0, at(where))
    read = c.read(out, view, 0, c.elemSize)
  } else {
    const bytes = c.write(v, scratch, scratchView, 0, at(where))!
    read = c.read(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.length)
  }
  // A table stores every str:* column as Arrow Utf8, which cannot hold a lone surrogate: a utf16
  // dtype keeps one in a column (docs/columns.md), but here it would become U+FFFD without a word.
  if (typeof read === 'string' && !isWellFormed(read)) {
    const i = lonePosition(read)
    throw new InvalidArgumentError(`${at(where)}: the string has a lone surrogate (U+${read.charCodeAt(i).toString(16).toUpperCase()}) at position ${i}; a table column stores strings as UTF-8 (Arrow Utf8), which cannot hold it exactly (use a json or msgpack column)`)
  }
  return read
}

/** Where a string that is not well-formed has its first lone surrogate. */
function lonePosition(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++
    else if ((c & 0xf800) === 0xd800) return i
  }
  return -1
}

const at = (where: string | (() => string)): string => (typeof where === 'string' ? where : where())

const scratch = new Uint8Array(0)
const scratchView = new DataView(scratch.buffer)
