// Arrow columns → Parquet schema elements and the values hyparquet-writer takes. Each Arrow type maps
// to the Parquet physical type and annotation a reader (DuckDB, pyarrow, polars, hyparquet) turns back
// into the same logical type; what has no faithful mapping is refused, never written approximately.
import { DataType, TimeUnit, makeVector, type Field, type Vector } from 'apache-arrow'
import type { SchemaElement } from 'hyparquet-writer'
import { UnsupportedError } from '../../errors/errors.js'
import { dictionaryValues, keepingLeadingBoms } from '../arrow-strings.js'

/** One column ready for hyparquet-writer: its schema elements (preorder) and its values. */
export interface ParquetColumn {
  name: string
  schema: SchemaElement[]
  data: unknown[] | ArrayLike<unknown>
  /** 'PLAIN' when a dictionary would lose something (see hasNegativeZero). */
  encoding?: 'PLAIN'
}

/**
 * hyparquet-writer builds its dictionaries with a Map, whose keys compare -0 equal to 0: a float
 * column holding both would read back 0 for -0. Such columns are written PLAIN.
 */
function hasNegativeZero(vector: Vector): boolean {
  const scan = (data: Vector['data'][number] | undefined): boolean => {
    if (data === undefined) return false // a padded chunk has no child data
    const values = data.values as unknown
    if (values instanceof Float64Array || values instanceof Float32Array) {
      for (let i = 0; i < values.length; i++) if (values[i] === 0 && 1 / values[i]! < 0) return true
    }
    return data.children.some(scan)
  }
  return vector.data.some(scan)
}

function isFloatLeaf(element: SchemaElement): boolean {
  return element.type === 'DOUBLE' || element.type === 'FLOAT'
}

/** A leaf: physical type and annotations, for a column or a list's element. */
type Leaf = Omit<SchemaElement, 'name' | 'repetition_type'> & { convert: (value: unknown) => unknown }

const identity = (v: unknown): unknown => v
const MS_PER_DAY = 86_400_000

function leafOf(type: DataType, column: string): Leaf {
  if (DataType.isNull(type)) return { type: 'INT32', convert: () => null }
  if (DataType.isBool(type)) return { type: 'BOOLEAN', convert: identity }
  if (DataType.isInt(type)) {
    const { bitWidth, isSigned } = type
    // hyparquet-writer takes a UINT_64 column's values unsigned (it refused 2^64-1 given as its signed bits, -1).
    if (bitWidth === 64) return { type: 'INT64', ...(isSigned ? {} : { converted_type: 'UINT_64' }), convert: (v) => (v === null ? null : isSigned ? BigInt.asIntN(64, BigInt(v as bigint)) : BigInt.asUintN(64, BigInt(v as bigint))) }
    const converted = ({ 8: isSigned ? 'INT_8' : 'UINT_8', 16: isSigned ? 'INT_16' : 'UINT_16', 32: isSigned ? undefined : 'UINT_32' } as const)[bitWidth as 8 | 16 | 32]
    // uint32 above 2^31 is stored in INT32's bits, as the Parquet spec says for UINT_32; hyparquet-writer
    // does that itself and takes the value unsigned (given as its signed bits, it threw a plain Error).
    return { type: 'INT32', ...(converted ? { converted_type: converted } : {}), convert: (v) => (v === null ? null : isSigned ? Number(v) | 0 : Number(v) >>> 0) }
  }
  if (DataType.isFloat(type)) return type.precision === 2 ? { type: 'DOUBLE', convert: identity } : { type: 'FLOAT', convert: identity }
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return { type: 'BYTE_ARRAY', converted_type: 'UTF8', convert: identity }
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) return { type: 'BYTE_ARRAY', convert: identity }
  if (DataType.isDate(type)) {
    return { type: 'INT32', converted_type: 'DATE', convert: (v) => (v === null ? null : Math.floor((v instanceof Date ? v.getTime() : Number(v)) / MS_PER_DAY)) }
  }
  if (DataType.isTimestamp(type)) {
    // Seconds have no Parquet unit: they are written as milliseconds.
    const unit = type.unit === TimeUnit.MICROSECOND ? 'MICROS' : type.unit === TimeUnit.NANOSECOND ? 'NANOS' : 'MILLIS'
    const scale = type.unit === TimeUnit.SECOND ? 1000n : 1n
    return {
      type: 'INT64',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: Boolean(type.timezone), unit },
      convert: (v) => (v === null ? null : BigInt(v as bigint) * scale),
    }
  }
  if (DataType.isDictionary(type)) return leafOf(type.dictionary, column)
  throw new UnsupportedError(`column ${JSON.stringify(column)}: Arrow type ${String(type)} cannot be written to Parquet by labvault (supported: ints, floats, bool, utf8, binary, date, timestamp, dictionary, null, and lists of those)`)
}

