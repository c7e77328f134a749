import { Table, Type, Vector, makeVector, tableToIPC, type DataType, type Dictionary, type FixedSizeBinary, type FixedSizeList, type Float32 } from 'apache-arrow'
import { keepingLeadingBoms, storedUtf8 } from '../../../codec/arrow-strings.js'
import { InvalidArgumentError } from '../../../errors/errors.js'
import { parseTableDType, storedValue, type TableDType } from '../shared/table-dtypes.js'
import { arrowTypeOf, columnsToTable, fieldDType, storedToReadable, storedToVector } from '../shared/table-arrow.js'
import type { ColumnPart, InstanceData } from '../shared/table-types.js'
import { arrowColumnValues } from './arrow-values.js'

/**
 * What `write()` takes, turned into one Arrow IPC stream per column (the engine stores each as one
 * blob), and what `get()` returns, assembled from them (each field's dtype in its metadata,
 * `labvault.dtype`). Typed arrays and Arrow vectors of the column's own type go through without a
 * per-value loop. Values are checked and converted by the table dtypes (shared/table-dtypes.ts).
 */

/** TableVault's pandas dtype names, as the nullable table dtypes they stand for. */
const PANDAS: Record<string, string> = { Int32: 'i32?', Int64: 'i64?', Float32: 'f32?', Float64: 'f64?', boolean: 'bool?', string: 'str:utf8?', artifact_string: 'artifact?', object: 'json?' }

/** A dtype as a caller names it (a table dtype, or a pandas name). */
export function dtypeNamed(spec: unknown, where: string): TableDType {
  return parseTableDType(typeof spec === 'string' && Object.hasOwn(PANDAS, spec) ? PANDAS[spec] : spec, where)
}

/** The data `vault.tables.write` accepts. */
export type TableData = Table | Record<string, unknown>[] | Record<string, ArrayLike<unknown> | Iterable<unknown>>

/** The dtype an Arrow type stands for, when the caller named none. */
function dtypeOfArrow(type: DataType, nullable: boolean, where: string): TableDType {
  const q = nullable ? '?' : ''
  const name = (() => {
    switch (type.typeId) {
      case Type.Int: {
        const bits = (type as unknown as { bitWidth: number; isSigned: boolean })
        return bits.isSigned && bits.bitWidth === 64 ? 'i64' : bits.isSigned && bits.bitWidth === 32 ? 'i32' : undefined
      }
      case Type.Float: return (type as Float32).precision === 1 ? 'f32' : (type as Float32).precision === 2 ? 'f64' : undefined
      case Type.Bool: return 'bool'
      case Type.Utf8:
      case Type.LargeUtf8: return 'str:utf8'
      // A dictionary-encoded column is its values' dtype (stored plain).
      case Type.Dictionary: return dtypeOfArrow((type as Dictionary).dictionary, nullable, where).base
      case Type.Binary: return 'bytes'
      case Type.FixedSizeBinary: return `bytes:${(type as FixedSizeBinary).byteWidth}`
      case Type.FixedSizeList: {
        const l = type as FixedSizeList
        return l.children[0]!.type.typeId === Type.Float && (l.children[0]!.type as Float32).precision === 1 ? `vec:f32:${l.listSize}` : undefined
      }
      default: return undefined
    }
  })()
  if (!name) throw new InvalidArgumentError(`${where}: Arrow type ${String(type)} has no table dtype; name one in options.dtypes`)
  return parseTableDType(name + q, where)
}

/** The dtype of plain values, when the caller named none. */
function dtypeOfValues(values: ArrayLike<unknown>, where: string): TableDType {
  if (values instanceof Int32Array) return parseTableDType('i32', where)
  if (values instanceof BigInt64Array) return parseTableDType('i64', where)
  if (values instanceof Float32Array) return parseTableDType('f32', where)
  if (values instanceof Float64Array) return parseTableDType('f64', where)
  let first: unknown
  let nulls = false
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v === null || v === undefined) nulls = true
    else first ??= v
  }
  const q = nulls ? '?' : ''
  if (typeof first === 'number') return parseTableDType(`f64${q}`, where)
  if (typeof first === 'bigint') return parseTableDType(`i64${q}`, where)
  if (typeof first === 'boolean') return parseTableDType(`bool${q}`, where)
  if (typeof first === 'string') return parseTableDType(`str:utf8${q}`, where)
  if (first instanceof Uint8Array) return parseTableDType(`bytes${q}`, where)
  if (first instanceof Float32Array) return parseTableDType(`vec:f32:${first.length}${q}`, where)
  if (first instanceof Date || first instanceof Map || first instanceof Set) return parseTableDType(`msgpack${q}`, where)
  return parseTableDType(`json${q}`, where)
}

