import { InvalidArgumentError } from '../errors/errors.js'
import { MAX_VALUE_DEPTH, checkViewUsable, isWellFormed } from './checks.js'

/**
 * The checks of a value about to be stored, and the form the encoder takes (src/codec/value-codec.ts,
 * docs/format.md "Values"). This module does not load msgpackr: a page validates (and, while the
 * codec is still loading, snapshots) values with it alone (docs/cold-start.md, "Main-thread bytes").
 */

/** A Map in flight to the encoder: msgpackr would write a real Map as a plain msgpack map. */
export class MapBox {
  constructor(readonly pairs: [unknown, unknown][]) {}
}

/** A string that is not well-formed UTF-16, in flight to the encoder. */
export class Utf16Box {
  constructor(readonly text: string) {}
}

/** A plain object msgpack's map cannot carry exactly (see the module comment), as flat pairs. */
export class ObjectBox {
  constructor(readonly pairs: unknown[]) {}
}

/** -0 in flight to the encoder. */
export class NegativeZero {}
export const NEGATIVE_ZERO = new NegativeZero()

/**
 * The prototypes a stored value's objects may have, exactly (an instance of a subclass of Date, Map,
 * Set, Array or a typed array would come back as its base class, so it is refused like any other
 * class instance). Index: 0–1 a plain object, 2 Date, 3 Map, 4 Set, 5 an array, 6 and up a typed array.
 */
const PROTOTYPES: unknown[] = [
  Object.prototype, null, Date, Map, Set, Array, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array,
  Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
].map((c, i) => (i > 1 ? (c as Function).prototype : c))

/**
 * Check that a value can be stored and return it in the form the encoder takes. Rejects functions,
 * symbols, class instances (other than Date, Map, Set, typed arrays), cycles, nesting deeper than
 * {@link MAX_VALUE_DEPTH}, detached or shared buffers and `undefined` at the top level, naming where
 * the bad part sits. What it returns is a snapshot: later changes to the caller's value (its typed
 * arrays included, once encoded) do not reach the vault.
 */
export function prepareValue(value: unknown, where = 'value'): unknown {
  return prepareTop(value, where, false)
}

/**
 * {@link prepareValue}, and a copy: every array, object, Map, Set, Date and typed array of the
 * result is new, so the caller may change theirs at once. For a value that cannot be encoded now
 * (the codec is still loading): `encodeValue` takes it later and stores what the value was at the
 * call.
 */
export function snapshotValue(value: unknown, where = 'value'): unknown {
  return prepareTop(value, where, true)
}

function prepareTop(value: unknown, where: string, copy: boolean): unknown {
  if (value === undefined) throw new InvalidArgumentError(`${where} is undefined: use null to store "nothing"`)
  // Cycle detection by depth first (no Set per call: this runs for every value written); only a
  // suspiciously deep value pays for the exact check that tells a cycle from deep nesting.
  try {
    return prepare(value, where, undefined, 0, copy)
  } catch (err) {
    if (err !== TOO_DEEP) throw err
    return prepare(value, where, new Set(), 0, copy)
  }
}

const MAX_FAST_DEPTH = 256
const TOO_DEEP = Symbol('too deep')

function prepareString(s: string): unknown {
  return isWellFormed(s) ? s : new Utf16Box(s)
}

/** Throw the InvalidArgumentError naming where the bad part of a value sits. */
function refuse(where: string, what: string): never {
  throw new InvalidArgumentError(`${where} ${what}`)
}

function prepare(value: unknown, where: string, seen: Set<object> | undefined, depth: number, copy: boolean): unknown {
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
    case 'symbol':
      refuse(where, `is a ${typeof value}, which cannot be stored`)
  }
  if (value === null) return null
  const obj = value as object
  const kind = PROTOTYPES.indexOf(Object.getPrototypeOf(obj))
  if (kind < 0) refuse(where, `is an instance of ${obj.constructor?.name}; only plain objects, arrays, Map, Set, Date and typed arrays can be stored`)
  // What is stored of an object is its enumerable string keys, of an array or a typed array its
  // elements, of a Date, Map or Set its content: a symbol key, or any own property of a Date, Map or
  // Set, would be lost without a word. Not looked for (documented): an array's own string keys (a
  // string per element, more than encoding it costs) and a plain object's non-enumerable properties
  // (not stored, as structuredClone and JSON do; a second list of keys per object made preparing an
  // object-heavy value twice as slow).
  const keys = kind < 2 ? Object.keys(obj) : []
  if (kind < 2 || kind > 4 ? Object.getOwnPropertySymbols(obj).length : Reflect.ownKeys(obj).length) refuse(where, 'has symbol keys or extra properties')
  if (kind > 5) {
    checkViewUsable(obj as Uint8Array, where)
    return copy ? (obj as Uint8Array).slice() : obj
  }
  if (kind == 2) {
    if (Number.isNaN((obj as Date).getTime())) refuse(where, 'is an invalid Date')
    return copy ? new Date((obj as Date).getTime()) : obj
  }
  if (seen) {
    if (seen.has(obj)) refuse(where, 'refers to itself (a cycle cannot be stored)')
    if (depth >= MAX_VALUE_DEPTH) refuse(where.length > 60 ? where.slice(0, 60) + '…' : where, `is nested deeper than ${MAX_VALUE_DEPTH} levels, the limit of a stored value`)
    seen.add(obj)
  } else if (depth > MAX_FAST_DEPTH) {
    throw TOO_DEEP
  }
  const d = depth + 1
  try {
    if (kind == 5) {
      const arr = obj as unknown[]
      let out: unknown[] | undefined = copy ? arr.slice() : undefined
      for (let i = 0; i < arr.length; i++) {
        const item = arr[i]
        const p = prepare(item, `${where}[${i}]`, seen, d, copy)
        if (p !== item) (out ??= arr.slice())[i] = p
      }
      return out ?? arr
    }
    if (kind == 3) {
      const pairs: [unknown, unknown][] = []
      // An object key is not spelled out: String() throws for one without a prototype.
      for (const [k, v] of obj as Map<unknown, unknown>) pairs.push([prepare(k, `${where} key`, seen, d, copy), prepare(v, `${where}.get(${k === Object(k) ? '…' : String(k)})`, seen, d, copy)])
      return new MapBox(pairs)
    }
    if (kind == 4) {
      // Always a new Set (Sets are rarely large): boxed items (a Map, a lone-surrogate string) are
      // distinct objects, so it keeps its size.
      const out: unknown[] = []
      let i = 0
      for (const item of obj as Set<unknown>) out.push(prepare(item, `${where} item ${i++}`, seen, d, copy))
      return new Set(out)
    }
    const record = obj as Record<string, unknown>
    const values: unknown[] = new Array(keys.length)
    let exotic = false
    let changed = false
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!
      if (k === '__proto__' || !isWellFormed(k)) exotic = true
      const item = record[k]
      values[i] = prepare(item, `${where}.${k}`, seen, d, copy)
      if (values[i] !== item) changed = true
    }
    if (exotic) {
      // msgpack's map would lose these keys: write the object as pairs (OBJECT_EXTENSION_TYPE).
      const pairs: unknown[] = []
      for (let i = 0; i < keys.length; i++) pairs.push(prepareString(keys[i]!), values[i])
      return new ObjectBox(pairs)
    }
    if (!changed && !copy) return obj
    const out: Record<string, unknown> = {}
    for (let i = 0; i < keys.length; i++) out[keys[i]!] = values[i]
    return out
  } finally {
    seen?.delete(obj)
  }
}
