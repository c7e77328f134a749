// The Parquet reader, loaded on first use by ../parquet.ts: hyparquet decodes (every codec through
// hyparquet-compressors, zstd included, in plain JS), and the schema maps back to Arrow types.
import {
  Binary, Bool, DateDay, Field, Float32, Float64, Int8, Int16, Int32, Int64, List, Null, Schema, Table, makeData, makeVector, DataType, TimestampMicrosecond,
  TimestampMillisecond, TimestampNanosecond, Uint8, Uint16, Uint32, Uint64, Utf8, vectorFromArray, type Vector,
} from 'apache-arrow'
import { parquetMetadata, parquetRead, parquetSchema, type SchemaTree } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import { InvalidArgumentError, UnsupportedError, VaultError } from '../../errors/errors.js'
import { schemaNames } from './schema-names.js'
import { keepingLeadingBoms } from '../arrow-strings.js'

function toArrayBuffer(bytes: Uint8Array | ArrayBuffer): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes
  if (bytes instanceof Uint8Array) return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  throw new InvalidArgumentError('bytes must be a Uint8Array or an ArrayBuffer holding a Parquet file')
}

function metadataOf(buffer: ArrayBuffer): ReturnType<typeof parquetMetadata> {
  let metadata: ReturnType<typeof parquetMetadata>
  try {
    metadata = parquetMetadata(buffer)
  } catch (err) {
    throw new InvalidArgumentError(`bytes are not a Parquet file (${err instanceof Error ? err.message : String(err)})`, { cause: err })
  }
  return keepingNameBoms(metadata, buffer)
}

/**
 * `metadata` with each schema name as the file holds it (schema-names.ts: hyparquet drops a leading
 * U+FEFF), and each column chunk's path renamed to match (chunks follow the schema's leaves, in order).
 */
function keepingNameBoms(metadata: ReturnType<typeof parquetMetadata>, buffer: ArrayBuffer): ReturnType<typeof parquetMetadata> {
  const raw = schemaNames(buffer)
  if (raw.length !== metadata.schema.length || raw.every((name, i) => name === metadata.schema[i]!.name)) return metadata
  raw.forEach((name, i) => ((metadata.schema[i] as { name: string }).name = name))
  const paths: string[][] = []
  const walk = (node: SchemaTree, path: string[]): void => {
    if (node.children.length === 0) paths.push(path)
    for (const child of node.children) walk(child, [...path, child.element.name])
  }
  walk(parquetSchema(metadata), [])
  for (const group of metadata.row_groups) {
    group.columns.forEach((chunk, i) => {
      if (chunk.meta_data && paths[i]) (chunk.meta_data as { path_in_schema: string[] }).path_in_schema = paths[i]!
    })
  }
  return metadata
}

// ignoreBOM: a string that begins with U+FEFF keeps it (hyparquet's default TextDecoder dropped it).
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })
const parsers = {
  stringFromBytes: (b: Uint8Array | undefined) => b && utf8.decode(b),
  jsonFromBytes: (b: Uint8Array | undefined) => b && (JSON.parse(utf8.decode(b)) as unknown),
}

/**
 * The file's top-level column names and its rows as arrays in that order. Rows are read as arrays,
 * not hyparquet's objects: those were built by assignment, and a column named `__proto__` set
 * the row's prototype (its values were lost, the column missing).
 */
async function readArrays(bytes: Uint8Array | ArrayBuffer): Promise<{ metadata: ReturnType<typeof parquetMetadata>; names: string[]; rows: unknown[][] }> {
  const file = toArrayBuffer(bytes)
  const metadata = metadataOf(file)
  const children = parquetSchema(metadata).children
  const names = children.map((c) => c.element.name)
  // hyparquet reads no INTERVAL (it throws a plain Error mid-read): refused by name, up front.
  const interval = children.find(function hasInterval(c: SchemaTree): boolean {
    return c.element.converted_type === 'INTERVAL' || c.children.some(hasInterval)
  })
  if (interval) throw new UnsupportedError(`Parquet column ${JSON.stringify(interval.element.name)} is an INTERVAL, which labvault cannot read (cast it to text or a number of seconds first)`)
  // utf8: false: a BYTE_ARRAY without a string annotation is bytes (Binary in readParquet). By
  // default hyparquet decoded it as UTF-8, and bytes such as [0, 255] came back as the string
  // "\0\uFFFD". Columns annotated UTF8/STRING (and JSON) are decoded as before; ENUM below.
  const rows = await new Promise<unknown[][]>((resolve, reject) => {
    parquetRead({ file, metadata, compressors, parsers, utf8: false, columns: names, rowFormat: 'array', onComplete: resolve }).catch(reject)
  }).catch((err: unknown) => {
    // A file whose footer parses but whose pages are damaged or cut short: hyparquet throws plain
    // Errors ("missing eof marker", "parquet unsupported page type: undefined", a RangeError).
    if (err instanceof VaultError) throw err
    throw new InvalidArgumentError(`bytes are not a readable Parquet file: its data could not be decoded (${err instanceof Error ? err.message : String(err)})`, { cause: err })
  })
  children.forEach((c, i) => {
    const e = c.element
    if (c.children.length > 0 || !(e.converted_type === 'ENUM' || e.logical_type?.type === 'ENUM')) return
    for (const row of rows) if (row[i] instanceof Uint8Array) row[i] = utf8.decode(row[i] as Uint8Array)
  })
  return { metadata, names, rows }
}

