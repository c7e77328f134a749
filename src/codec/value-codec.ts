import { Packr, addExtension } from 'msgpackr'
import { InvalidArgumentError } from '../errors/errors.js'

/**
 * How user values become bytes (docs/format.md, "Values"). msgpackr is configured deliberately:
 * - `moreTypes`: typed arrays and Set keep their class (Float32Array in, Float32Array out);
 * - `useBigIntExtension`: bigints of any size round-trip (msgpackr refuses > 64 bits otherwise);
 * - `mapsAsObjects`: plain objects decode as objects; a Map is written through our own extension
 *   (type 0x4c) so it comes back as a Map, with keys of any type;
 * - `useRecords: false`: no shared structure table, so every record decodes on its own.
 * Dates use msgpack's timestamp extension. -0 is stored as 0 (msgpackr writes integral floats as ints).
 */
const MAP_EXTENSION_TYPE = 0x4c

/** A Map in flight to the encoder: msgpackr would write a real Map as a plain msgpack map. */
class MapBox {
  constructor(readonly pairs: [unknown, unknown][]) {}
}

addExtension({
  Class: MapBox,
  type: MAP_EXTENSION_TYPE,
  write: (box: MapBox) => box.pairs,
  read: (pairs: [unknown, unknown][]) => new Map(pairs),
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
 * symbols, class instances (other than Date, Map, Set, typed arrays), cycles and `undefined` at the
 * top level, naming where the bad part sits.
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

function prepare(value: unknown, where: string, seen: Set<object> | undefined, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
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
    if (TYPED_ARRAYS.includes(obj.constructor)) return obj
    throw new InvalidArgumentError(`${where} is a ${obj.constructor.name}, which cannot be stored (use a typed array)`)
  }
  if (obj instanceof Date) {
    if (Number.isNaN(obj.getTime())) throw new InvalidArgumentError(`${where} is an invalid Date`)
    return obj
  }
  if (seen) {
    if (seen.has(obj)) throw new InvalidArgumentError(`${where} refers to itself (a cycle cannot be stored)`)
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
      let i = 0
      for (const item of obj) {
        const p = prepare(item, `${where} item ${i++}`, seen, d)
        if (p !== item) throw new InvalidArgumentError(`${where} holds a Map inside a Set, which cannot be stored`)
      }
      return obj
    }
    const proto = Object.getPrototypeOf(obj)
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidArgumentError(`${where} is an instance of ${proto?.constructor?.name ?? 'a class'}; only plain objects, arrays, Map, Set, Date and typed arrays can be stored`)
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) throw new InvalidArgumentError(`${where} has symbol keys, which cannot be stored`)
    let out: Record<string, unknown> | undefined
    for (const k of Object.keys(obj)) {
      const item = (obj as Record<string, unknown>)[k]
      const p = prepare(item, `${where}.${k}`, seen, d)
      if (p !== item) (out ??= { ...(obj as Record<string, unknown>) })[k] = p
    }
    return out ?? obj
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
