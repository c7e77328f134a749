import { InvalidArgumentError } from '../../../errors/errors.js'
import { checkWellFormed } from '../../../codec/checks.js'
import type { DType } from './dtypes.js'
import { bad, typeName } from './value-errors.js'

/**
 * `cbor` and `cbor:N` columns: elements stored as CBOR (RFC 8949), for interchange with other
 * languages' CBOR readers (KohakuVault's `cbor` dtype). The codec is cbor-x, loaded on first use
 * (`loadCbor`, awaited by `vault.columns` before it hands out a cbor column), so pages that never
 * use CBOR never download it.
 *
 * What CBOR holds, and so what a cbor column takes: null, undefined, booleans, numbers (-0 is
 * stored as 0: CBOR encoders write integral floats as integers), bigints, strings, Uint8Array
 * and the other typed arrays (RFC 8746 tags), Date, Map, Set, arrays and plain objects. A Map
 * whose keys are all strings and a plain object are the same CBOR map: both read back as a plain
 * object. Class instances, functions, symbols and cycles are refused. Object keys are read back
 * exactly (`__proto__` stays an own key: cbor-x would rename it, so objects are rebuilt here).
 */
interface CborCodec {
  encode(value: unknown): Uint8Array
  decode(bytes: Uint8Array): unknown
  /** The first CBOR item of `bytes` (the rest is padding). */
  decodeFirst(bytes: Uint8Array): unknown
}

let codec: CborCodec | undefined
let loading: Promise<void> | undefined

/** Load the CBOR codec (once); cbor columns need it before any element is encoded or decoded. */
export function loadCbor(): Promise<void> {
  if (codec) return Promise.resolve()
  loading ??= import('cbor-x').then((m) => {
    // Maps stay Maps on decoding (mapsAsObjects: false): objects are rebuilt by `restore`, so that a
    // `__proto__` key is an own key and never a prototype.
    const enc = new m.Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false, pack: false })
    codec = {
      encode: (v) => enc.encode(v),
      decode: (b) => enc.decode(b),
      decodeFirst(b) {
        let first: unknown
        // The configured decoder's, not cbor-x's module-level decodeMultiple: that one decodes with
        // default options (maps as objects), and a cbor:N Map keyed by numbers read back as an
        // object with string keys.
        enc.decodeMultiple(b, (item: unknown) => {
          first = item
          return false
        })
        return first
      },
    }
  }).catch((err: unknown) => {
    // A failed download (offline, a moved chunk) is not remembered: the next cbor column tries again.
    loading = undefined
    throw err
  })
  return loading
}

function loaded(): CborCodec {
  if (!codec) throw new InvalidArgumentError('the CBOR codec is not loaded: get cbor columns through vault.columns (it loads it)')
  return codec
}

const MAX_DEPTH = 512

/**
 * The prototypes a cbor value's objects may have, exactly. Index: 0–1 a plain object, 2 Date,
 * 3 Map, 4 Set, 5 an array, 6 and up a typed array (as src/codec/value-prepare.ts tells them).
 */
const PROTOTYPES: unknown[] = [
  Object.prototype, null, Date, Map, Set, Array, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array,
  Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
].map((c, i) => (i > 1 ? (c as Function).prototype : c))

