import { InvalidArgumentError } from '../../../errors/errors.js'
import { checkWholeNumber } from '../../../codec/checks.js'
import type { DomainCaller } from '../../../protocol/domain-caller.js'
import { BatchBuilder, batchTransferables } from '../shared/kv-batch.js'
import type { EncodedValue, Key } from '../shared/kv-types.js'
import { inOrder } from './kv-values.js'
import { checkNamespace } from '../shared/kv-keys.js'

// The write cache of a key-value handle (enableCache, withCache) and the bookkeeping that keeps its
// write-outs in call order: which buffered entry a later call supersedes, what a failed write-out
// puts back. KeyValue (key-value.ts) extends this class rather than holding one: the cache's public
// methods (flush, enableCache, disableCache, withCache) are then KeyValue's own with no forwarding
// code, which a key-value-only page would load (test/browser/cold-start.spec.ts bounds its bytes).

/** Options of {@link KeyValue.withCache} and {@link KeyValue.enableCache}. */
export interface CacheOptions {
  /** Buffered bytes at which the cache writes everything out at once. Default 8 MiB. */
  flushThreshold?: number
  /**
   * Hard limit of buffered bytes: a write that would pass it flushes first, and a value larger
   * than it bypasses the cache (written at once). Default 64 MiB.
   */
  capBytes?: number
  /**
   * `enableCache` only: buffered writes are written at most this many milliseconds after the
   * first of them (a timer on the client side). Default: none (only the thresholds, `flush()`,
   * `disableCache()` and `close()` write them).
   */
  flushIntervalMs?: number
}

/** The cache options (kv's, and columns' too), validated, with their defaults. @internal */
export function cacheOptions(options: unknown, what: string): Required<Omit<CacheOptions, 'flushIntervalMs'>> & { flushIntervalMs: number | undefined } {
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object') throw new InvalidArgumentError(`${what} options must be an object such as { capBytes, flushThreshold }, got ${typeof options}`)
  const o = options as CacheOptions
  return {
    flushThreshold: o.flushThreshold === undefined ? 8 << 20 : checkWholeNumber(o.flushThreshold, `${what} flushThreshold`, 0),
    capBytes: o.capBytes === undefined ? 64 << 20 : checkWholeNumber(o.capBytes, `${what} capBytes`, 0),
    flushIntervalMs: o.flushIntervalMs === undefined ? undefined : checkWholeNumber(o.flushIntervalMs, `${what} flushIntervalMs`, 1),
  }
}

