import {
  Binary, Bool, DataType, Field, FixedSizeBinary, FixedSizeList, Float32, Float64, Int32, Int64, Table, Type, Utf8,
  makeData, makeVector, tableFromIPC, tableToIPC, vectorFromArray, type Vector,
} from 'apache-arrow'
import { InvalidArgumentError } from '../../../errors/errors.js'
import { parseTableDType, type TableDType } from '../shared/table-dtypes.js'
import type { ColumnPart, InstanceData } from '../shared/table-types.js'

/**
 * What `write()` takes, turned into one Arrow IPC stream per column (the engine stores each as one
 * blob), and what `get()` returns, assembled from them. Typed arrays and Arrow vectors of the
 * column's type go through without a per-value loop.
 */

/** The data `vault.tables.write` accepts. */
export type TableData = Table | Record<string, unknown>[] | Record<string, ArrayLike<unknown> | Iterable<unknown>>

/** The Arrow type of a dtype. */
export function arrowTypeOf(d: TableDType): DataType {
  switch (d.base) {
    case 'i32': return new Int32()
    case 'i64': return new Int64()
    case 'f32': return new Float32()
    case 'f64': return new Float64()
    case 'bool': return new Bool()
    case 'bytes': return new Binary()
    default:
      if (d.base.startsWith('vec:f32:')) return new FixedSizeList(d.width!, new Field('item', new Float32(), false))
      if (d.base.startsWith('bytes:')) return new FixedSizeBinary(d.width!)
      return new Utf8()
  }
}

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
      case Type.Utf8: return 'str:utf8'
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
  return parseTableDType(`json${q}`, where)
}

const isArrowTable = (v: unknown): v is Table => v instanceof Table || (!!v && typeof v === 'object' && 'schema' in v && typeof (v as Table).getChildAt === 'function' && typeof (v as Table).numRows === 'number')

/** One value checked and converted for `d` (null stays null when allowed). */
function convert(d: TableDType, v: unknown, where: string): unknown {
  if (v === null || v === undefined) {
    if (!d.nullable) throw new InvalidArgumentError(`${where} is null, and dtype "${d.name}" is not nullable (use "${d.name}?")`)
    return null
  }
  const bad = (what: string) => new InvalidArgumentError(`${where} must be ${what} for dtype "${d.name}", got ${typeof v === 'object' ? Object.prototype.toString.call(v) : typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : String(v)}`)
  switch (d.base) {
    case 'i32':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw bad('a 32-bit integer')
      return v
    case 'i64':
      if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v)
      if (typeof v !== 'bigint' || v < -(1n << 63n) || v >= 1n << 63n) throw bad('a 64-bit integer (bigint or safe integer)')
      return v
    case 'f32':
    case 'f64':
      if (typeof v !== 'number') throw bad('a number')
      return v
    case 'bool':
      if (typeof v !== 'boolean') throw bad('a boolean')
      return v
    case 'str:utf8':
    case 'artifact':
      if (typeof v !== 'string') throw bad('a string')
      return v
    case 'str:ascii':
      if (typeof v !== 'string' || !/^[\x00-\x7f]*$/.test(v)) throw bad('an ASCII string')
      return v
    case 'str:latin1':
      if (typeof v !== 'string' || !/^[\x00-\xff]*$/.test(v)) throw bad('a Latin-1 string')
      return v
    case 'bytes':
      if (!(v instanceof Uint8Array)) throw bad('a Uint8Array')
      return v
    case 'json': {
      let text: string | undefined
      try {
        text = JSON.stringify(v)
      } catch {
        text = undefined
      }
      if (text === undefined) throw bad('a JSON value')
      return text
    }
    default:
      if (d.base.startsWith('bytes:')) {
        if (!(v instanceof Uint8Array) || v.length > d.width!) throw bad(`a Uint8Array of at most ${d.width} bytes`)
        const out = new Uint8Array(d.width!)
        out.set(v)
        return out
      }
      if (!(v instanceof Float32Array || Array.isArray(v)) || (v as ArrayLike<number>).length !== d.width) throw bad(`${d.width} numbers (a Float32Array)`)
      return Float32Array.from(v as ArrayLike<number>)
  }
}

/** A vector of `d` over `values`; typed arrays of the dtype's own layout are taken as they are. */
function vectorOf(d: TableDType, values: ArrayLike<unknown>, column: string): Vector {
  const fast =
    (d.base === 'f64' && values instanceof Float64Array) || (d.base === 'f32' && values instanceof Float32Array) || (d.base === 'i32' && values instanceof Int32Array) || (d.base === 'i64' && values instanceof BigInt64Array)
  if (fast) return makeVector(values as Float64Array)
  const type = arrowTypeOf(d)
  const out = new Array<unknown>(values.length)
  for (let i = 0; i < values.length; i++) out[i] = convert(d, values[i], `column "${column}" row ${i}`)
  if (d.base.startsWith('vec:f32:')) {
    // Arrow's builder for FixedSizeList wants plain arrays per row; build the data directly instead.
    const flat = new Float32Array(values.length * d.width!)
    const valid = new Uint8Array(Math.ceil(values.length / 8))
    let nulls = 0
    out.forEach((v, i) => {
      if (v === null) nulls++
      else {
        flat.set(v as Float32Array, i * d.width!)
        valid[i >> 3]! |= 1 << (i & 7)
      }
    })
    const child = makeData({ type: new Float32(), length: flat.length, data: flat })
    return makeVector(makeData({ type: type as FixedSizeList, length: values.length, nullCount: nulls, nullBitmap: nulls ? valid : undefined, child }))
  }
  return vectorFromArray(out, type)
}

function ipcOf(name: string, vector: Vector): Uint8Array {
  return tableToIPC(new Table({ [name]: vector }), 'stream')
}

/** `data` as one part per column, each of its dtype (given, or inferred). */
export function toColumnParts(data: unknown, dtypes: Record<string, unknown> = {}): ColumnPart[] {
  if (dtypes === null || typeof dtypes !== 'object') throw new InvalidArgumentError('dtypes must be an object of column name → dtype')
  const dtypeOf = (name: string) => (Object.hasOwn(dtypes, name) ? parseTableDType(dtypes[name], `column "${name}"`) : undefined)
  const parts: ColumnPart[] = []
  if (isArrowTable(data)) {
    data.schema.fields.forEach((field, i) => {
      const vector = data.getChildAt(i)!
      const d = dtypeOf(field.name) ?? dtypeOfArrow(field.type, vector.nullCount > 0, `column "${field.name}"`)
      const type = arrowTypeOf(d)
      const same = type.typeId === field.type.typeId && String(type) === String(field.type)
      if (same && d.base !== 'json') {
        if (!d.nullable && vector.nullCount > 0) throw new InvalidArgumentError(`column "${field.name}" has nulls, and dtype "${d.name}" is not nullable (use "${d.name}?")`)
        parts.push({ name: field.name, dtype: d.name, ipc: ipcOf(field.name, vector) })
      } else {
        parts.push({ name: field.name, dtype: d.name, ipc: ipcOf(field.name, vectorOf(d, vector.toArray() as ArrayLike<unknown>, field.name)) })
      }
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

/** The Arrow table of an instance's data. */
export function fromColumnParts(data: InstanceData, rows?: number): Table {
  const vectors: Record<string, Vector> = {}
  for (const c of data.columns) vectors[c.name] = tableFromIPC(c.ipc).getChildAt(0)!
  const table = new Table(vectors)
  return rows === undefined || rows >= table.numRows ? table : table.slice(0, rows)
}
