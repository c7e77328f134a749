import { Packr, addExtension } from 'msgpackr'
import { InvalidArgumentError } from '../errors/errors.js'
import { MAX_VALUE_DEPTH, checkViewUsable, isWellFormed } from './checks.js'
import { utf16Bytes, utf16Units } from './utf16.js'

/**
 * How user values become bytes (docs/format.md, "Values"). msgpackr is configured deliberately:
 * - `moreTypes`: typed arrays and Set keep their class (Float32Array in, Float32Array out);
 * - `useBigIntExtension`: bigints of any size round-trip (msgpackr refuses > 64 bits otherwise);
 * - `mapsAsObjects`: plain objects decode as objects; a Map is written through our own extension
 *   (type 0x4c) so it comes back as a Map, with keys of any type;
 * - `useRecords: false`: no shared structure table, so every record decodes on its own.
 * Dates use msgpack's timestamp extension. Three more extensions keep what msgpack alone would
 * change: a string with a lone surrogate (UTF-8 cannot hold it: 0x55, its UTF-16 code units), an
 * object with an own `__proto__` key or a key with a lone surrogate (msgpackr renames
 * `__proto__`: 0x4f, its [key, value] pairs), and -0 (written as the integer 0 otherwise: 0x5a).
 */
const MAP_EXTENSION_TYPE = 0x4c
const UTF16_STRING_EXTENSION_TYPE = 0x55
const OBJECT_EXTENSION_TYPE = 0x4f
const NEGATIVE_ZERO_EXTENSION_TYPE = 0x5a

/** A Map in flight to the encoder: msgpackr would write a real Map as a plain msgpack map. */
class MapBox {
  constructor(readonly pairs: [unknown, unknown][]) {}
}

/** A string that is not well-formed UTF-16, in flight to the encoder. */
class Utf16Box {
  constructor(readonly text: string) {}
}

/** A plain object msgpack's map cannot carry exactly (see the module comment), as flat pairs. */
class ObjectBox {
  constructor(readonly pairs: unknown[]) {}
}

/** -0 in flight to the encoder. */
class NegativeZero {}
const NEGATIVE_ZERO = new NegativeZero()

addExtension({
  Class: MapBox,
  type: MAP_EXTENSION_TYPE,
  write: (box: MapBox) => box.pairs,
  read: (pairs: [unknown, unknown][]) => new Map(pairs),
})

addExtension({
  Class: Utf16Box,
  type: UTF16_STRING_EXTENSION_TYPE,
  pack: (box: Utf16Box) => utf16Bytes(box.text) as Buffer,
  unpack: (bytes: Uint8Array) => utf16Units(bytes),
})

addExtension({
  Class: ObjectBox,
  type: OBJECT_EXTENSION_TYPE,
  write: (box: ObjectBox) => box.pairs,
  read: (pairs: unknown[]) => {
    const out: Record<string, unknown> = {}
    // defineProperty: an own `__proto__` key stays a key, it never becomes the prototype.
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      Object.defineProperty(out, pairs[i] as string, { value: pairs[i + 1], enumerable: true, writable: true, configurable: true })
    }
    return out
  },
})

addExtension({
  Class: NegativeZero,
  type: NEGATIVE_ZERO_EXTENSION_TYPE,
  pack: () => new Uint8Array(0) as Buffer,
  unpack: () => -0,
})

const packr = new Packr({
  useRecords: false,
  moreTypes: true,
  mapsAsObjects: true,
  useBigIntExtension: true,
  int64AsType: 'bigint',
})

const TYPED_ARRAYS: Function[] = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
]

/**
 * Check that a value can be stored and return it in the form the encoder takes. Rejects functions,
 * symbols, class instances (other than Date, Map, Set, typed arrays), cycles, nesting deeper than
 * {@link MAX_VALUE_DEPTH}, detached or shared buffers and `undefined` at the top level, naming where
 * the bad part sits. What it returns is a snapshot: later changes to the caller's value (its typed
 * arrays included, once encoded) do not reach the vault.
 */
export function prepareValue(value: unknown, where = 'value'): unknown {
  if (value === undefined) throw new InvalidArgumentError(`${where} is undefined: use null to store "nothing"`)
  // Cycle detection by depth first (no Set per call: this runs for every value written); only a
  // suspiciously deep value pays for the exact check that tells a cycle from deep nesting.
  try {
    return prepare(value, where, undefined, 0)
  } catch (err) {
    if (err !== TOO_DEEP) throw err
    return prepare(value, where, new Set(), 0)
  }
}