const isArrowTable = (v: unknown): v is Table => v instanceof Table || (!!v && typeof v === 'object' && 'schema' in v && typeof (v as Table).getChildAt === 'function' && typeof (v as Table).numRows === 'number')

/** A vector of `d` over `values`; typed arrays of the dtype's own layout are taken as they are. */
function vectorOf(d: TableDType, values: ArrayLike<unknown>, column: string): Vector {
  const fast =
    (d.base === 'f64' && values instanceof Float64Array) || (d.base === 'f32' && values instanceof Float32Array) || (d.base === 'i32' && values instanceof Int32Array) || (d.base === 'i64' && values instanceof BigInt64Array)
  if (fast) return makeVector(values as Float64Array)
  const stored = new Array<unknown>(values.length)
  for (let i = 0; i < values.length; i++) stored[i] = storedValue(d, values[i], `column "${column}" row ${i}`)
  return storedToVector(d, stored)
}

function ipcOf(name: string, vector: Vector): Uint8Array {
  return tableToIPC(new Table({ [name]: vector }), 'stream')
}

/**
 * Whether an Arrow column of `type` is stored as it is, for dtype `d`: its type is the dtype's own
 * and holds only values the dtype accepts. Not json and msgpack (their Arrow form is text or bytes
 * that must be decoded and checked), nor strings other than `str:utf8` and artifact names (a
 * `str:N` cuts, `str:ascii` refuses what Utf8 holds: they go through the dtype's check per value).
 */
function takenAsIs(d: TableDType, type: DataType): boolean {
  if (d.kind === 'json' || d.kind === 'msgpack' || (d.kind === 'str' && d.base !== 'str:utf8') || d.kind === 'artifact') return false
  const own = arrowTypeOf(d)
  return own.typeId === type.typeId && String(own) === String(type)
}

/** Whether a column whose field names dtype `given` holds that dtype's encoded form (JSON text, msgpack bytes). */
function encodedForm(given: TableDType | undefined, type: DataType): boolean {
  return (given?.kind === 'json' || given?.kind === 'msgpack') && String(arrowTypeOf(given)) === String(type)
}

/** A json column's texts, each checked to be JSON (InvalidArgumentError naming the row otherwise), and nulls only where `d` allows them. */
function checkedJsonTexts(d: TableDType, texts: ArrayLike<unknown>, column: string): ArrayLike<unknown> {
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i]
    if (t === null || t === undefined) storedValue(d, t, `column "${column}" row ${i}`)
    else {
      try {
        JSON.parse(t as string)
      } catch (err) {
        throw new InvalidArgumentError(`column "${column}" row ${i}: its field says ${d.name}, and the value is not JSON text (${(err as Error).message})`)
      }
    }
  }
  return texts
}

/** The values of a json or msgpack column's encoded form (null stays null); InvalidArgumentError naming the row for one that does not decode. */
function decodedValues(given: TableDType, encoded: ArrayLike<unknown>, column: string): unknown[] {
  const out = new Array<unknown>(encoded.length)
  for (let i = 0; i < encoded.length; i++) {
    const v = encoded[i]
    if (v === null || v === undefined) {
      out[i] = null
      continue
    }
    try {
      out[i] = storedToReadable(given, v)
    } catch (err) {
      throw new InvalidArgumentError(`column "${column}" row ${i}: its field says ${given.name}, and the value is not ${given.kind === 'json' ? 'JSON text' : 'msgpack bytes'} (${(err as Error).message})`)
    }
  }
  return out
}

