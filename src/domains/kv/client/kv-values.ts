import { InvalidArgumentError, UnsupportedError } from '../../../errors/errors.js'
import { snapshotValue, prepareValue } from '../../../codec/value-prepare.js'
import { captureBytes, describeValue } from '../../../codec/checks.js'
import { decodeJsonValue, encodeJsonValue } from '../../../codec/json-value.js'
import { ValueKind, type EncodedValue, type SetOptions } from '../shared/kv-types.js'

/**
 * The key-value client's values on the calling thread, with the value codec (msgpackr, ~12 KB gzip)
 * loaded on first use rather than with the page (docs/cold-start.md, "Main-thread bytes"):
 * - a value is always checked when the call is made (a bad value rejects at once, nothing sent);
 * - once the codec is loaded, it is encoded then too, as before;
 * - before that, it is copied then ({@link snapshotValue}: a later change by the caller does not
 *   count) and encoded when the codec arrives. Calls go out to the engine in the order they were
 *   made ({@link inOrder}), so a read made after a write still sees it;
 * - a read loads the codec only when what it got back needs it (msgpack bytes): the first `get` of
 *   an empty vault, of bytes or of JSON loads nothing.
 */

type Codec = typeof import('../../../codec/value-codec.js')

let codec: Codec | undefined
let loading: Promise<Codec> | undefined

/** The value codec, imported once; a failed import (a chunk that did not download) is retried by the next call. */
function loadCodec(): Promise<Codec> {
  return (loading ??= import('../../../codec/value-codec.js').then(
    (m) => (codec = m),
    (err: unknown) => {
      loading = undefined
      throw new UnsupportedError(`labvault could not load the value codec (${err instanceof Error ? err.message : String(err)}): is the package's folder served whole?`, { cause: err })
    },
  ))
}

/** @internal True once the codec is loaded on this thread (tests check their premise with it). */
export function codecLoaded(): boolean {
  return codec !== undefined
}

/** A value checked and copied at the call, to be encoded once the codec is loaded. */
export class PendingValue {
  constructor(readonly snapshot: unknown) {}
}

/** A value in the form the engine takes, or one still waiting for the codec. */
export type ClientValue = EncodedValue | PendingValue

function packed(value: unknown): ClientValue {
  if (codec) return { kind: ValueKind.Packed, bytes: codec.encodeValue(codec.prepareValue(value)) }
  return new PendingValue(snapshotValue(value))
}

/**
 * Turn a user value into its stored form (validated: functions, symbols, class instances are
 * refused, synchronously). The result is a snapshot taken now: a caller changing its value after
 * the call started changes nothing stored.
 */
export function encodeUserValue(value: unknown, encoding?: SetOptions['encoding']): ClientValue {
  const isBytes = value instanceof Uint8Array && value.constructor === Uint8Array
  switch (encoding) {
    case undefined:
      if (isBytes) return { kind: ValueKind.Raw, bytes: captureBytes(value, 'value') }
      return packed(value)
    case 'raw':
      if (!isBytes) throw new InvalidArgumentError(`encoding 'raw' stores a Uint8Array, got ${describeValue(value)}`)
      return { kind: ValueKind.Raw, bytes: captureBytes(value, 'value') }
    case 'msgpack':
      return packed(value)
    case 'json':
      return { kind: ValueKind.Json, bytes: encodeJsonValue(value) }
    default:
      throw new InvalidArgumentError(`encoding must be 'json', 'msgpack' or 'raw', got ${describeValue(encoding)}`)
  }
}

/** The encoding named by `set()` options, validated. */
export function encodingOf(options: unknown): SetOptions['encoding'] {
  if (options === undefined || options === null) return undefined
  if (typeof options !== 'object') throw new InvalidArgumentError(`set() options must be an object such as { encoding: 'json' }, got ${typeof options}`)
  return (options as SetOptions).encoding
}

/** True when some of `values` wait for the codec. */
export function anyPending(values: readonly ClientValue[]): boolean {
  return values.some((v) => v instanceof PendingValue)
}

/** Load the codec (if some value waits for it) and encode what waits. */
export async function settle(values: readonly ClientValue[]): Promise<EncodedValue[]> {
  const c = anyPending(values) ? (codec ?? (await loadCodec())) : codec
  return values.map((v) => (v instanceof PendingValue ? { kind: ValueKind.Packed, bytes: c!.encodeValue(v.snapshot) } : v))
}

/** Turn a stored value back into what was stored (loads the codec for msgpack bytes the first time). */
export function decodeStoredValue(v: EncodedValue): unknown | Promise<unknown> {
  if (v.kind === ValueKind.Raw) return v.bytes
  if (v.kind === ValueKind.Json) return decodeJsonValue(v.bytes)
  if (codec) return codec.decodeValue(v.bytes)
  return loadCodec().then((c) => c.decodeValue(v.bytes))
}

/**
 * Resolves once values of these kinds can be decoded synchronously ({@link decodeStoredValue}
 * returns the value itself then): undefined when they can be already (the common case: no wait).
 */
export function readyToDecode(kinds: ArrayLike<number>): Promise<unknown> | undefined {
  if (codec) return undefined
  for (let i = 0; i < kinds.length; i++) if (kinds[i] === ValueKind.Packed) return loadCodec()
  return undefined
}

let gate: Promise<void> | undefined
let issuing = false

/** Resolves once every key-value call made so far went out to the engine (a commit waits for it). */
export function kvCallsIssued(): Promise<void> {
  return gate ?? Promise.resolve()
}

/**
 * Issue a call to the engine after every earlier call that waits for the codec, and after `wait`
 * (this call's own values, being encoded: `issue` gets them). Calls made while nothing waits go
 * out at once, in the same tick, as before. Only the issuing is ordered: round trips still overlap.
 */
export function inOrder<W, T>(wait: Promise<W> | undefined, issue: (waited: W) => Promise<T>): Promise<T> {
  // A call made by `issue` itself (set → the engine's set) is part of the call being issued.
  if ((gate === undefined || issuing) && wait === undefined) return issue(undefined as W)
  let result!: Promise<T>
  const issued: Promise<void> = Promise.all([gate, wait]).then(
    ([, waited]) => {
      issuing = true
      try {
        result = issue(waited as W)
      } catch (err) {
        result = Promise.reject(err)
      } finally {
        issuing = false
      }
    },
    (err: unknown) => {
      result = Promise.reject(err)
    },
  )
  gate = issued
  void issued.then(() => {
    if (gate === issued) gate = undefined
  })
  return issued.then(() => result)
}
