/** A key: a string, or bytes. Case-sensitive; a string and bytes with the same content are different keys. */
export type Key = string | Uint8Array

/** How a value's bytes are to be read back. */
export const ValueKind = {
  /** msgpack, with the extensions of value-codec.ts */
  Packed: 0,
  /** a top-level Uint8Array stored as is */
  Raw: 1,
  /** JSON text (UTF-8), written with `{ encoding: 'json' }` */
  Json: 2,
} as const

/** True when `kind` is one of {@link ValueKind} (a kind from elsewhere must not pass for a blob flag). */
export function isValueKind(kind: unknown): kind is number {
  return kind === ValueKind.Packed || kind === ValueKind.Raw || kind === ValueKind.Json
}

/** How `kv.set(key, value, { encoding })` stores a value (docs/kv.md). */
export type ValueEncoding = 'json' | 'msgpack' | 'raw'

/** Options of `kv.set()`. */
export interface SetOptions {
  /**
   * Store the value in this encoding and read it back as stored: `raw` takes a Uint8Array and
   * keeps its bytes; `json` keeps JSON text (read back parsed); `msgpack` keeps msgpack even for a
   * Uint8Array. Default: a Uint8Array raw, anything else msgpack.
   */
  encoding?: ValueEncoding
}

/** One encoded value in flight between client and engine. */
export interface EncodedValue {
  kind: number
  bytes: Uint8Array
}

/**
 * Many encoded values in one buffer: value i is `bytes[offsets[i] .. offsets[i+1])`. One buffer
 * crosses the worker boundary by transfer instead of thousands of small arrays by copy.
 */
export interface EncodedBatch {
  keys: Key[]
  kinds: Uint8Array
  offsets: Uint32Array
  bytes: Uint8Array
}

/** Options of `kv.keys()` and friends. */
export interface KeyQuery {
  /** Only keys starting with this string (or these bytes). */
  prefix?: Key
  /** At most this many. */
  limit?: number
}

/** Bytes per chunk of a value written with `kv.setStream()` (each chunk is one blob). */
export const STREAM_CHUNK_BYTES = 4 << 20

/** Where the bytes of a value are, for `kv.getStream()`. */
export interface StreamInfo {
  /** The value's kind ({@link ValueKind}); only raw bytes can be read as a stream. */
  kind: number
  /** Bytes in all. */
  size: number
  /** The chunks' hashes, in order, for a value written by `setStream()`; empty otherwise. */
  chunks: string[]
  /** The whole value, for one that was not written as a stream. */
  bytes?: Uint8Array
}

/** Options of `kv.setStream()`. */
export interface SetStreamOptions {
  /** The number of bytes the stream will deliver: another count is an error and writes nothing. */
  size?: number
  /** Stop reading the stream: the call rejects with the signal's reason and writes nothing. */
  signal?: AbortSignal
}
