import {
  Binary, Bool, Field, FixedSizeBinary, FixedSizeList, Float32, Float64, Int32, Int64, List, RecordBatch, Schema, Table,
  Utf8, DataType, Struct, makeData, makeVector, vectorFromArray, type Vector,
} from 'apache-arrow'
import { keepingLeadingBoms } from '../../../codec/arrow-strings.js'
import { decodeValue } from '../../../codec/value-codec.js'
import { vecArrowType } from '../../columns/shared/vec-arrow.js'
import { parseTableDType, type TableDType } from './table-dtypes.js'
import { boolVector, numericVector, utf8Vector } from './arrow-vectors.js'

/**
 * The Arrow form of table columns. Each field carries its table dtype in the metadata key
 * {@link DTYPE_METADATA}, so a reader turns the Arrow values back into what the builder returned:
 * numbers as Int32/Int64/Float32/Float64, `bool` Bool, `str:*` and `artifact` Utf8, `json` Utf8 (the
 * JSON text), `msgpack` Binary (the encoded bytes), `bytes` Binary, `bytes:N` FixedSizeBinary(N),
 * `vec:T:d…` FixedSizeList<T>(product of d), `vec:T` List<T>.
 */
export const DTYPE_METADATA = 'labvault.dtype'

/** The Arrow type of a table dtype. */
export function arrowTypeOf(dt: TableDType): DataType {
  const c = dt.column
  switch (dt.kind) {
    case 'i32': return new Int32()
    case 'i64': return new Int64()
    case 'f32': return new Float32()
    case 'f64': return new Float64()
    case 'bool': return new Bool()
    case 'artifact':
    case 'str':
    case 'json': return new Utf8()
    case 'msgpack':
    case 'cbor': return new Binary()
    case 'bytes': return c!.elemSize > 0 ? new FixedSizeBinary(c!.elemSize) : new Binary()
    case 'vec': {
      const item = new Field('item', vecArrowType(c!.vec!.name), false)
      return c!.dim === undefined ? new List(item) : new FixedSizeList(c!.dim, item)
    }
  }
}

const numeric = { i32: Int32Array, f32: Float32Array, f64: Float64Array, i64: BigInt64Array } as const

/** An Arrow vector of stored values (from `storedValue`) of one dtype. */
export function storedToVector(dt: TableDType, stored: ArrayLike<unknown>): Vector {
  const kind = dt.kind
  switch (kind) {
    case 'i32':
    case 'f32':
    case 'f64':
    case 'i64':
      // A typed array of the column's own type is the vector's buffer as it is.
      return stored instanceof numeric[kind] ? makeVector(stored as Float64Array) as Vector : numericVector(kind, stored)
    case 'str':
    case 'artifact':
    case 'json':
      return utf8Vector(stored)
    case 'bool':
      return boolVector(stored)
  }
  return vectorFromArray(Array.from(stored), arrowTypeOf(dt)) as Vector
}

/** One column of a table being assembled. */
export interface StoredColumn {
  readonly name: string
  readonly dtype: TableDType
  readonly vector: Vector
}

/** An Arrow Table of columns (equal lengths), each field tagged with its dtype. */
export function columnsToTable(columns: readonly StoredColumn[], numRows: number): Table {
  if (columns.length === 0) return new Table()
  const fields = columns.map((c) => new Field(c.name, c.vector.type, c.dtype.nullable, new Map([[DTYPE_METADATA, c.dtype.name]])))
  const schema = new Schema(fields)
  if (columns.every((c) => c.vector.data.length === 1 && c.vector.length === numRows)) {
    // One chunk each (what a stored column decodes to): one record batch over them, directly.
    const data = makeData({ type: new Struct(fields), length: numRows, nullCount: 0, children: columns.map((c) => c.vector.data[0]!) })
    return new Table(schema, [new RecordBatch(schema, data)])
  }
  const whole = new Table(Object.fromEntries(columns.map((c) => [c.name, c.vector])))
  if (whole.numRows !== numRows) throw new RangeError(`columns of ${whole.numRows} rows for a table of ${numRows}`)
  return new Table(schema, whole.batches.map((b) => new RecordBatch(schema, b.data)))
}

