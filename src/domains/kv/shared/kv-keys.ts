import { InvalidArgumentError } from '../../../errors/errors.js'
import { MAX_KEY_BYTES, checkName, checkViewUsable, checkWellFormed, fitsUtf8 } from '../../../codec/checks.js'
import type { Key } from './kv-types.js'

/** Longest namespace name, in characters. */
export const MAX_NAMESPACE_CHARS = 256

/**
 * Validate a key (client and engine: a key may have come from anywhere): a well-formed string or
 * a usable Uint8Array, of at most {@link MAX_KEY_BYTES} bytes.
 */
export function checkKey(key: unknown, what = 'key'): asserts key is Key {
  if (typeof key === 'string') {
    checkWellFormed(key, what)
    if (!fitsUtf8(key, MAX_KEY_BYTES)) throw new InvalidArgumentError(`${what} is longer than ${MAX_KEY_BYTES} bytes of UTF-8, the limit of a key`)
    return
  }
  if (key instanceof Uint8Array) {
    checkViewUsable(key, what)
    if (key.length > MAX_KEY_BYTES) throw new InvalidArgumentError(`${what} is ${key.length} bytes, more than ${MAX_KEY_BYTES}, the limit of a key`)
    return
  }
  throw new InvalidArgumentError(`${what} must be a string or a Uint8Array, got ${key === null ? 'null' : Array.isArray(key) ? 'an array' : typeof key}`)
}

/** Validate a namespace name: a well-formed string of 1 to {@link MAX_NAMESPACE_CHARS} characters. */
export function checkNamespace(ns: unknown): asserts ns is string {
  checkName(ns, 'a key-value namespace', MAX_NAMESPACE_CHARS)
}
