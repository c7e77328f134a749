import { InvalidArgumentError } from '../../../errors/errors.js'
import { decodeValue, encodeValue, prepareValue } from '../../../codec/value-codec.js'
import { utf16Bytes, utf16Units } from '../../../codec/utf16.js'
import { checkName, checkViewUsable, checkWellFormed } from '../../../codec/checks.js'
import type { ColumnInfo, ColumnPayload } from './column-types.js'
import { bad, typeName } from './value-errors.js'
import { cborDType } from './cbor-dtype.js'
import { decodeShapelessVec, encodeShapelessVec, parseVec, readFixedVec, writeFixedVec, type VecType } from './vec-dtypes.js'

/**
 * Column element types (docs/columns.md, "dtypes"). One parser serves the engine (which only needs
 * the element width) and the client (which encodes and decodes values), so both sides always
 * agree on a dtype's layout. Fixed-size elements are stored at their width, little-endian; a
 * variable-size element is its encoded bytes, with the lengths kept beside them.
 */

/** Longest column name, in characters. */
export const MAX_COLUMN_NAME_CHARS = 512

/** Column names: well-formed strings of 1 to {@link MAX_COLUMN_NAME_CHARS} characters. */
export function checkColumnName(name: unknown): asserts name is string {
  checkName(name, 'a column name', MAX_COLUMN_NAME_CHARS)
}

/** The typed array a numeric dtype reads and writes. */
export type NumericArray = Int32Array | BigInt64Array | Float32Array | Float64Array

type NumericCtor = Int32ArrayConstructor | BigInt64ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor

/** A parsed dtype: layout plus the codec for one element. */
export interface DType {
  /** The canonical dtype string (what `list()` reports). */
  readonly name: string
  /** Family, for Arrow conversion and messages. */
  readonly kind: 'i32' | 'i64' | 'f32' | 'f64' | 'bool' | 'bytes' | 'str' | 'msgpack' | 'cbor' | 'json' | 'vec'
  /** Bytes per element; 0 for variable-size dtypes. */
  readonly elemSize: number
  /** Set for numeric dtypes: slices come back as this typed array (the fast path). */
  readonly typed?: NumericCtor
  /** The text encoding of `str:` dtypes. */
  readonly encoding?: TextEncodingName
  /** Values per element of a fixed-shape `vec:T:d1[:d2…]` (the product of its dimensions). */
  readonly dim?: number
  /** The element type of `vec:` dtypes. */
  readonly vec?: VecType
  /** The shape of a fixed-shape `vec:` dtype; undefined for `vec:T` (each element has its own). */
  readonly shape?: readonly number[]
  /**
   * Encode one value. Fixed-size dtypes write exactly `elemSize` bytes at `offset` of `out`;
   * variable-size dtypes return the bytes (and ignore `out`). Throws InvalidArgumentError naming
   * `where` for a value this dtype cannot hold.
   */
  write(value: unknown, out: Uint8Array, view: DataView, offset: number, where: string): Uint8Array | undefined
  /** Decode one element from its stored bytes. */
  read(bytes: Uint8Array, view: DataView, offset: number, length: number): unknown
}

/** The text encodings of `str:` dtypes. */
export type TextEncodingName = 'utf8' | 'latin1' | 'ascii' | 'utf16le' | 'utf16be'

const utf8Encoder = new TextEncoder()
// ignoreBOM: a stored string that begins with U+FEFF keeps it (by default TextDecoder drops it).
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true })
const utf16Decoder = new TextDecoder('utf-16le', { ignoreBOM: true })

const I64_MIN = -(1n << 63n)
const I64_MAX = (1n << 63n) - 1n