/** The dtype a field says it has (its metadata), if any. */
export function fieldDType(field: Field): TableDType | undefined {
  const s = field.metadata.get(DTYPE_METADATA)
  if (s === undefined) return undefined
  try {
    return parseTableDType(s)
  } catch {
    return undefined
  }
}

// ignoreBOM: a value that begins with U+FEFF keeps it (by default TextDecoder drops it).
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })

/**
 * A column's values as a builder sees them: JSON parsed, msgpack decoded, vec elements as typed
 * arrays, everything else as Arrow gives it (i64 as bigint, strings, Uint8Array, booleans, null).
 */
export function columnValues(table: Table, name: string): unknown[] {
  const column = table.getChild(name)
  if (!column) throw new RangeError(`no column ${name}`)
  // Read with a leading U+FEFF kept (arrow-js's reads drop it); the bytes so changed stay here.
  const vector = keepingLeadingBoms(column)
  const field = table.schema.fields.find((f) => f.name === name)!
  const dt = fieldDType(field)
  const out: unknown[] = new Array(vector.length)
  const typed = vector.nullCount === 0 && (dt?.kind === 'f64' || dt?.kind === 'f32' || dt?.kind === 'i32' || dt?.kind === 'i64')
  if (typed) {
    const a = vector.toArray() as ArrayLike<unknown>
    for (let i = 0; i < out.length; i++) out[i] = a[i]
    return out
  }
  for (let i = 0; i < out.length; i++) {
    const v: unknown = vector.get(i)
    out[i] = v === null || v === undefined ? null : readable(dt, v)
  }
  return out
}

function readable(dt: TableDType | undefined, v: unknown): unknown {
  switch (dt?.kind) {
    case 'json': return JSON.parse(typeof v === 'string' ? v : utf8.decode(v as Uint8Array))
    case 'msgpack': return decodeValue(v as Uint8Array)
    case 'vec': return (v as Vector).toArray()
  }
  if (v !== null && typeof v === 'object' && 'toArray' in v && typeof (v as Vector).toArray === 'function' && !(v instanceof Uint8Array)) {
    return (v as Vector).toArray()
  }
  return v
}

/** What a builder sees of a stored value it (or an earlier builder) made. */
export function storedToReadable(dt: TableDType, v: unknown): unknown {
  if (v === null) return null
  if (dt.kind === 'json') return JSON.parse(v as string)
  if (dt.kind === 'msgpack') return decodeValue(v as Uint8Array)
  return v
}

/** A column's values in their stored form (what `storedValue` returns), e.g. to copy reused rows. */
export function columnStored(table: Table, name: string): unknown[] {
  const vector = table.getChild(name)
  if (!vector) throw new RangeError(`no column ${name}`)
  return vectorStored(vector)
}

/** A vector's values in their stored form (see {@link columnStored}). */
export function vectorStored(column: Vector): unknown[] {
  // Read with a leading U+FEFF kept, as in columnValues.
  const vector = keepingLeadingBoms(column)
  const out: unknown[] = new Array(vector.length)
  if (vector.nullCount === 0 && (DataType.isInt(vector.type) || DataType.isFloat(vector.type))) {
    const a = vector.toArray() as ArrayLike<unknown>
    for (let i = 0; i < out.length; i++) out[i] = a[i]
    return out
  }
  for (let i = 0; i < out.length; i++) {
    const v: unknown = vector.get(i)
    out[i] = v === undefined ? null : v !== null && typeof v === 'object' && !ArrayBuffer.isView(v) && typeof (v as Vector).toArray === 'function' ? (v as Vector).toArray() : v
  }
  return out
}