const MAX_FAST_DEPTH = 256
const TOO_DEEP = Symbol('too deep')

function prepareString(s: string): unknown {
  return isWellFormed(s) ? s : new Utf16Box(s)
}

function prepare(value: unknown, where: string, seen: Set<object> | undefined, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return prepareString(value)
    case 'number':
      return value === 0 && 1 / value < 0 ? NEGATIVE_ZERO : value
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return value
    case 'function':
      throw new InvalidArgumentError(`${where} is a function, which cannot be stored`)
    case 'symbol':
      throw new InvalidArgumentError(`${where} is a symbol, which cannot be stored`)
  }
  if (value === null) return null
  const obj = value as object
  if (ArrayBuffer.isView(obj)) {
    if (!TYPED_ARRAYS.includes(obj.constructor)) throw new InvalidArgumentError(`${where} is a ${obj.constructor.name}, which cannot be stored (use a typed array)`)
    checkViewUsable(obj, where)
    return obj
  }
  if (obj instanceof Date) {
    if (Number.isNaN(obj.getTime())) throw new InvalidArgumentError(`${where} is an invalid Date`)
    return obj
  }
  if (seen) {
    if (seen.has(obj)) throw new InvalidArgumentError(`${where} refers to itself (a cycle cannot be stored)`)
    if (depth >= MAX_VALUE_DEPTH) throw new InvalidArgumentError(`${where.length > 60 ? where.slice(0, 60) + '…' : where} is nested deeper than ${MAX_VALUE_DEPTH} levels (arrays, objects, Maps and Sets inside one another), the limit of a stored value`)
    seen.add(obj)
  } else if (depth > MAX_FAST_DEPTH) {
    throw TOO_DEEP
  }
  const d = depth + 1
  try {
    if (Array.isArray(obj)) {
      let out: unknown[] | undefined
      for (let i = 0; i < obj.length; i++) {
        const item = obj[i]
        const p = prepare(item, `${where}[${i}]`, seen, d)
        if (p !== item) (out ??= obj.slice())[i] = p
      }
      return out ?? obj
    }
    if (obj instanceof Map) {
      const pairs: [unknown, unknown][] = []
      for (const [k, v] of obj) pairs.push([prepare(k, `${where} key`, seen, d), prepare(v, `${where}.get(${String(k)})`, seen, d)])
      return new MapBox(pairs)
    }
    if (obj instanceof Set) {
      let out: unknown[] | undefined
      let i = 0
      for (const item of obj) {
        const p = prepare(item, `${where} item ${i}`, seen, d)
        if (p !== item && !out) out = [...obj].slice(0, i)
        out?.push(p)
        i++
      }
      // Boxed items (a Map, a lone-surrogate string, -0) are distinct objects, so the Set keeps its size.
      return out ? new Set(out) : obj
    }
    const proto = Object.getPrototypeOf(obj)
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidArgumentError(`${where} is an instance of ${proto?.constructor?.name ?? 'a class'}; only plain objects, arrays, Map, Set, Date and typed arrays can be stored`)
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) throw new InvalidArgumentError(`${where} has symbol keys, which cannot be stored`)
    const record = obj as Record<string, unknown>
    const keys = Object.keys(record)
    const values: unknown[] = new Array(keys.length)
    let exotic = false
    let changed = false
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!
      if (k === '__proto__' || !isWellFormed(k)) exotic = true
      const item = record[k]
      values[i] = prepare(item, `${where}.${k}`, seen, d)
      if (values[i] !== item) changed = true
    }
    if (exotic) {
      // msgpack's map would lose these keys: write the object as pairs (OBJECT_EXTENSION_TYPE).
      const pairs: unknown[] = []
      for (let i = 0; i < keys.length; i++) pairs.push(prepareString(keys[i]!), values[i])
      return new ObjectBox(pairs)
    }
    if (!changed) return obj
    const out: Record<string, unknown> = {}
    for (let i = 0; i < keys.length; i++) out[keys[i]!] = values[i]
    return out
  } finally {
    seen?.delete(obj)
  }
}

/** Encode a value that {@link prepareValue} accepted. */
export function encodeValue(prepared: unknown): Uint8Array {
  return packr.pack(prepared)
}

/** Decode bytes written by {@link encodeValue}. */
export function decodeValue(bytes: Uint8Array): unknown {
  return packr.unpack(bytes)
}