function numericDType(kind: 'i32' | 'i64' | 'f32' | 'f64'): DType {
  switch (kind) {
    case 'i32':
      return {
        name: 'i32', kind, elemSize: 4, typed: Int32Array,
        write(v, _o, view, off, where) {
          if (typeof v !== 'number') bad(where, `an i32 column takes numbers, got ${typeName(v)}`)
          if ((v | 0) !== v) bad(where, `${v} is not a 32-bit integer`)
          view.setInt32(off, v, true)
          return undefined
        },
        read: (_b, view, off) => view.getInt32(off, true),
      }
    case 'i64':
      return {
        name: 'i64', kind, elemSize: 8, typed: BigInt64Array,
        write(v, _o, view, off, where) {
          let b: bigint
          if (typeof v === 'bigint') b = v
          else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v)
          else bad(where, `an i64 column takes bigints (or safe integer numbers), got ${typeof v === 'number' ? v : typeName(v)}`)
          if (b < I64_MIN || b > I64_MAX) bad(where, `${b} does not fit in 64 bits`)
          view.setBigInt64(off, b, true)
          return undefined
        },
        read: (_b, view, off) => view.getBigInt64(off, true),
      }
    case 'f32':
      return {
        name: 'f32', kind, elemSize: 4, typed: Float32Array,
        write(v, _o, view, off, where) {
          if (typeof v !== 'number') bad(where, `an f32 column takes numbers, got ${typeName(v)}`)
          // A finite number beyond f32's range would be stored as ±Infinity: refused, not changed.
          if (!Number.isFinite(Math.fround(v)) && Number.isFinite(v)) bad(where, `${v} is beyond f32's range (±3.4e38)`)
          view.setFloat32(off, v, true)
          return undefined
        },
        read: (_b, view, off) => view.getFloat32(off, true),
      }
    case 'f64':
      return {
        name: 'f64', kind, elemSize: 8, typed: Float64Array,
        write(v, _o, view, off, where) {
          if (typeof v !== 'number') bad(where, `an f64 column takes numbers, got ${typeName(v)}`)
          view.setFloat64(off, v, true)
          return undefined
        },
        read: (_b, view, off) => view.getFloat64(off, true),
      }
  }
}

/** Encode text; refuses characters the encoding cannot hold (so nothing is silently replaced). */
export function encodeText(s: string, enc: TextEncodingName, where: string): Uint8Array {
  switch (enc) {
    case 'utf8':
      // UTF-8 has no bytes for a lone surrogate: TextEncoder would store U+FFFD instead.
      checkWellFormed(s, `${where}: the utf8 string`)
      return utf8Encoder.encode(s)
    case 'latin1':
    case 'ascii': {
      const limit = enc === 'ascii' ? 0x7f : 0xff
      const out = new Uint8Array(s.length)
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (c > limit) bad(where, `${JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s)} has a non-${enc === 'ascii' ? 'ASCII' : 'Latin-1'} character at position ${i} (U+${c.toString(16).toUpperCase().padStart(4, '0')})`)
        out[i] = c
      }
      return out
    }
    case 'utf16le':
      return utf16Bytes(s)
    case 'utf16be':
      return swapPairs(utf16Bytes(s))
  }
}

/** Swap the bytes of every 2-byte unit in place (UTF-16LE ⇄ UTF-16BE); returns `b`. */
function swapPairs(b: Uint8Array): Uint8Array {
  for (let i = 0; i + 1 < b.length; i += 2) {
    const t = b[i]!
    b[i] = b[i + 1]!
    b[i + 1] = t
  }
  return b
}

/** Decode text written by {@link encodeText}. */
export function decodeText(b: Uint8Array, enc: TextEncodingName): string {
  switch (enc) {
    case 'utf8':
      return utf8Decoder.decode(b)
    case 'utf16le': {
      // UTF-16 holds lone surrogates (a column may store them) but TextDecoder replaces them with
      // U+FFFD: decode exactly when it did.
      const s = utf16Decoder.decode(b)
      return s.includes('\uFFFD') ? utf16Units(b) : s
    }
    case 'utf16be':
      // A swapped copy decodes as UTF-16LE (same lone-surrogate rule); the stored bytes stay as they are.
      return decodeText(swapPairs(b.slice()), 'utf16le')
    default: {
      // String.fromCharCode over chunks: one call per element would dominate large slices.
      let s = ''
      for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode.apply(null, b.subarray(i, i + 8192) as unknown as number[])
      return s
    }
  }
}