/** A stable string for a key, to index the cache by (byte keys compare by content). */
export function keyId(key: Key): string {
  return typeof key === 'string' ? 's' + key : 'b' + Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** Rough size of a value in memory, for the write cache's thresholds. */
function approximateBytes(v: EncodedValue, key: Key): number {
  return v.bytes.length + (typeof key === 'string' ? key.length * 2 : key.length) + 32
}

/** A write-out of the cache in flight. */
interface WriteOut {
  /** When it started (see the cache's `clock`): every entry it writes is older. */
  started: number
  /** The entries it writes, by key id ({@link keyId}): put back if it fails. */
  entries: Map<string, [Key, EncodedValue]>
  /** When each of them was written. */
  stamps: Map<string, number>
  /** Ids of the keys calls made since it started wrote (buffered, or sent to the engine). */
  written: Set<string>
  /** A clear went out since it started: nothing of it is put back. */
  cleared: boolean
}

/**
 * The write cache and the engine calls of a key-value handle: the base of {@link KeyValue}, which
 * adds the reads and the other writes. Members KeyValue uses are protected and internal (left out of
 * the published declarations); why a base class, see the top of this file.
 */
export class KeyValueWriteCache {
  /** The buffered entries by key id ({@link keyId}); undefined while the handle does not buffer. @internal */
  protected cache: Map<string, [Key, EncodedValue]> | undefined
  /** disableCache() or withCache's end is writing the cache out: new writes go straight to the engine. */
  private ending = false
  private cacheBytes = 0
  private cacheOptions: ReturnType<typeof cacheOptions> = cacheOptions({}, 'cache')
  /** The pending interval flush of `enableCache({ flushIntervalMs })`. */
  private flushTimer: ReturnType<typeof setTimeout> | undefined
  /** Write-outs in flight: what they write, and what calls made since wrote (see {@link flush}). */
  private readonly writeOuts = new Set<WriteOut>()
  /**
   * Program order of the handle's writes: every write call, buffered entry and write-out takes the
   * next number when it is made (a call that supersedes a key supersedes only what is older).
   */
  private clock = 0
  /** When each cached entry was written (by key id). */
  private readonly stamps = new Map<string, number>()

  /** @internal Use `vault.kv(namespace)`. */
  constructor(
    private readonly caller: DomainCaller,
    /** The namespace: key-value data of different namespaces never mix. */
    readonly namespace: string,
  ) {
    checkNamespace(namespace)
  }

  /** A call of the kv domain on this handle's namespace, in call order. @internal */
  protected call<T>(method: string, args: unknown[], transfer?: Transferable[]): Promise<T> {
    // After any earlier call whose values wait for the codec (kv-values.ts): calls keep their order.
    return inOrder(undefined, () => this.caller.call('kv', method, [this.namespace, ...args], transfer) as Promise<T>)
  }

  /**
   * Issue a call after what the cache holds is written (and after `wait`, this call's own values
   * being encoded). Calls on a handle take effect in the order they are made, awaited or not
   * (docs/kv.md, "Call order"): with nothing buffered the call goes out now, in this tick; else
   * the write-out goes out now and the call (with every call made after it) waits for it, and
   * fails with it, changing nothing.
   * @internal
   */
  protected afterFlush<W, T>(issue: (waited: W) => Promise<T>, wait?: Promise<W>): Promise<T> {
    if (!this.cache || this.cache.size === 0) {
      this.stopFlushTimer()
      return inOrder(wait, issue)
    }
    const flushed = this.flush()
    return inOrder(wait === undefined ? (flushed as Promise<unknown> as Promise<W>) : Promise.all([flushed, wait]).then(([, w]) => w), issue)
  }

  /**
   * Write everything the cache holds in one commit; resolves to the number of entries written
   * (0 without a cache). When the write fails, the entries stay buffered (unless set again since).
   */
  async flush(): Promise<number> {
    this.stopFlushTimer()
    const cache = this.cache
    if (!cache || cache.size === 0) return 0
    const out: WriteOut = { started: ++this.clock, entries: new Map(cache), stamps: new Map(this.stamps), written: new Set(), cleared: false }
    cache.clear()
    this.stamps.clear()
    this.cacheBytes = 0
    const b = new BatchBuilder()
    for (const [, [k, v]] of out.entries) b.add(k, v)
    const batch = b.build()
    this.writeOuts.add(out)
    try {
      return await this.call<number>('setMany', [batch], batchTransferables(batch))
    } catch (err) {
      // Put back what no later call wrote: a later write (buffered, or written out by a later
      // write-out, or sent to the engine) must win over the entry it superseded.
      if (this.cache === cache && !out.cleared) {
        for (const [id, entry] of out.entries) {
          if (cache.has(id) || out.written.has(id)) continue
          cache.set(id, entry)
          this.stamps.set(id, out.stamps.get(id)!)
          this.cacheBytes += approximateBytes(entry[1], entry[0])
        }
        this.armFlushTimer()
      }
      throw err
    } finally {
      this.writeOuts.delete(out)
    }
  }

  /**
   * `issue`, a call made now that writes `keys` (undefined: every key, a clear), as it goes out to
   * the engine: from then on it supersedes what is older than the call, in the write-outs still in
   * flight (a failed one does not put those keys back) and in the cache (entries a failed write-out
   * put back are dropped). A call that never goes out (it waited for a write-out that failed)
   * supersedes nothing.
   * @internal
   */
  protected superseding<W, T>(keys: readonly Key[] | undefined, issue: (waited: W) => Promise<T>): (waited: W) => Promise<T> {
    const made = ++this.clock
    return (waited) => {
      for (const out of this.writeOuts) {
        if (out.started > made) continue
        if (keys === undefined) out.cleared = true
        else for (const k of keys) out.written.add(keyId(k))
      }
      for (const id of keys === undefined ? [...this.stamps.keys()] : keys.map(keyId)) {
        if ((this.stamps.get(id) ?? Infinity) < made) this.unbufferId(id)
      }
      return issue(waited)
    }
  }

  /**
   * Buffer `set`/`setMany` in memory until {@link disableCache}, as {@link withCache} does for a
   * callback: reads see the buffer, any other change flushes it first. Buffered entries are written
   * when they reach `flushThreshold`, by {@link flush}, by {@link disableCache}, by `vault.close()`,
   * and, with `flushIntervalMs`, at most that long after the first of them (a client-side timer,
   * stopped by close). A crash, or a page or process that ends without close(), loses what the
   * cache had not written yet; every write it had written is durable. Enabling again changes the
   * options and keeps the buffer.
   */
  enableCache(options: CacheOptions = {}): void {
    const opts = cacheOptions(options, 'enableCache()')
    this.cacheOptions = opts
    this.cache ??= new Map()
    this.stopFlushTimer()
    this.armFlushTimer()
  }

  /** Write what the cache holds and stop buffering; resolves to the number of entries written. */
  async disableCache(): Promise<number> {
    if (!this.cache) return 0
    // Writes made from now on are not buffered (they go out after the write-out, in call order).
    this.ending = true
    try {
      const written = await this.flush()
      this.stopFlushTimer()
      this.cache = undefined
      this.stamps.clear()
      this.cacheBytes = 0
      return written
    } finally {
      this.ending = false
    }
  }

  /** @internal vault.close(): write what is buffered and stop the interval flush. */
  async _closeCache(): Promise<void> {
    this.stopFlushTimer()
    try {
      await this.flush()
    } finally {
      this.stopFlushTimer()
    }
  }

  private armFlushTimer(): void {
    const ms = this.cacheOptions.flushIntervalMs
    if (ms === undefined || this.flushTimer !== undefined || !this.cache || this.cache.size === 0) return
    // An error here comes back to the next flush() (the entries stay buffered).
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined
      this.flush().catch(() => {})
    }, ms)
    // Node: a pending flush does not keep the process alive (close() writes the buffer anyway).
    ;(this.flushTimer as { unref?: () => void }).unref?.()
  }

  private stopFlushTimer(): void {
    if (this.flushTimer === undefined) return
    clearTimeout(this.flushTimer)
    this.flushTimer = undefined
  }

  /** Drop a buffered entry (a write that supersedes it goes straight to the engine). @internal */
  protected unbuffer(key: Key): void {
    this.unbufferId(keyId(key))
  }

  private unbufferId(id: string): void {
    this.stamps.delete(id)
    const entry = this.cache?.get(id)
    if (!entry) return
    this.cache!.delete(id)
    this.cacheBytes -= approximateBytes(entry[1], entry[0])
  }

  /** Store one encoded value: into the cache while it buffers, else straight to the engine. @internal */
  protected async store(key: Key, encoded: EncodedValue): Promise<void> {
    if (this.buffering) return this.buffer(key, encoded)
    await this.superseding([key], () => this.call('set', [key, encoded]))(undefined)
  }

  /** The cache takes writes (it exists and is not being written out by disableCache/withCache's end). */
  private get buffering(): boolean {
    return this.cache !== undefined && !this.ending
  }

  /**
   * Put an entry in the cache now, so that a call made after this one sees it (no await before);
   * resolves once the write-out it caused (if any) is done. A write-out that fails rejects this
   * call; the entries, this one included, stay buffered (see {@link flush}).
   */
  private buffer(key: Key, encoded: EncodedValue): Promise<void> {
    const size = approximateBytes(encoded, key)
    const { capBytes, flushThreshold } = this.cacheOptions
    // Larger than the whole cache: written at once, after what is buffered (which may hold the key).
    if (size > capBytes) return this.afterFlush(this.superseding([key], () => this.call('set', [key, encoded])))
    const cache = this.cache!
    const id = keyId(key)
    // Buffered now, it is newer than what any write-out in flight holds for the key.
    for (const out of this.writeOuts) out.written.add(id)
    const prev = cache.get(id)
    const growth = size - (prev ? approximateBytes(prev[1], key) : 0)
    // flush() empties the cache before its first await: the entry goes into the emptied cache now.
    const before = this.cacheBytes + growth > capBytes ? this.flush() : undefined
    const replaced = cache.get(id)
    if (replaced) this.cacheBytes -= approximateBytes(replaced[1], key)
    cache.set(id, [key, encoded])
    this.stamps.set(id, ++this.clock)
    this.cacheBytes += size
    const after = this.cacheBytes >= Math.min(flushThreshold, capBytes) ? this.flush() : undefined
    if (!after) this.armFlushTimer()
    return Promise.all([before, after]).then(() => undefined)
  }

  /** As {@link store}, for the entries of one setMany (one commit when not buffered). @internal */
  protected async storeMany(keys: Key[], values: EncodedValue[]): Promise<number> {
    if (this.buffering) {
      // Every entry goes into the cache now (a call made after this one sees them all).
      const writes: Promise<void>[] = []
      for (let i = 0; i < keys.length; i++) writes.push(this.buffer(keys[i]!, values[i]!))
      await Promise.all(writes)
      return keys.length
    }
    return this.superseding(keys, () => this.sendMany(keys, values))(undefined)
  }

  /** One setMany call to the engine. @internal */
  protected sendMany(keys: Key[], values: EncodedValue[]): Promise<number> {
    const b = new BatchBuilder()
    for (let i = 0; i < keys.length; i++) b.add(keys[i]!, values[i]!)
    const batch = b.build()
    return this.call<number>('setMany', [batch], batchTransferables(batch))
  }

  /**
   * Buffer writes in memory while `fn` runs and write them in large batches: `set`/`setMany` go to
   * the buffer, reads see it, any other change flushes it first. Whatever is buffered is written
   * when `fn` returns or throws (then the error is re-thrown). Returns what `fn` returns.
   */
  async withCache<T>(options: CacheOptions, fn: () => Promise<T> | T): Promise<T> {
    const { flushThreshold, capBytes } = cacheOptions(options, 'withCache()')
    if (typeof fn !== 'function') throw new InvalidArgumentError('withCache() takes options and a function')
    if (this.cache) return fn()
    this.cacheOptions = { flushThreshold, capBytes, flushIntervalMs: undefined }
    this.cache = new Map()
    this.cacheBytes = 0
    try {
      return await fn()
    } finally {
      // As disableCache(): writes made while the buffer is written out go straight to the engine.
      this.ending = true
      try {
        await this.flush()
      } finally {
        this.cache = undefined
        this.stamps.clear()
        this.ending = false
      }
    }
  }
}
