import { InvalidArgumentError } from '../../../errors/errors.js'
import { PayloadBuilder, rawNumeric, type DType } from '../shared/dtypes.js'
import type { ColumnCacheOptions, ColumnPayload } from '../shared/column-types.js'

/**
 * A column cache's options, validated, with their defaults (as kv's cache checks its own, whose
 * module this chunk does not import: src/domains/kv/client/kv-write-cache.ts). Null or undefined
 * is `{}`; `flushThreshold` and `capBytes` are whole numbers of bytes (0 or more). `{ capBytes:
 * NaN }` made a cache that never flushed, `withCache(null)` a raw TypeError.
 */
export function cacheOptions(options: unknown, what: string): Required<ColumnCacheOptions> {
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object') throw new InvalidArgumentError(`${what} options must be an object such as { capBytes, flushThreshold }, got ${typeof options}`)
  const bytes = (v: unknown, name: string, fallback: number): number => {
    if (v === undefined) return fallback
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(`${what} ${name} must be a whole number of bytes (0 or more), got ${typeof v === 'number' ? v : typeof v}`)
    return v
  }
  const o = options as ColumnCacheOptions
  return { flushThreshold: bytes(o.flushThreshold, 'flushThreshold', 8 << 20), capBytes: bytes(o.capBytes, 'capBytes', 64 << 20) }
}

/**
 * The client-side write-back buffer of one column (`withCache`/`enableCache`): appended values are
 * encoded straight into one growing buffer in the caller's thread — no worker round trip, no
 * promise chain per value — and sent as one payload when it passes the flush threshold, when a
 * read or structural change needs it, and when the cache ends or the vault closes.
 */
export class ColumnWriteCache {
  private readonly builder: PayloadBuilder
  /** Flush once this many bytes are buffered (the smaller of flushThreshold and capBytes). */
  readonly limit: number

  constructor(
    private readonly dtype: DType,
    options: Required<ColumnCacheOptions>,
  ) {
    const { flushThreshold, capBytes } = options
    this.limit = Math.max(1, Math.min(flushThreshold, capBytes))
    this.builder = new PayloadBuilder(dtype, dtype.elemSize > 0 ? Math.min(1 << 16, Math.ceil(this.limit / dtype.elemSize)) : 1024)
  }

  /** Buffered elements. */
  get count(): number {
    return this.builder.count
  }

  /** True when the buffer should be flushed now. */
  get full(): boolean {
    return this.builder.byteLength >= this.limit
  }

  /** Encode one value into the buffer; a bad value throws and buffers nothing. */
  add(value: unknown, where: string): void {
    this.builder.add(value, where)
  }

  /**
   * Buffer many values. A typed array of the dtype's own type is copied in one go. Everything is
   * validated before anything is buffered, so a bad value leaves the buffer as it was.
   */
  addMany(values: Iterable<unknown> | ArrayLike<unknown>, encodeAll: () => ColumnPayload): void {
    const raw = rawNumeric(this.dtype, values)
    if (raw) {
      this.builder.addRaw(raw, raw.length / this.dtype.elemSize)
      return
    }
    const p = encodeAll()
    if (this.dtype.elemSize > 0) {
      this.builder.addRaw(p.bytes, p.count)
      return
    }
    // Variable size: re-add element by element from the encoded payload (bytes are already valid).
    let off = 0
    for (let i = 0; i < p.count; i++) {
      const len = p.lens![i]!
      this.builder.addEncoded(p.bytes.subarray(off, off + len))
      off += len
    }
  }

  /** Take everything buffered as one payload and empty the buffer. */
  take(): ColumnPayload {
    const p = this.builder.take()
    this.builder.reset()
    return p
  }

  /** Drop everything buffered (the column was cleared or deleted). */
  discard(): void {
    this.builder.reset()
  }
}
