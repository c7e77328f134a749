import { InvalidArgumentError } from '../errors/errors.js'
import { MAX_VALUE_DEPTH } from './checks.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Encode a value as JSON text (UTF-8), for a value stored with `{ encoding: 'json' }`. Only what JSON
 * holds exactly is accepted, so the value reads back equal: null, booleans, finite numbers other
 * than -0, strings, arrays without holes and plain objects, nested up to {@link MAX_VALUE_DEPTH}.
 * Anything `JSON.stringify` would drop, change or fail on (undefined, NaN, bigint, Date, Map, a
 * typed array, a class instance or an Array subclass, symbol keys, a cycle) is refused with
 * InvalidArgumentError.
 */
export function encodeJsonValue(value: unknown): Uint8Array {
  checkJson(value, 'value', 0, new Set())
  return encoder.encode(JSON.stringify(value))
}

/** Decode bytes written by {@link encodeJsonValue}. */
export function decodeJsonValue(bytes: Uint8Array): unknown {
  return JSON.parse(decoder.decode(bytes))
}

function refuse(where: string, what: string): never {
  throw new InvalidArgumentError(`${where} is ${what}, which JSON cannot hold exactly (encoding: 'json')`)
}

function checkJson(v: unknown, where: string, depth: number, seen: Set<object>): void {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(v)) refuse(where, String(v))
      if (Object.is(v, -0)) refuse(where, '-0')
      return
    case 'object':
      break
    default:
      refuse(where, v === undefined ? 'undefined' : `a ${typeof v}`)
  }
  if (v === null) return
  if (depth >= MAX_VALUE_DEPTH) refuse(where, `nested deeper than ${MAX_VALUE_DEPTH} levels`)
  const obj = v as object
  if (seen.has(obj)) refuse(where, 'a cycle')
  seen.add(obj)
  // By exact prototype: an Array subclass would read back as an Array (and its toJSON, if it has
  // one, would decide what is stored).
  const proto = Object.getPrototypeOf(obj)
  if (proto !== Object.prototype && proto !== null && proto !== Array.prototype) refuse(where, `a ${obj.constructor?.name ?? 'class'}`)
  if (Object.getOwnPropertySymbols(obj).length) refuse(where, 'an object with symbol keys')
  // JSON.stringify would store what a toJSON method returns (an array's own one, say) instead.
  if (typeof (obj as { toJSON?: unknown }).toJSON == 'function') refuse(where, 'a value with a toJSON method')
  if (proto === Array.prototype) {
    for (let i = 0; i < (obj as unknown[]).length; i++) {
      if (!(i in obj)) refuse(`${where}[${i}]`, 'a hole')
      checkJson((obj as unknown[])[i], `${where}[${i}]`, depth + 1, seen)
    }
  } else {
    for (const [k, x] of Object.entries(obj)) checkJson(x, `${where}.${k}`, depth + 1, seen)
  }
  seen.delete(obj)
}