/**
 * The raw int64 values of a timestamp column (`get` would round micro- and nanoseconds to ms). A
 * sliced chunk's buffers are sliced with it (arrow-js): its offset counts only in the validity bitmap.
 */
function rawInt64(vector: Vector): (bigint | null)[] {
  const out: (bigint | null)[] = new Array(vector.length)
  let at = 0
  for (const chunk of vector.data) {
    const values = chunk.values as unknown as BigInt64Array
    for (let i = 0; i < chunk.length; i++, at++) out[at] = chunk.getValid(i) ? values[i]! : null
  }
  return out
}

function valuesOf(vector: Vector, leaf: Leaf, field: string): unknown[] | ArrayLike<unknown> {
  const type = vector.type as DataType
  // Fast path: a null-free numeric column goes in as its typed array.
  if (vector.nullCount === 0 && (DataType.isFloat(type) && type.precision !== 0 || DataType.isInt(type) && type.bitWidth === 32 && type.isSigned)) return vector.toArray() as ArrayLike<unknown>
  if (DataType.isTimestamp(type)) return rawInt64(vector).map(leaf.convert)
  if (DataType.isDictionary(type)) return dictionaryValues(vector, field).map((v) => (v === null || v === undefined ? null : leaf.convert(v)))
  const out: unknown[] = new Array(vector.length)
  for (let i = 0; i < vector.length; i++) {
    const v = vector.get(i)
    out[i] = v === null || v === undefined ? null : leaf.convert(v)
  }
  return out
}

/**
 * A list column's rows as JS arrays (what hyparquet-writer's record shredding takes). Rows are cut
 * from each chunk's offsets and child values directly: `vector.get(i)` builds a Vector per row.
 */
function listValues(vector: Vector, convert: (value: unknown) => unknown): (unknown[] | null)[] {
  const out: (unknown[] | null)[] = new Array(vector.length)
  let at = 0
  for (const chunk of vector.data) {
    const childData = chunk.children[0]
    // Arrow pads a short column of a table with an all-null chunk that has no child data.
    if (childData === undefined) {
      for (let i = 0; i < chunk.length; i++, at++) out[at] = null
      continue
    }
    const childType = childData.type as DataType
    const fixed = DataType.isFixedSizeList(chunk.type as DataType) ? (chunk.type as DataType & { listSize: number }).listSize : 0
    const offsets = chunk.valueOffsets as Int32Array | undefined
    // Floats without nulls are copied straight from the child buffer; anything else goes through get().
    const direct = DataType.isFloat(childType) && childType.precision !== 0 && childData.nullCount === 0
    const values = childData.values as unknown as ArrayLike<number>
    const child = makeVector(childData)
    for (let i = 0; i < chunk.length; i++, at++) {
      if (!chunk.getValid(i)) {
        out[at] = null
        continue
      }
      // A sliced chunk's offsets (and a fixed-size list's child) are sliced with it: its offset counts
      // only in the validity bitmap. Adding it read the wrong rows (or past the end: a RangeError).
      const start = fixed ? i * fixed : offsets![i]!
      const end = fixed ? start + fixed : offsets![i + 1]!
      const items: unknown[] = new Array(end - start)
      if (direct) for (let j = start; j < end; j++) items[j - start] = values[j]
      else {
        for (let j = start; j < end; j++) {
          const v = child.get(j)
          items[j - start] = v === null || v === undefined ? null : convert(v)
        }
      }
      out[at] = items
    }
  }
  return out
}

/** The Parquet column for one Arrow field and its vector. */
export function parquetColumn(field: Field, column: Vector): ParquetColumn {
  // Strings read with a leading U+FEFF kept: arrow-js's get() drops it, and a table built by another
  // tool wrote "\uFEFFx" as "x" (a result of vault.sql or tables.get holds the extra U+FEFF already).
  const vector = keepingLeadingBoms(column)
  const type = field.type as DataType
  const name = field.name
  const nullable = field.nullable || vector.nullCount > 0
  const repetition_type = nullable ? 'OPTIONAL' : 'REQUIRED'
  if (DataType.isList(type) || DataType.isFixedSizeList(type)) {
    const child = type.children[0]!
    const leaf = leafOf(child.type as DataType, `${name}.element`)
    const { convert, ...element } = leaf
    const data = listValues(vector, convert)
    return {
      name,
      ...(isFloatLeaf(element as SchemaElement) && hasNegativeZero(vector) ? { encoding: 'PLAIN' as const } : {}),
      schema: [
        { name, repetition_type, converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', repetition_type: child.nullable ? 'OPTIONAL' : 'REQUIRED', ...element },
      ],
      data,
    }
  }
  const leaf = leafOf(type, name)
  const { convert: _convert, ...element } = leaf
  const data = valuesOf(vector, leaf, name)
  return { name, schema: [{ name, repetition_type, ...element }], data, ...(isFloatLeaf(element as SchemaElement) && hasNegativeZero(vector) ? { encoding: 'PLAIN' as const } : {}) }
}