/** See `readParquetRows` in ../parquet.ts. */
export async function readRowsNow(bytes: Uint8Array | ArrayBuffer): Promise<Record<string, unknown>[]> {
  const { names, rows } = await readArrays(bytes)
  return rows.map((row) => {
    const out: Record<string, unknown> = {}
    // defineProperty: `__proto__` (or any name) is an own key, never the prototype.
    names.forEach((name, i) => Object.defineProperty(out, name, { value: row[i], enumerable: true, writable: true, configurable: true }))
    return out
  })
}

function isDecimal(e: SchemaTree['element']): boolean {
  return e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL'
}

/** The Arrow type of a leaf column, from its physical type and annotations. */
function leafType(node: SchemaTree): DataType {
  const e = node.element
  const logical = e.logical_type
  switch (e.type) {
    case 'BOOLEAN': return new Bool()
    case 'FLOAT': return new Float32()
    case 'DOUBLE': return new Float64()
    case 'INT32': {
      if (e.converted_type === 'DATE' || logical?.type === 'DATE') return new DateDay()
      // hyparquet reads a DECIMAL as a number (1.25): an Int32 column truncated it, an Int64 one threw a raw TypeError.
      if (isDecimal(e)) return new Float64()
      const c = e.converted_type
      const bits = logical?.type === 'INTEGER' ? logical.bitWidth : c === 'INT_8' || c === 'UINT_8' ? 8 : c === 'INT_16' || c === 'UINT_16' ? 16 : 32
      const signed = logical?.type === 'INTEGER' ? logical.isSigned : !(c === 'UINT_8' || c === 'UINT_16' || c === 'UINT_32')
      if (bits === 8) return signed ? new Int8() : new Uint8()
      if (bits === 16) return signed ? new Int16() : new Uint16()
      return signed ? new Int32() : new Uint32()
    }
    case 'INT64': {
      if (isDecimal(e)) return new Float64()
      if (logical?.type === 'TIMESTAMP') {
        const tz = logical.isAdjustedToUTC ? 'UTC' : null
        // hyparquet gives Dates (millisecond precision): finer units are read as milliseconds.
        return new TimestampMillisecond(tz)
      }
      if (e.converted_type === 'TIMESTAMP_MILLIS' || e.converted_type === 'TIMESTAMP_MICROS') return new TimestampMillisecond()
      if (e.converted_type === 'UINT_64' || (logical?.type === 'INTEGER' && !logical.isSigned)) return new Uint64()
      return new Int64()
    }
    case 'INT96': return new TimestampMillisecond()
    case 'BYTE_ARRAY':
      if (e.converted_type === 'UTF8' || e.converted_type === 'JSON' || e.converted_type === 'ENUM' || logical?.type === 'STRING' || logical?.type === 'JSON' || logical?.type === 'ENUM') return new Utf8()
      return new Binary()
    case 'FIXED_LEN_BYTE_ARRAY':
      if (logical?.type === 'FLOAT16') return new Float32()
      // hyparquet reads a UUID as its canonical text: it was written as that text's 36 bytes.
      if (logical?.type === 'UUID') return new Utf8()
      if (isDecimal(e)) return new Float64()
      return new Binary()
    default:
      if (logical?.type === 'NULL') return new Null()
      throw new UnsupportedError(`Parquet column ${JSON.stringify(e.name)} has a type labvault cannot read into Arrow`)
  }
}