/** How many bytes of `b` fit in `n` without cutting a character in two. */
function cutPoint(b: Uint8Array, n: number, enc: TextEncodingName): number {
  if (b.length <= n) return b.length
  if (enc === 'utf8') {
    let cut = n
    while (cut > 0 && (b[cut]! & 0xc0) === 0x80) cut--
    return cut
  }
  if (enc === 'utf16le' || enc === 'utf16be') {
    let cut = n & ~1
    // Never keep a lone high surrogate (first half of a pair).
    if (cut >= 2) {
      const unit = enc === 'utf16le' ? b[cut - 2]! | (b[cut - 1]! << 8) : (b[cut - 2]! << 8) | b[cut - 1]!
      if (unit >= 0xd800 && unit <= 0xdbff) cut -= 2
    }
    return cut
  }
  return n
}

/** Length of `b[0, length)` without trailing zero padding (pairs of zeros for UTF-16). */
function unpaddedLength(b: Uint8Array, offset: number, length: number, step: number): number {
  // A UTF-16 text fills whole pairs: in an odd-sized slot the last byte is always padding (without
  // this, stripping zero pairs from the end of an odd length left half a unit, and "x" read as "").
  let end = step === 2 ? length - (length % 2) : length
  if (step === 2) {
    while (end >= 2 && b[offset + end - 1] === 0 && b[offset + end - 2] === 0) end -= 2
  } else {
    while (end > 0 && b[offset + end - 1] === 0) end--
  }
  return end
}

function checkString(v: unknown, where: string): string {
  if (typeof v !== 'string') bad(where, `a string column takes strings, got ${typeName(v)}`)
  return v
}

function checkBytes(v: unknown, where: string): Uint8Array {
  if (!(v instanceof Uint8Array)) bad(where, `a bytes column takes Uint8Array values, got ${typeName(v)}`)
  checkViewUsable(v, where)
  return v
}

/**
 * Decode a `msgpack:N` element: the value followed by zero padding. msgpack is prefix-free (no
 * complete encoding is a proper prefix of another), so the shortest prefix that decodes, starting
 * from the last non-zero byte, is the value itself.
 */
function decodePaddedMsgpack(b: Uint8Array): unknown {
  let end = b.length
  while (end > 0 && b[end - 1] === 0) end--
  for (let n = Math.max(end, 1); n <= b.length; n++) {
    try {
      return decodeValue(b.subarray(0, n))
    } catch {
      // Too short: the value ends with zero bytes of its own; try one more.
    }
  }
  return decodeValue(b)
}

/**
 * Refuse what JSON.stringify would write as something else without a word: a Map or Set became
 * `{}`, a typed array an object of indexes, a nested function or symbol vanished. (JSON's own
 * rules stay: NaN and ±Infinity are null, undefined in an object is left out, a Date is its ISO
 * text, an object's toJSON is used.)
 */
function checkJsonFaithful(v: unknown, where: string, depth: number): void {
  if (v === null || typeof v !== 'object') {
    if (depth > 0 && (typeof v === 'function' || typeof v === 'symbol')) bad(where, `a json column cannot hold ${typeName(v)} (JSON would drop it)`)
    return
  }
  if (depth > 512) return // JSON.stringify itself refuses cycles; very deep values are its to judge
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return
  if (v instanceof Map || v instanceof Set || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
    bad(where, `a json column cannot hold ${typeName(v)}: JSON would write it as ${v instanceof Map || v instanceof Set ? '{}' : 'an object of indexes'} (use a msgpack or cbor column)`)
  }
  for (const x of Array.isArray(v) ? v : Object.values(v)) checkJsonFaithful(x, where, depth + 1)
}

const cache = new Map<string, DType>()

/**
 * Parse a dtype string (`f64`, `bytes:16`, `str:32:utf8`, `vec:f32:384`, …). Unknown or malformed
 * dtypes give InvalidArgumentError naming the accepted forms.
 */
