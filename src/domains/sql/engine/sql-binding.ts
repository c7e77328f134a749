import {
  Binary, Bool, Field, Float64, Int32, Int64, List, Null, Table, TimestampMillisecond, Utf8, tableToIPC, vectorFromArray,
  type DataType, type Vector,
} from 'apache-arrow'
import { InvalidArgumentError } from '../../../errors/errors.js'
import type { SqlParam } from '../shared/sql-types.js'

/**
 * How a query's parameters reach DuckDB: as data, never as text. The values travel as one Arrow
 * row (`_labvault.params`, column `p<i>` per parameter, each with its exact type: Int64 for
 * bigints, Utf8 for any string, NUL included, Binary for bytes, timestamps for Dates, lists), are
 * copied into DuckDB variables, and the prepared user text is executed with them bound to its
 * placeholders: `EXECUTE q(getvariable('labvault_p0'), …)`. Only fixed text (names, casts) is
 * ever written around the user's text.
 *
 * Why not duckdb-wasm's `conn.prepare(text).query(...args)`: it sends the arguments as JSON, so
 * every number becomes a DOUBLE (`42` binds as 42.0), a bigint cannot be sent at all (JSON.stringify
 * throws), a Date becomes text and bytes an error; and it runs to completion, so `timeoutMs` and
 * `signal` could not interrupt it. `EXECUTE` runs as a pending query that can be interrupted.
 */

/** A parameter's Arrow type (what carries it) and DuckDB type (what it is cast to, fixed text). */
interface ParamType {
  arrow: DataType
  duck: string
  /** The value as the Arrow builder takes it. */
  convert(value: unknown): unknown
  /** A list's element type. */
  element?: ParamType
}

const NULL: ParamType = { arrow: new Null(), duck: '', convert: () => null }
const BOOL: ParamType = { arrow: new Bool(), duck: 'BOOLEAN', convert: (v) => v }
const INT: ParamType = { arrow: new Int32(), duck: 'INTEGER', convert: (v) => v }
const BIGINT: ParamType = { arrow: new Int64(), duck: 'BIGINT', convert: (v) => (typeof v === 'bigint' ? v : BigInt(v as number)) }
// A bigint beyond 64 bits: carried as its decimal text, cast to DuckDB's 128-bit integer.
const HUGEINT: ParamType = { arrow: new Utf8(), duck: 'HUGEINT', convert: (v) => String(v) }
const DOUBLE: ParamType = { arrow: new Float64(), duck: 'DOUBLE', convert: (v) => v }
const VARCHAR: ParamType = { arrow: new Utf8(), duck: 'VARCHAR', convert: (v) => v }
const BLOB: ParamType = { arrow: new Binary(), duck: 'BLOB', convert: (v) => v }
const TIMESTAMP: ParamType = { arrow: new TimestampMillisecond(), duck: 'TIMESTAMP', convert: (v) => (v as Date).getTime() }

const INT32_MIN = -(2 ** 31)
const INT32_MAX = 2 ** 31 - 1

/** The type of one scalar value (as DuckDB types the same constant: 42 INTEGER, 2^40 BIGINT, 0.5 DOUBLE). */
function scalarType(value: unknown): ParamType | 'list' {
  if (value === null || value === undefined) return NULL
  switch (typeof value) {
    case 'boolean':
      return BOOL
    case 'number':
      if (Number.isSafeInteger(value) && !Object.is(value, -0)) return value >= INT32_MIN && value <= INT32_MAX ? INT : BIGINT
      return DOUBLE
    case 'bigint':
      return value >= -(2n ** 63n) && value < 2n ** 63n ? BIGINT : HUGEINT
    case 'string':
      return VARCHAR
  }
  if (value instanceof Date) return TIMESTAMP
  if (value instanceof Uint8Array) return BLOB
  return 'list'
}

