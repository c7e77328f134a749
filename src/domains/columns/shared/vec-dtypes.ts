import { InvalidArgumentError } from '../../../errors/errors.js'
import { checkViewUsable } from '../../../codec/checks.js'
import { bad, typeName } from './value-errors.js'

/**
 * Vector and tensor dtypes (docs/columns.md, "dtypes"): `vec:T:d1[:d2…]` holds elements of one fixed
 * shape, stored as d1·d2·… values of T back to back, little-endian (so `vec:f32:D` keeps the
 * layout it always had); `vec:T` holds elements of any shape, each stored with its shape in front
 * (docs/format.md, "Columns"). Values of T come back as T's typed array.
 */

/** The element types of `vec:` dtypes. */
export type VecTypeName = 'f32' | 'f64' | 'i8' | 'i16' | 'i32' | 'i64' | 'u8' | 'u16' | 'u32' | 'u64'

/** A typed array a `vec:` dtype reads and writes. */
export type VecArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array

interface VecArrayCtor {
  readonly BYTES_PER_ELEMENT: number
  readonly name: string
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number): VecArray
  new (length: number): VecArray
}

/** How one element type is read, written and checked. */
export interface VecType {
  readonly name: VecTypeName
  readonly ctor: VecArrayCtor
  readonly width: number
  /** Write component `x` at `off`; throws a message (without the place) when it does not fit. */
  set(view: DataView, off: number, x: unknown): void
}

function intType(name: VecTypeName, ctor: VecArrayCtor, width: number, min: number, max: number, put: (view: DataView, off: number, x: number) => void): VecType {
  return {
    name, ctor, width,
    set(view, off, x) {
      if (typeof x !== 'number') throw new Error(`${typeName(x)}, not a number`)
      if (!Number.isInteger(x) || x < min || x > max) throw new Error(`${x}, which is not an integer from ${min} to ${max} (${name})`)
      put(view, off, x)
    },
  }
}

function bigType(name: 'i64' | 'u64', ctor: VecArrayCtor, min: bigint, max: bigint, put: (view: DataView, off: number, x: bigint) => void): VecType {
  return {
    name, ctor, width: 8,
    set(view, off, x) {
      let b: bigint
      if (typeof x === 'bigint') b = x
      else if (typeof x === 'number' && Number.isSafeInteger(x)) b = BigInt(x)
      else throw new Error(`${typeof x === 'number' ? x : typeName(x)}, not a bigint (or safe integer number)`)
      if (b < min || b > max) throw new Error(`${b}, which does not fit in ${name}`)
      put(view, off, b)
    },
  }
}

function floatType(name: 'f32' | 'f64', ctor: VecArrayCtor, put: (view: DataView, off: number, x: number) => void): VecType {
  return {
    name, ctor, width: name === 'f32' ? 4 : 8,
    set(view, off, x) {
      if (typeof x !== 'number') throw new Error(`${typeName(x)}, not a number`)
      // A finite number beyond f32's range would be stored as ±Infinity: refused, not changed.
      if (name === 'f32' && !Number.isFinite(Math.fround(x)) && Number.isFinite(x)) throw new Error(`${x}, which is beyond f32's range (±3.4e38)`)
      put(view, off, x)
    },
  }
}

/** The element types of `vec:` dtypes, by name. */
export const VEC_TYPES: Readonly<Record<VecTypeName, VecType>> = {
  f32: floatType('f32', Float32Array as unknown as VecArrayCtor, (v, o, x) => v.setFloat32(o, x, true)),
  f64: floatType('f64', Float64Array as unknown as VecArrayCtor, (v, o, x) => v.setFloat64(o, x, true)),
  i8: intType('i8', Int8Array as unknown as VecArrayCtor, 1, -128, 127, (v, o, x) => v.setInt8(o, x)),
  i16: intType('i16', Int16Array as unknown as VecArrayCtor, 2, -32768, 32767, (v, o, x) => v.setInt16(o, x, true)),
  i32: intType('i32', Int32Array as unknown as VecArrayCtor, 4, -(2 ** 31), 2 ** 31 - 1, (v, o, x) => v.setInt32(o, x, true)),
  i64: bigType('i64', BigInt64Array as unknown as VecArrayCtor, -(1n << 63n), (1n << 63n) - 1n, (v, o, x) => v.setBigInt64(o, x, true)),
  u8: intType('u8', Uint8Array as unknown as VecArrayCtor, 1, 0, 255, (v, o, x) => v.setUint8(o, x)),
  u16: intType('u16', Uint16Array as unknown as VecArrayCtor, 2, 0, 65535, (v, o, x) => v.setUint16(o, x, true)),
  u32: intType('u32', Uint32Array as unknown as VecArrayCtor, 4, 0, 2 ** 32 - 1, (v, o, x) => v.setUint32(o, x, true)),
  u64: bigType('u64', BigUint64Array as unknown as VecArrayCtor, 0n, (1n << 64n) - 1n, (v, o, x) => v.setBigUint64(o, x, true)),
}