export function parseDType(spec: unknown): DType {
  if (typeof spec !== 'string') throw new InvalidArgumentError(`a dtype must be a string such as "f64", got ${typeName(spec)}`)
  let d = cache.get(spec)
  if (!d) {
    d = build(spec)
    cache.set(spec, d)
  }
  return d
}

const SIZE = /^[1-9][0-9]{0,8}$/
const MAX_FIXED = 1 << 24

function size(s: string | undefined, spec: string): number {
  if (s === undefined || !SIZE.test(s) || Number(s) > MAX_FIXED) {
    throw new InvalidArgumentError(`dtype "${spec}": the size must be a whole number from 1 to ${MAX_FIXED}`)
  }
  return Number(s)
}

const ENCODINGS: readonly string[] = ['utf8', 'latin1', 'ascii', 'utf16le', 'utf16be']

function build(spec: string): DType {
  const parts = spec.split(':')
  const head = parts[0]
  switch (head) {
    case 'i32':
    case 'i64':
    case 'f32':
    case 'f64':
      if (parts.length === 1) return numericDType(head)
      break
    case 'bool':
      if (parts.length === 1) {
        return {
          name: 'bool', kind: 'bool', elemSize: 1,
          write(v, out, _view, off, where) {
            if (typeof v !== 'boolean') bad(where, `a bool column takes true or false, got ${typeName(v)}`)
            out[off] = v ? 1 : 0
            return undefined
          },
          read: (b, _view, off) => b[off] !== 0,
        }
      }
      break
    case 'bytes':
      if (parts.length === 1) {
        return { name: 'bytes', kind: 'bytes', elemSize: 0, write: (v, _o, _v, _off, where) => checkBytes(v, where), read: (b, _v, off, len) => b.slice(off, off + len) }
      }
      if (parts.length === 2) {
        const n = size(parts[1], spec)
        return {
          name: spec, kind: 'bytes', elemSize: n,
          write(v, out, _view, off, where) {
            const b = checkBytes(v, where)
            if (b.length > n) bad(where, `${b.length} bytes do not fit in a ${spec} column (at most ${n})`)
            out.set(b, off)
            out.fill(0, off + b.length, off + n)
            return undefined
          },
          read: (b, _v, off) => b.slice(off, off + n),
        }
      }
      break
    case 'str': {
      // str:ENC (variable), str:N:ENC (fixed), and str:N = str:N:utf8 (reported by its full name).
      const shorthand = parts.length === 2 && SIZE.test(parts[1]!)
      const enc = shorthand ? 'utf8' : parts[parts.length - 1]!
      if (!ENCODINGS.includes(enc) || parts.length > 3 || parts.length < 2) break
      const e = enc as TextEncodingName
      if (parts.length === 2 && !shorthand) {
        return {
          name: spec, kind: 'str', elemSize: 0, encoding: e,
          write: (v, _o, _view, _off, where) => encodeText(checkString(v, where), e, where),
          read: (b, _v, off, len) => decodeText(b.subarray(off, off + len), e),
        }
      }
      const n = size(parts[1], spec)
      const step = e === 'utf16le' || e === 'utf16be' ? 2 : 1
      return {
        name: `str:${n}:${e}`, kind: 'str', elemSize: n, encoding: e,
        write(v, out, _view, off, where) {
          const b = encodeText(checkString(v, where), e, where)
          const cut = cutPoint(b, n, e)
          out.set(cut === b.length ? b : b.subarray(0, cut), off)
          out.fill(0, off + cut, off + n)
          return undefined
        },
        read: (b, _v, off) => decodeText(b.subarray(off, off + unpaddedLength(b, off, n, step)), e),
      }
    }
    case 'msgpack':
      if (parts.length === 1) {
        return {
          name: 'msgpack', kind: 'msgpack', elemSize: 0,
          write: (v, _o, _view, _off, where) => encodeValue(prepareValue(v, where)),
          read: (b, _v, off, len) => decodeValue(b.subarray(off, off + len)),
        }
      }
      if (parts.length === 2) {
        const n = size(parts[1], spec)
        return {
          name: spec, kind: 'msgpack', elemSize: n,
          write(v, out, _view, off, where) {
            const b = encodeValue(prepareValue(v, where))
            if (b.length > n) bad(where, `the value encodes to ${b.length} bytes, more than the ${n} of a ${spec} column`)
            out.set(b, off)
            out.fill(0, off + b.length, off + n)
            return undefined
          },
          read: (b, _v, off) => decodePaddedMsgpack(b.subarray(off, off + n)),
        }
      }
      break
    case 'cbor':
      if (parts.length === 1) return cborDType(spec, undefined)
      if (parts.length === 2) return cborDType(spec, size(parts[1], spec))
      break
    case 'json':
      if (parts.length === 1) {
        return {
          name: 'json', kind: 'json', elemSize: 0,
          write(v, _o, _view, _off, where) {
            checkJsonFaithful(v, where, 0)
            let text: string | undefined
            try {
              text = JSON.stringify(v)
            } catch (err) {
              bad(where, `the value cannot be written as JSON (${(err as Error).message})`)
            }
            if (text === undefined) bad(where, `${typeName(v)} cannot be written as JSON`)
            return utf8Encoder.encode(text)
          },
          read: (b, _v, off, len) => JSON.parse(utf8Decoder.decode(b.subarray(off, off + len))),
        }
      }
      break
    case 'vec': {
      const v = parseVec(spec, parts, size)
      if (!v) break
      const t = v.type
      const shape = v.shape
      if (!shape) {
        return {
          name: spec, kind: 'vec', elemSize: 0, vec: t,
          write: (value, _o, _view, _off, where) => encodeShapelessVec(t, spec, value, where),
          read: (b, _v, off, len) => decodeShapelessVec(t, b, off, len),
        }
      }
      const dim = v.elemSize / t.width
      return {
        name: spec, kind: 'vec', elemSize: v.elemSize, dim, vec: t, shape,
        write(value, out, view, off, where) {
          writeFixedVec(t, shape, spec, value, out, view, off, where)
          return undefined
        },
        read: (b, _v, off) => readFixedVec(t, dim, b, off),
      }
    }
  }
  throw new InvalidArgumentError(
    `unknown dtype "${spec}": use i32, i64, f32, f64, bool, bytes, bytes:N, str:ENC or str:N:ENC (ENC: utf8, latin1, ascii, utf16le, utf16be), str:N, msgpack, msgpack:N, cbor, cbor:N, json, vec:T:D1[:D2…] or vec:T (T: f32, f64, i8, i16, i32, i64, u8, u16, u32, u64)`,
  )
}