/** Two element types as one (INTEGER and BIGINT widen; a null fits any), or undefined when they differ. */
function unify(a: ParamType, b: ParamType): ParamType | undefined {
  if (a === NULL) return b
  if (b === NULL || a === b) return a
  if (a.duck === b.duck) return a
  if (a.element && b.element) {
    const inner = unify(a.element, b.element)
    return inner ? listOf(inner) : undefined
  }
  const ints = [INT, BIGINT]
  if (ints.includes(a) && ints.includes(b)) return BIGINT
  if ((ints.includes(a) || a === DOUBLE) && (ints.includes(b) || b === DOUBLE)) return DOUBLE
  if ((a === HUGEINT && (b === BIGINT || b === INT)) || (b === HUGEINT && (a === BIGINT || a === INT))) return HUGEINT
  return undefined
}

/** The type of a parameter (a list's elements must share one type). */
function paramType(value: unknown, where: string): ParamType {
  return settled(elementsType(value, where))
}

/**
 * The type of a value, where an empty list (or one of nulls only) has elements of no type yet:
 * it fits a list of any type beside it (`[[[1]], []]` is INTEGER[][][]; the empty list was typed
 * INTEGER[] at once, and that list refused as mixing types).
 */
function elementsType(value: unknown, where: string): ParamType {
  const scalar = scalarType(value)
  if (scalar !== 'list') return scalar
  let element: ParamType = NULL
  ;(value as unknown[]).forEach((v, i) => {
    const t = elementsType(v, `${where}[${i}]`)
    const joined = unify(element, t)
    if (!joined) throw new InvalidArgumentError(`${where} mixes ${settled(element).duck} and ${settled(t).duck || 'NULL'} elements at [${i}]: a list's elements must share one type`)
    element = joined
  })
  return listOf(element)
}

/** Lists whose elements have no type yet get DuckDB's own type for `[]`: INTEGER[]. */
function settled(type: ParamType): ParamType {
  if (!type.element) return type
  return listOf(type.element === NULL ? INT : settled(type.element))
}

function listOf(inner: ParamType): ParamType {
  return {
    arrow: new List(new Field('item', inner.arrow, true)),
    duck: `${inner.duck}[]`,
    // Array.from, not map: a hole in a sparse array is a null (map skipped it and it bound as 0).
    convert: (v) => (v == null ? null : Array.from(v as unknown[], (x) => (x == null ? null : inner.convert(x)))),
    element: inner,
  }
}

// A double inside a list, carried as its shortest round-trip text (`-0` for −0). DuckDB turns
// −0.0 into 0.0 in a list that goes through a scalar subquery (`SET VARIABLE v = (SELECT …)`, as
// every parameter does), though not at the top: `[-0]` was bound as `[0]`. The text list is
// cast to DOUBLE[] where EXECUTE takes it, an expression, which keeps the sign.
const DOUBLE_TEXT: ParamType = { arrow: new Utf8(), duck: 'VARCHAR', convert: (v) => (Object.is(v, -0) ? '-0' : String(v)) }

/** `type` with the doubles of its (nested) list elements as text; undefined when it holds none. */
function doublesAsText(type: ParamType): ParamType | undefined {
  if (!type.element) return undefined
  if (type.element === DOUBLE) return listOf(DOUBLE_TEXT)
  const inner = doublesAsText(type.element)
  return inner && listOf(inner)
}

/**
 * The parameters as one Arrow row (IPC stream), the fixed text that reads each one back from it,
 * and the type each is cast to where EXECUTE takes it (when it is not read as itself).
 */
export function paramsRow(params: readonly SqlParam[]): { ipc: Uint8Array; reads: string[]; casts: (string | undefined)[] } {
  const vectors: Record<string, Vector> = {}
  const reads: string[] = []
  const casts: (string | undefined)[] = []
  params.forEach((value, i) => {
    const type = paramType(value, `sql: params[${i}]`)
    const carried = doublesAsText(type)
    const name = `p${i}`
    vectors[name] = vectorFromArray([value == null ? null : (carried ?? type).convert(value)], (carried ?? type).arrow)
    // A null is the constant NULL (typed by its use, as DuckDB types `?` bound to NULL).
    reads.push(type === NULL ? 'NULL' : `${name}::${(carried ?? type).duck}`)
    casts.push(carried && type.duck)
  })
  return { ipc: tableToIPC(new Table(vectors), 'stream'), reads, casts }
}

/** Name of the DuckDB variable holding parameter `i`. */
export function paramVariable(i: number): string {
  return `labvault_p${i}`
}
