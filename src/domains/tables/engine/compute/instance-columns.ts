import { Type, type Vector } from 'apache-arrow'
import { storedToReadable, storedToVector, vectorStored } from '../../shared/table-arrow.js'
import type { TableDType } from '../../shared/table-dtypes.js'

/**
 * A column of the instance being built, held as stored values, as an Arrow vector, or both: each
 * form is made from the other only when asked for (a fully reused column is the origin's vector,
 * never copied value by value unless a later builder reads it).
 */
export class SelfColumn {
  private storedForm: ArrayLike<unknown> | undefined
  private vectorForm: Vector | undefined
  private readableForm: readonly unknown[] | undefined
  /** Stored values (a plain array, or a typed array of a numeric dtype), an Arrow vector, or both. */
  constructor(readonly dtype: TableDType, form: { stored: ArrayLike<unknown>; vector?: Vector } | { vector: Vector }) {
    if ('stored' in form) this.storedForm = form.stored
    this.vectorForm = form.vector
  }
  get stored(): ArrayLike<unknown> {
    return (this.storedForm ??= vectorStored(this.vectorForm!))
  }
  get vector(): Vector {
    return (this.vectorForm ??= storedToVector(this.dtype, this.storedForm!))
  }
  /** {@link readable} for reading one value at a time: a numeric column's typed array as it is. */
  get indexable(): ArrayLike<unknown> {
    return ArrayBuffer.isView(this.stored) ? this.stored : this.readable
  }
  /** What builders reading it through `self` see (always a plain array). */
  get readable(): readonly unknown[] {
    const k = this.dtype.kind
    const stored = this.stored
    return (this.readableForm ??= k === 'json' || k === 'msgpack' ? Array.from(stored, (v) => storedToReadable(this.dtype, v)) : Array.isArray(stored) ? stored : Array.from(stored))
  }
}

/** True when both hold the same values (===, position by position). */
export function sameValues(a: ArrayLike<unknown>, b: ArrayLike<unknown>): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const bytesOf = (v: ArrayBufferView, byteLength = v.byteLength): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, byteLength)

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * True when two flat vectors (numbers, booleans, strings) hold the same values without nulls,
 * compared buffer by buffer (no value decoded). False when unsure (nulls, chunks, nested types):
 * a caller then treats them as different.
 */
export function sameVector(a: Vector, b: Vector): boolean {
  if (a.data.length !== 1 || b.data.length !== 1 || a.length !== b.length) return false
  const x = a.data[0]!
  const y = b.data[0]!
  if (x.offset !== 0 || y.offset !== 0 || x.nullCount !== 0 || y.nullCount !== 0 || x.children.length > 0 || y.children.length > 0) return false
  if (x.type.typeId !== y.type.typeId || String(x.type) !== String(y.type)) return false
  const n = x.length
  const xv = x.values as ArrayBufferView | undefined
  const yv = y.values as ArrayBufferView | undefined
  if (!xv || !yv) return false
  if (x.valueOffsets || y.valueOffsets) {
    const xo = x.valueOffsets as ArrayLike<number> | undefined
    const yo = y.valueOffsets as ArrayLike<number> | undefined
    if (!(xo instanceof Int32Array) || !(yo instanceof Int32Array) || xo.length < n + 1 || yo.length < n + 1 || xo[0] !== 0 || yo[0] !== 0) return false
    if (!sameBytes(bytesOf(xo, (n + 1) * 4), bytesOf(yo, (n + 1) * 4))) return false
    const end = xo[n]!
    return end <= xv.byteLength && end <= yv.byteLength && sameBytes(bytesOf(xv, end), bytesOf(yv, end))
  }
  if (x.type.typeId === Type.Bool) {
    const whole = n >> 3
    const xb = bytesOf(xv)
    const yb = bytesOf(yv)
    if (xb.length * 8 < n || yb.length * 8 < n || !sameBytes(xb.subarray(0, whole), yb.subarray(0, whole))) return false
    const rest = n & 7
    return rest === 0 || ((xb[whole]! ^ yb[whole]!) & ((1 << rest) - 1)) === 0
  }
  const width = (xv as Uint8Array).BYTES_PER_ELEMENT
  if (width !== (yv as Uint8Array).BYTES_PER_ELEMENT || (xv as Uint8Array).length < n || (yv as Uint8Array).length < n) return false
  return sameBytes(bytesOf(xv, n * width), bytesOf(yv, n * width))
}

function keyPart(v: unknown): string {
  if (v === null || v === undefined) return 'z'
  if (typeof v === 'bigint') return `n${v}`
  if (typeof v === 'number') return Number.isInteger(v) ? `n${v}` : `f${v}`
  if (typeof v === 'string') return `s${v}`
  if (typeof v === 'boolean') return `b${v}`
  if (ArrayBuffer.isView(v)) return `a${Array.from(v as unknown as ArrayLike<number | bigint>, String).join(',')}`
  return `j${JSON.stringify(v)}`
}

/**
 * A row's primary key as one Map key. One numeric or plain-string column is its own key (a column
 * has one dtype, so its values cannot collide across types, and Map compares numbers and bigints
 * by value); otherwise the values are tagged by type and joined, so 1 and "1" differ.
 */
export function rowKeys(cols: readonly ArrayLike<unknown>[], dtypes: readonly TableDType[]): (i: number) => unknown {
  if (cols.length === 1) {
    const c = cols[0]!
    const k = dtypes[0]!.kind
    if (!dtypes[0]!.nullable && (k === 'i32' || k === 'i64' || k === 'f32' || k === 'f64' || k === 'str' || k === 'artifact')) return (i) => c[i]
    return (i) => keyPart(c[i])
  }
  return (i) => JSON.stringify(cols.map((c) => keyPart(c[i])))
}