/** What `info()` and `list()` report for a column: name, canonical dtype, length, and a fixed `vec:` shape. */
export function columnInfo(name: string, dtype: string, length: number): ColumnInfo {
  const shape = parseDType(dtype).shape
  return shape ? { name, dtype, length, shape: [...shape] } : { name, dtype, length }
}

/** A growable encoder of elements into one payload (used by `extend` and the write cache). */
export class PayloadBuilder {
  private bytes: Uint8Array
  private view: DataView
  private lens: Uint32Array | undefined
  /** Elements added. */
  count = 0
  /** Bytes used. */
  byteLength = 0

  constructor(
    private readonly dtype: DType,
    expected = 16,
  ) {
    // `expected` is a hint: NaN (withCache({ capBytes: NaN }) made one) gave a 0-byte buffer that
    // grow() doubled forever, hanging the thread; anything not a positive count sizes the default.
    if (!(expected >= 1 && expected <= 0xffff_ffff)) expected = 16
    const cap = Math.max(64, dtype.elemSize > 0 ? expected * dtype.elemSize : expected * 16)
    this.bytes = new Uint8Array(cap)
    this.view = new DataView(this.bytes.buffer)
    if (dtype.elemSize === 0) this.lens = new Uint32Array(Math.max(16, expected))
  }