/** Refuse what CBOR cannot hold faithfully (class instances, functions, symbols, cycles, depth). */
function check(v: unknown, where: string, depth: number, seen: Set<object>): void {
  if (v === null || v === undefined) return
  const t = typeof v
  if (t === 'boolean' || t === 'number' || t === 'bigint') return
  // A CBOR text string is UTF-8, which has no bytes for a lone surrogate: cbor-x wrote U+FFFD
  // instead and the value read back changed. Refused, as str:utf8 refuses it (keys too, below).
  if (t === 'string') return checkWellFormed(v as string, `${where}: the string`)
  if (t !== 'object') bad(where, `a cbor column cannot hold ${typeName(v)}`)
  if (depth > MAX_DEPTH) bad(where, `the value nests deeper than ${MAX_DEPTH} levels`)
  const o = v as object
  // cbor-x wrote a DataView as a byte string, read back as a Uint8Array: refused, as kv refuses it.
  if (o instanceof DataView) bad(where, 'a cbor column cannot hold a DataView (use a typed array)')
  // By exact prototype: an instance of a subclass (of Date, Map, Set, Array, a typed array; a Node
  // Buffer) would read back as its base class, as kv refuses it.
  const kind = PROTOTYPES.indexOf(Object.getPrototypeOf(o))
  if (kind < 0) bad(where, `a cbor column cannot hold an instance of ${o.constructor?.name} (only plain objects, arrays, Map, Set, Date and typed arrays)`)
  // Own properties other than an object's enumerable keys, an array's elements or a typed array's
  // (a symbol key, a non-enumerable property, a key on a Date, Map or Set) would be lost, as in kv.
  const keys = kind < 2 ? Object.keys(o) : []
  if (kind > 4 ? Object.getOwnPropertySymbols(o).length : Reflect.ownKeys(o).length !== keys.length) {
    bad(where, 'a cbor column cannot hold a value with symbol keys or extra properties')
  }
  if (kind === 2 || kind > 5) return
  if (seen.has(o)) bad(where, 'the value contains a cycle')
  seen.add(o)
  if (kind === 3) {
    for (const [k, x] of o as Map<unknown, unknown>) {
      check(k, where, depth + 1, seen)
      check(x, where, depth + 1, seen)
    }
  } else if (kind > 3) {
    for (const x of o as Iterable<unknown>) check(x, where, depth + 1, seen)
  } else {
    for (const k of keys) {
      checkWellFormed(k, `${where}: the key`)
      check((o as Record<string, unknown>)[k], where, depth + 1, seen)
    }
  }
  seen.delete(o)
}

/** Maps with string keys (how CBOR maps decode here) become plain objects, keys defined as own properties. */
function restore(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || v instanceof Date) {
    // cbor-x gives a Node Buffer for a byte string on Node: hand back a plain Uint8Array.
    if (v instanceof Uint8Array && v.constructor !== Uint8Array) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
    return v
  }
  if (Array.isArray(v)) return v.map(restore)
  if (v instanceof Set) return new Set([...v].map(restore))
  if (v instanceof Map) {
    if ([...v.keys()].every((k) => typeof k === 'string')) {
      const out: Record<string, unknown> = {}
      for (const [k, x] of v) Object.defineProperty(out, k as string, { value: restore(x), enumerable: true, writable: true, configurable: true })
      return out
    }
    return new Map([...v].map(([k, x]) => [restore(k), restore(x)]))
  }
  return v
}

/** Plain objects go to CBOR as Maps, so that every key (`__proto__` too) is written as given. */
function prepare(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || v instanceof Date) return v
  if (Array.isArray(v)) return v.map(prepare)
  if (v instanceof Set) return new Set([...v].map(prepare))
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [prepare(k), prepare(x)]))
  return new Map(Object.keys(v).map((k) => [k, prepare((v as Record<string, unknown>)[k])]))
}

function encodeCbor(v: unknown, where: string): Uint8Array {
  check(v, where, 0, new Set())
  return loaded().encode(prepare(v))
}

/** The dtype of `cbor` (variable size) or `cbor:N` (N bytes, zero padded). */
export function cborDType(spec: string, n: number | undefined): DType {
  if (n === undefined) {
    return {
      name: 'cbor', kind: 'cbor', elemSize: 0,
      write: (v, _o, _view, _off, where) => encodeCbor(v, where),
      read: (b, _v, off, len) => restore(loaded().decode(b.subarray(off, off + len))),
    }
  }
  return {
    name: spec, kind: 'cbor', elemSize: n,
    write(v, out, _view, off, where) {
      const b = encodeCbor(v, where)
      if (b.length > n) bad(where, `the value encodes to ${b.length} bytes, more than the ${n} of a ${spec} column`)
      out.set(b, off)
      out.fill(0, off + b.length, off + n)
      return undefined
    },
    // A CBOR item is self-delimiting: the first item is the value, the zeros after it padding.
    read: (b, _v, off) => restore(loaded().decodeFirst(b.subarray(off, off + n))),
  }
}
