import { InvalidArgumentError } from '../errors/errors.js'

/**
 * Argument checks shared by every domain: well-formed strings, names, key sizes, usable buffers
 * and counts. They throw InvalidArgumentError naming the argument, before anything is written.
 */

/** Longest key, in bytes (UTF-8 for a string key). docs/kv.md. */
export const MAX_KEY_BYTES = 64 * 1024

/** Deepest nesting of containers (arrays, objects, Maps, Sets) in one stored value. */
export const MAX_VALUE_DEPTH = 512

const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * True when `s` is well-formed UTF-16: no lone surrogate (e.g. half of an emoji cut by `slice`).
 * Only such strings can be stored as SQLite text and encoded as UTF-8 exactly.
 */
export function isWellFormed(s: string): boolean {
  return nativeIsWellFormed ? nativeIsWellFormed.call(s) : !LONE_SURROGATE.test(s)
}

/** `s` with every lone surrogate replaced by U+FFFD (for diagnostics, never for data). */
export function toWellFormed(s: string): string {
  return isWellFormed(s) ? s : s.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD')
}

/** Index of the first lone surrogate of `s`, or -1. */
export function loneSurrogateAt(s: string): number {
  const m = LONE_SURROGATE.exec(s)
  return m ? m.index : -1
}

/** A string for error messages: quoted, shortened, lone surrogates visible as escapes. */
export function quote(s: string, max = 40): string {
  return JSON.stringify(s.length > max ? s.slice(0, max) + '…' : s)
}

/** How an error message names a value the caller passed: `null`, a quoted string, `number 5`, `an array`, `an object (Map)`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null'
  if (typeof v === 'string') return quote(v)
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`
  if (Array.isArray(v)) return 'an array'
  return typeof v === 'object' ? `an object (${Object.prototype.toString.call(v).slice(8, -1)})` : typeof v
}

/** Refuse a string with a lone surrogate: it would be stored as something else (U+FFFD). */
export function checkWellFormed(s: string, what: string): void {
  if (isWellFormed(s)) return
  const at = loneSurrogateAt(s)
  throw new InvalidArgumentError(
    `${what} ${quote(s)} is not well-formed Unicode: a lone surrogate (U+${s.charCodeAt(at).toString(16).toUpperCase()}) at position ${at}, e.g. half of an emoji cut by slice(); it cannot be stored exactly`,
  )
}

/** Bytes of `s` in UTF-8 (a lone surrogate counts 3, as the replacement character would). */
export function utf8Length(s: string): number {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) n += 1
    else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2 // a pair: 2 units, 4 bytes
      i++
    } else n += 2
  }
  return n
}

/** Does `s` fit in `max` bytes of UTF-8? Cheap for short strings (no scan). */
export function fitsUtf8(s: string, max: number): boolean {
  return s.length * 3 <= max || (s.length <= max && utf8Length(s) <= max)
}

/**
 * A name a domain stores as an identifier (namespace, column, list, session, process, field):
 * a well-formed string of 1 to `maxChars` characters (`allowEmpty` for names where '' is one).
 */
export function checkName(name: unknown, what: string, maxChars: number, allowEmpty = false): asserts name is string {
  if (typeof name !== 'string') throw new InvalidArgumentError(`${what} must be a string, got ${name === null ? 'null' : Array.isArray(name) ? 'an array' : typeof name}`)
  if ((!allowEmpty && name.length === 0) || name.length > maxChars) {
    throw new InvalidArgumentError(`${what} must be a ${allowEmpty ? '' : 'non-empty '}string of at most ${maxChars} characters, got ${name.length > maxChars ? `${name.length} characters` : quote(name)}`)
  }
  checkWellFormed(name, what)
}

/**
 * A typed array or DataView whose bytes can be read now: not detached (transferred away) and not
 * backed by a SharedArrayBuffer (other threads may change it while it is stored, and it cannot
 * cross to the vault's worker without cross-origin isolation).
 */
export function checkViewUsable(view: ArrayBufferView, what: string): void {
  const buffer = view.buffer
  if (typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer) {
    throw new InvalidArgumentError(`${what} is a view of a SharedArrayBuffer: copy it into a plain typed array first (e.g. ${view.constructor.name}.from(view))`)
  }
  if (isDetached(buffer as ArrayBuffer)) throw new InvalidArgumentError(`${what} is a view of a detached ArrayBuffer (it was transferred): its bytes are gone`)
}

function isDetached(buffer: ArrayBuffer): boolean {
  const flag = (buffer as { detached?: boolean }).detached
  if (typeof flag === 'boolean') return flag
  // No `detached` property (older engines): only an empty buffer can be detached, and slicing a
  // detached buffer throws.
  if (buffer.byteLength !== 0) return false
  try {
    buffer.slice(0, 0)
    return false
  } catch {
    return true
  }
}

/** A copy of a Uint8Array that owns its bytes, made now (the caller may change theirs later). */
export function captureBytes(bytes: Uint8Array, what: string): Uint8Array {
  checkViewUsable(bytes, what)
  return bytes.slice()
}

/** A whole number ≥ `min` (a count, a batch size, a limit), or InvalidArgumentError naming it. */
export function checkWholeNumber(v: unknown, what: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new InvalidArgumentError(`${what} must be a whole number ≥ ${min}, got ${typeof v === 'number' ? v : v === null ? 'null' : typeof v}`)
  }
  return v
}

/** An iterable (not a string: that would iterate its characters), or InvalidArgumentError. */
export function checkIterable<T>(v: unknown, what: string): Iterable<T> {
  if (typeof v === 'string') throw new InvalidArgumentError(`${what} must be an array or iterable, not a string (wrap one key in an array: [key])`)
  if (v === null || v === undefined || typeof (v as Iterable<T>)[Symbol.iterator] !== 'function') {
    throw new InvalidArgumentError(`${what} must be an array or iterable, got ${v === null ? 'null' : typeof v}`)
  }
  return v as Iterable<T>
}