  private grow(need: number): void {
    // Never from 0: doubling 0 never reaches `need`.
    let cap = Math.max(64, this.bytes.length * 2)
    while (cap < need) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.bytes.subarray(0, this.byteLength))
    this.bytes = next
    this.view = new DataView(next.buffer)
  }

  /** Encode and add one value; a bad value throws and leaves the builder as it was. */
  add(value: unknown, where: string): void {
    const size = this.dtype.elemSize
    if (size > 0) {
      if (this.byteLength + size > this.bytes.length) this.grow(this.byteLength + size)
      this.dtype.write(value, this.bytes, this.view, this.byteLength, where)
      this.byteLength += size
    } else {
      const b = this.dtype.write(value, this.bytes, this.view, 0, where)!
      if (b.length > 0xffff_ffff) bad(where, 'an element may hold at most 4 GiB')
      this.addEncoded(b)
      return
    }
    this.count++
  }

  /** Add one variable-size element that is already encoded. */
  addEncoded(b: Uint8Array): void {
    if (this.byteLength + b.length > this.bytes.length) this.grow(this.byteLength + b.length)
    this.bytes.set(b, this.byteLength)
    this.byteLength += b.length
    if (this.count >= this.lens!.length) {
      const next = new Uint32Array(this.lens!.length * 2)
      next.set(this.lens!)
      this.lens = next
    }
    this.lens![this.count++] = b.length
  }

  /** Add raw element bytes already in the dtype's layout (a matching typed array). */
  addRaw(bytes: Uint8Array, count: number): void {
    if (this.byteLength + bytes.length > this.bytes.length) this.grow(this.byteLength + bytes.length)
    this.bytes.set(bytes, this.byteLength)
    this.byteLength += bytes.length
    this.count += count
  }

  /** The payload so far, in fresh buffers that own their memory (safe to transfer). */
  take(): ColumnPayload {
    const bytes = this.bytes.slice(0, this.byteLength)
    const out: ColumnPayload = { count: this.count, bytes }
    if (this.lens) out.lens = this.lens.slice(0, this.count)
    return out
  }

  /** Forget everything added. */
  reset(): void {
    this.count = 0
    this.byteLength = 0
  }
}

/** The raw bytes of a typed array that matches a numeric dtype exactly, else undefined. */
export function rawNumeric(dtype: DType, values: unknown): Uint8Array | undefined {
  if (dtype.typed && values instanceof dtype.typed) {
    checkViewUsable(values, 'values')
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
  }
  return undefined
}

/**
 * Encode many values into one payload. A typed array of the dtype's own type is taken as is (one
 * copy, no per-element work); other typed arrays of numbers are converted; anything else is
 * encoded element by element. Throws before anything is sent when one value is bad.
 */