/** Most values in one fixed-shape element (as `bytes:N` and `vec:f32:D` always allowed). */
export const MAX_VEC_VALUES = 1 << 24

/** Most dimensions of a `vec:T` element (its shape is stored in front of it, one byte for ndim). */
export const MAX_VEC_NDIM = 32

function isList(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView))
}

function product(shape: readonly number[]): number {
  let n = 1
  for (const d of shape) n *= d
  return n
}

/**
 * The components of `v`, flat, checked against `shape`: a typed array or flat array of
 * product(shape) values, or arrays nested to the shape. Throws InvalidArgumentError naming `where`.
 */
function flatten(v: unknown, shape: readonly number[], spec: string, where: string): ArrayLike<unknown> {
  const total = product(shape)
  if (ArrayBuffer.isView(v)) checkViewUsable(v, where)
  if (!isList(v)) bad(where, `a ${spec} column takes typed arrays (or arrays of numbers), got ${typeName(v)}`)
  if (ArrayBuffer.isView(v) || shape.length <= 1 || !isList(v[0])) {
    if (v.length !== total) bad(where, `a ${spec} column takes ${total} values (shape [${shape.join(', ')}]), got ${v.length}`)
    return v
  }
  const out: unknown[] = []
  const walk = (x: unknown, depth: number, at: string): void => {
    if (depth === shape.length) {
      if (isList(x)) bad(where, `${at} is ${typeName(x)}, deeper than the shape [${shape.join(', ')}]`)
      out.push(x)
      return
    }
    if (!isList(x)) bad(where, `${at} is ${typeName(x)}, expected an array of length ${shape[depth]} (shape [${shape.join(', ')}])`)
    if (x.length !== shape[depth]) bad(where, `${at} has length ${x.length}, expected ${shape[depth]} (shape [${shape.join(', ')}])`)
    for (let i = 0; i < x.length; i++) walk(x[i], depth + 1, `${at}[${i}]`)
  }
  walk(v, 0, 'the value')
  return out
}

/** Write `n` components of `a` as `t` at `off` (copied raw when `a` already is t's typed array). */
function writeValues(t: VecType, a: ArrayLike<unknown>, out: Uint8Array, view: DataView, off: number, where: string): void {
  if (a instanceof t.ctor) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), off)
    return
  }
  for (let i = 0; i < a.length; i++) {
    try {
      t.set(view, off + i * t.width, a[i])
    } catch (err) {
      bad(where, `component ${i} is ${(err as Error).message}`)
    }
  }
}

/** A fresh typed array of `count` values of `t` read from `b` at `off` (copied: aligned, owned). */
function readValues(t: VecType, b: Uint8Array, off: number, count: number): VecArray {
  return new t.ctor(b.slice(off, off + count * t.width).buffer as ArrayBuffer, 0, count)
}

/** The shape of an element written to a `vec:T` column (given explicitly, or inferred from nesting). */
function shapeOf(v: unknown, spec: string, where: string): { values: unknown; shape: number[] } {
  if (v !== null && typeof v === 'object' && !isList(v) && 'shape' in v && 'data' in v) {
    const { data, shape } = v as { data: unknown; shape: unknown }
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 0xffff_ffff)) {
      bad(where, `shape must be an array of whole numbers, got ${JSON.stringify(shape)}`)
    }
    if (ArrayBuffer.isView(data)) checkViewUsable(data, where)
    if (!isList(data)) bad(where, `data must be a typed array or an array of numbers, got ${typeName(data)}`)
    if (data.length !== product(shape as number[])) bad(where, `data has ${data.length} values but shape [${(shape as number[]).join(', ')}] needs ${product(shape as number[])}`)
    return { values: data, shape: shape as number[] }
  }
  if (!isList(v)) bad(where, `a ${spec} column takes typed arrays, (nested) arrays of numbers or { data, shape }, got ${typeName(v)}`)
  const shape: number[] = []
  let x: unknown = v
  while (isList(x)) {
    shape.push(x.length)
    if (x.length === 0) break
    x = x[0]
  }
  return { values: v, shape }
}