/** A column's Arrow field: a leaf, or a LIST of leaves (the standard three-level and legacy two-level forms). */
function fieldOf(node: SchemaTree): Field {
  const e = node.element
  const nullable = e.repetition_type !== 'REQUIRED'
  const isList = e.converted_type === 'LIST' || e.logical_type?.type === 'LIST'
  if (isList && node.children.length === 1) {
    const repeated = node.children[0]!
    const item = repeated.children.length === 1 ? repeated.children[0]! : repeated
    if (item.children.length === 0) return new Field(e.name, new List(new Field('element', leafType(item), item.element.repetition_type !== 'REQUIRED')), nullable)
  }
  if (node.children.length === 0 && e.repetition_type !== 'REPEATED') return new Field(e.name, leafType(node), nullable)
  throw new UnsupportedError(`Parquet column ${JSON.stringify(e.name)} is nested in a way labvault cannot read into Arrow (only flat columns and lists of primitives)`)
}

/** Values as Arrow builders take them: Dates for dates and timestamps become epoch milliseconds. */
function normalise(value: unknown, type: DataType): unknown {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value.getTime()
  if (type instanceof Utf8 && typeof value !== 'string') return JSON.stringify(value)
  if (type instanceof Float32 || type instanceof Float64) return Number(value)
  if (type instanceof List) return Array.from(value as ArrayLike<unknown>, (v) => normalise(v, type.children[0]!.type))
  return value
}

/** A validity bitmap (Arrow's LSB order) for `values`, and the null count. */
function validity(values: readonly unknown[]): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array((values.length + 7) >> 3)
  let nullCount = 0
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null || values[i] === undefined) nullCount++
    else nullBitmap[i >> 3]! |= 1 << (i & 7)
  }
  return { nullBitmap, nullCount }
}

type NumberArray = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array

/** The typed array class of a flat numeric Arrow type (not 64-bit ints: those are bigints). */
function numberArrayOf(type: DataType): (new (n: number) => NumberArray) | undefined {
  if (DataType.isFloat(type)) return type.precision === 2 ? Float64Array : Float32Array
  if (DataType.isInt(type) && type.bitWidth <= 32) return type.ArrayType as new (n: number) => NumberArray
  return undefined
}

/**
 * Column values → an Arrow vector. Numbers and lists of numbers fill typed buffers directly (Arrow's
 * per-value builders were most of the read time); the rest goes through vectorFromArray.
 */
function vectorOf(values: unknown[], type: DataType): Vector {
  const Numbers = numberArrayOf(type)
  if (Numbers) {
    const data = new Numbers(values.length)
    for (let i = 0; i < values.length; i++) data[i] = (values[i] ?? 0) as number
    return makeVector(makeData({ type: type as Float64, length: values.length, data: data as Float64Array, ...validity(values) }))
  }
  if (type instanceof List) {
    const childType = type.children[0]!.type as DataType
    const ChildNumbers = numberArrayOf(childType)
    if (ChildNumbers) {
      const offsets = new Int32Array(values.length + 1)
      let total = 0
      for (let i = 0; i < values.length; i++) {
        total += (values[i] as ArrayLike<unknown> | null)?.length ?? 0
        offsets[i + 1] = total
      }
      const flat: unknown[] = new Array(total)
      let at = 0
      for (const items of values as (ArrayLike<unknown> | null)[]) if (items) for (let j = 0; j < items.length; j++) flat[at++] = items[j]
      const child = vectorOf(flat, childType).data[0]!
      return makeVector(makeData({ type: type as List<Float64>, length: values.length, valueOffsets: offsets, child: child as never, ...validity(values) }))
    }
  }
  return vectorFromArray(values.map((v) => normalise(v, type)), type)
}

/** See `readParquet` in ../parquet.ts. */
export async function readTableNow(bytes: Uint8Array | ArrayBuffer): Promise<Table> {
  const { metadata, rows } = await readArrays(bytes)
  const fields = parquetSchema(metadata).children.map(fieldOf)
  const vectors: Record<string, Vector> = {}
  // defineProperty: a column named `__proto__` is a column, not the object's prototype.
  // Strings that begin with U+FEFF keep it when read through arrow-js (its decoder drops one: the
  // bytes hold one more, as in vault.sql results and tables.get; codec/arrow-strings.ts).
  fields.forEach((field, i) => Object.defineProperty(vectors, field.name, { value: keepingLeadingBoms(vectorOf(rows.map((row) => row[i]), field.type)), enumerable: true, writable: true, configurable: true }))
  // An empty file still has its schema.
  return rows.length === 0 ? new Table(new Schema(fields)) : new Table(vectors)
}