/** `data` as one part per column, each of its dtype (given, or inferred). */
export function toColumnParts(data: unknown, dtypes: Record<string, unknown> = {}): ColumnPart[] {
  if (dtypes === null || typeof dtypes !== 'object') throw new InvalidArgumentError('dtypes must be an object of column name → dtype')
  const dtypeOf = (name: string) => (Object.hasOwn(dtypes, name) ? dtypeNamed(dtypes[name], `column "${name}"`) : undefined)
  const parts: ColumnPart[] = []
  if (isArrowTable(data)) {
    data.schema.fields.forEach((field, i) => {
      const vector = data.getChildAt(i)!
      const given = fieldDType(field)
      const d = dtypeOf(field.name) ?? given ?? dtypeOfArrow(field.type, vector.nullCount > 0, `column "${field.name}"`)
      if (takenAsIs(d, field.type)) {
        if (!d.nullable && vector.nullCount > 0) throw new InvalidArgumentError(`column "${field.name}" has nulls, and dtype "${d.name}" is not nullable (use "${d.name}?")`)
        // A column `get` returned holds one more U+FEFF in the bytes of a value that begins with one: taken out.
        const stored = vector.data.map(storedUtf8)
        parts.push({ name: field.name, dtype: d.name, ipc: ipcOf(field.name, stored.some((c, j) => c !== vector.data[j]) ? new Vector(stored) : vector) })
        return
      }
      // Values read with a leading U+FEFF kept (arrow-js's reads drop it; codec/arrow-strings.ts).
      let values = arrowColumnValues(keepingLeadingBoms(vector), field.name)
      // A json or msgpack column in its stored form (its field says so: what `get` returns) holds
      // JSON text or encoded bytes, not values: decoded here, or a json column written back would
      // store the JSON of its text (and msgpack the encoding of its bytes), one more layer per round.
      if (encodedForm(given, field.type) && d.kind === 'json' && given!.kind === 'json') {
        // JSON text kept as it is, once checked: parsed and written again, the text `null` (what NaN
        // or an invalid Date is written as) would become a missing value, refused by a `json` column.
        parts.push({ name: field.name, dtype: d.name, ipc: ipcOf(field.name, storedToVector(d, checkedJsonTexts(d, values, field.name))) })
        return
      }
      if (encodedForm(given, field.type) && (d.kind === 'json' || d.kind === 'msgpack')) values = decodedValues(given!, values, field.name)
      parts.push({ name: field.name, dtype: d.name, ipc: ipcOf(field.name, vectorOf(d, values, field.name)) })
    })
  } else if (Array.isArray(data)) {
    const names: string[] = []
    const seen = new Set<string>()
    data.forEach((row, i) => {
      if (!row || typeof row !== 'object' || Array.isArray(row)) throw new InvalidArgumentError(`row ${i} must be an object of column → value`)
      for (const k of Object.keys(row)) if (!seen.has(k)) (seen.add(k), names.push(k))
    })
    for (const name of names) {
      const values = data.map((row) => (row as Record<string, unknown>)[name])
      const d = dtypeOf(name) ?? dtypeOfValues(values, `column "${name}"`)
      parts.push({ name, dtype: d.name, ipc: ipcOf(name, vectorOf(d, values, name)) })
    }
  } else if (data && typeof data === 'object') {
    for (const [name, raw] of Object.entries(data)) {
      const values = ArrayBuffer.isView(raw) || Array.isArray(raw) ? (raw as ArrayLike<unknown>) : raw && typeof raw === 'object' && Symbol.iterator in raw ? [...(raw as Iterable<unknown>)] : undefined
      if (!values) throw new InvalidArgumentError(`column "${name}" must be an array, a typed array or an iterable of values`)
      const d = dtypeOf(name) ?? dtypeOfValues(values, `column "${name}"`)
      parts.push({ name, dtype: d.name, ipc: ipcOf(name, vectorOf(d, values, name)) })
    }
  } else {
    throw new InvalidArgumentError('write() takes an Arrow table, an array of row objects or an object of columns')
  }
  for (const k of Object.keys(dtypes)) if (!parts.some((p) => p.name === k)) throw new InvalidArgumentError(`dtypes names column "${k}", which the data does not have`)
  return parts
}

/** The Arrow table of an instance's data (each field's dtype in its metadata), from its decoded columns. */
export function instanceTable(data: InstanceData, vectors: Vector[], rows?: number): Table {
  const columns = data.columns.map((c, i) => ({ name: c.name, dtype: parseTableDType(c.dtype, `column "${c.name}"`), vector: vectors[i]! }))
  const table = columnsToTable(columns, data.rows)
  return rows === undefined || rows >= table.numRows ? table : table.slice(0, rows)
}