/** Parse the part after `vec:` (`T` or `T:d1[:d2…]`); undefined when it is not a vec dtype. */
export function parseVec(
  spec: string,
  parts: string[],
  size: (s: string | undefined, spec: string) => number,
): { type: VecType; shape: number[] | undefined; elemSize: number } | undefined {
  if (parts.length < 2 || !Object.hasOwn(VEC_TYPES, parts[1]!)) return undefined
  const t = VEC_TYPES[parts[1] as VecTypeName]
  if (parts.length === 2) return { type: t, shape: undefined, elemSize: 0 }
  const shape = parts.slice(2).map((p) => size(p, spec))
  if (shape.length > MAX_VEC_NDIM) throw new InvalidArgumentError(`dtype "${spec}": at most ${MAX_VEC_NDIM} dimensions`)
  const n = product(shape)
  if (n > MAX_VEC_VALUES) throw new InvalidArgumentError(`dtype "${spec}": an element may hold at most ${MAX_VEC_VALUES} values, not ${n}`)
  return { type: t, shape, elemSize: n * t.width }
}

/** Encode one fixed-shape element into `out` at `off`. */
export function writeFixedVec(t: VecType, shape: readonly number[], spec: string, v: unknown, out: Uint8Array, view: DataView, off: number, where: string): void {
  writeValues(t, flatten(v, shape, spec, where), out, view, off, where)
}

/** Decode one fixed-shape element (a fresh typed array of all its values, row-major). */
export function readFixedVec(t: VecType, count: number, b: Uint8Array, off: number): VecArray {
  return readValues(t, b, off, count)
}

/**
 * Encode one `vec:T` element: 1 byte ndim, ndim × u32 little-endian dimensions, then the values
 * little-endian, row-major (docs/format.md, "Columns").
 */
export function encodeShapelessVec(t: VecType, spec: string, v: unknown, where: string): Uint8Array {
  const { values, shape } = shapeOf(v, spec, where)
  if (shape.length > MAX_VEC_NDIM) bad(where, `at most ${MAX_VEC_NDIM} dimensions, got ${shape.length}`)
  const flat = flatten(values, shape, spec, where)
  const head = 1 + 4 * shape.length
  const out = new Uint8Array(head + flat.length * t.width)
  const view = new DataView(out.buffer)
  out[0] = shape.length
  shape.forEach((d, i) => view.setUint32(1 + 4 * i, d, true))
  writeValues(t, flat, out, view, head, where)
  return out
}

/** Decode one `vec:T` element: its values as T's typed array, with its shape as `.shape`. */
export function decodeShapelessVec(t: VecType, b: Uint8Array, off: number, len: number): VecArray & { readonly shape: readonly number[] } {
  const ndim = b[off]!
  const view = new DataView(b.buffer, b.byteOffset + off, len)
  const shape: number[] = []
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(1 + 4 * i, true))
  const head = 1 + 4 * ndim
  const arr = readValues(t, b, off + head, Math.max(0, Math.floor((len - head) / t.width)))
  // A typed array cannot carry a shape of its own: the element's shape rides along as a
  // non-enumerable, frozen property (deep comparisons and iteration see only the values).
  Object.defineProperty(arr, 'shape', { value: Object.freeze(shape), enumerable: false })
  return arr as VecArray & { readonly shape: readonly number[] }
}

/** The values of every `vec:T` element of a variable-size payload, concatenated, and each one's value offset. */
export function shapelessValues(t: VecType, bytes: Uint8Array, lens: Uint32Array): { values: VecArray; offsets: Int32Array } {
  const offsets = new Int32Array(lens.length + 1)
  let total = 0
  let off = 0
  for (let i = 0; i < lens.length; i++) {
    const head = 1 + 4 * bytes[off]!
    total += (lens[i]! - head) / t.width
    offsets[i + 1] = total
    off += lens[i]!
  }
  const out = new Uint8Array(total * t.width)
  off = 0
  let at = 0
  for (let i = 0; i < lens.length; i++) {
    const head = 1 + 4 * bytes[off]!
    out.set(bytes.subarray(off + head, off + lens[i]!), at)
    at += lens[i]! - head
    off += lens[i]!
  }
  return { values: new t.ctor(out.buffer as ArrayBuffer, 0, total), offsets }
}