export function encodeMany(dtype: DType, values: Iterable<unknown> | ArrayLike<unknown>, firstIndex = 0): ColumnPayload {
  // null and undefined have no length to read: a raw TypeError before.
  if (values === null || values === undefined) throw new InvalidArgumentError(`expected an iterable or array of values, got ${typeName(values)}`)
  if (ArrayBuffer.isView(values)) checkViewUsable(values, 'values')
  const raw = rawNumeric(dtype, values)
  if (raw) return { count: raw.length / dtype.elemSize, bytes: raw.slice() }
  if (dtype.typed && ArrayBuffer.isView(values) && !(values instanceof DataView)) {
    // e.g. a Float32Array into an f64 column: convert through the typed array constructor.
    if (dtype.typed === BigInt64Array && !(values instanceof BigInt64Array || values instanceof BigUint64Array)) {
      throw new InvalidArgumentError(`an i64 column takes bigints: pass a BigInt64Array, not a ${values.constructor.name}`)
    }
    if (dtype.typed !== BigInt64Array && (values instanceof BigInt64Array || values instanceof BigUint64Array)) {
      throw new InvalidArgumentError(`a ${dtype.name} column takes numbers, not a ${values.constructor.name}`)
    }
    if (dtype.kind === 'i32') {
      // Refuse values a plain conversion would wrap or truncate (Int32Array.from would, silently).
      const a = values as unknown as ArrayLike<number>
      for (let i = 0; i < a.length; i++) if ((a[i]! | 0) !== a[i]) bad(`element ${firstIndex + i}`, `${a[i]} is not a 32-bit integer`)
    }
    if (values instanceof BigUint64Array) {
      // BigInt64Array.from wraps what is beyond i64 (2^64 − 1 became −1): refused instead.
      for (let i = 0; i < values.length; i++) if (values[i]! > I64_MAX) bad(`element ${firstIndex + i}`, `${values[i]} does not fit in 64 bits`)
    }
    if (dtype.kind === 'f32') {
      // Float32Array.from turns a finite number beyond f32's range into ±Infinity: refused instead.
      const a = values as unknown as ArrayLike<number>
      for (let i = 0; i < a.length; i++) if (!Number.isFinite(Math.fround(a[i]!)) && Number.isFinite(a[i]!)) bad(`element ${firstIndex + i}`, `${a[i]} is beyond f32's range (±3.4e38)`)
    }
    const converted = (dtype.typed as { from(a: unknown): NumericArray }).from(values)
    return { count: converted.length, bytes: new Uint8Array(converted.buffer) }
  }
  const n = (values as ArrayLike<unknown>).length
  const isArray = Array.isArray(values)
  // An array-like's own `length` is not trusted: { length: 2 ** 53 } sized the buffer from it (a
  // raw RangeError before any element was looked at) and would then have looped 2^53 times.
  if (!isArray && typeof n === 'number' && typeof (values as Iterable<unknown>)[Symbol.iterator] !== 'function' && !(Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff)) {
    throw new InvalidArgumentError(`an array-like's length must be a whole number from 0 to 2^32 − 1, got ${n}`)
  }
  // The length is a sizing hint; an array-like's is capped (the builder grows as elements come).
  const b = new PayloadBuilder(dtype, typeof n === 'number' ? (isArray ? n : Math.min(n, 65536)) : 16)
  let i = firstIndex
  const iterable = values as Iterable<unknown>
  if (typeof iterable[Symbol.iterator] === 'function') {
    if (typeof values === 'string') throw new InvalidArgumentError('extend() takes an iterable of values, not a string (wrap it in an array)')
    for (const v of iterable) b.add(v, `element ${i++}`)
  } else if (typeof n === 'number') {
    for (let k = 0; k < n; k++) b.add((values as ArrayLike<unknown>)[k], `element ${i++}`)
  } else {
    throw new InvalidArgumentError(`expected an iterable or array of values, got ${typeName(values)}`)
  }
  return b.take()
}

/** Encode one value as a one-element payload. */
export function encodeOne(dtype: DType, value: unknown, where = 'value'): ColumnPayload {
  const b = new PayloadBuilder(dtype, 1)
  b.add(value, where)
  return b.take()
}

/**
 * Decode a payload: numeric dtypes give a typed array over the payload's own buffer (no copy);
 * the others an array of values.
 */
export function decodeMany(dtype: DType, p: ColumnPayload): NumericArray | unknown[] {
  if (dtype.typed) {
    const b = p.bytes
    if (b.byteOffset % dtype.elemSize === 0) return new dtype.typed(b.buffer as ArrayBuffer, b.byteOffset, p.count) as NumericArray
    return new dtype.typed(b.slice().buffer as ArrayBuffer, 0, p.count) as NumericArray
  }
  const out: unknown[] = new Array(p.count)
  const bytes = p.bytes
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (dtype.elemSize > 0) {
    const size = dtype.elemSize
    for (let i = 0; i < p.count; i++) out[i] = dtype.read(bytes, view, i * size, size)
  } else {
    let off = 0
    const lens = p.lens!
    for (let i = 0; i < p.count; i++) {
      out[i] = dtype.read(bytes, view, off, lens[i]!)
      off += lens[i]!
    }
  }
  return out
}
