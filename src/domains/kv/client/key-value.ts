import { InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import { captureBytes, checkIterable, checkWholeNumber } from '../../../codec/checks.js'
import type { DomainCaller } from '../../../protocol/domain-caller.js'
import { BatchBuilder, batchTransferables, batchValue } from '../shared/kv-batch.js'
import type { EncodedBatch, EncodedValue, Key, KeyQuery, SetOptions, SetStreamOptions } from '../shared/kv-types.js'
import { PendingValue, decodeStoredValue, encodeUserValue, readyToDecode, encodingOf, inOrder, settle, type ClientValue } from './kv-values.js'
import type { ByteSource } from './kv-streams.js'
import { checkKey, checkNamespace } from '../shared/kv-keys.js'

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

/** The cache options, validated, with their defaults. */
function cacheOptions(options: unknown, what: string): Required<Omit<CacheOptions, 'flushIntervalMs'>> & { flushIntervalMs: number | undefined } {
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object') throw new InvalidArgumentError(`${what} options must be an object such as { capBytes, flushThreshold }, got ${typeof options}`)
  const o = options as CacheOptions
  return {
    flushThreshold: o.flushThreshold === undefined ? 8 << 20 : checkWholeNumber(o.flushThreshold, `${what} flushThreshold`, 0),
    capBytes: o.capBytes === undefined ? 64 << 20 : checkWholeNumber(o.capBytes, `${what} capBytes`, 0),
    flushIntervalMs: o.flushIntervalMs === undefined ? undefined : checkWholeNumber(o.flushIntervalMs, `${what} flushIntervalMs`, 1),
  }
}

/** kv streams' code (setStream, getStream): loaded on first use, from one place (docs/cold-start.md). */
const kvStreams = () => import('./kv-streams.js')

/** Validate a key and capture it: byte keys are copied now, so later changes to them do not count. */
function checkClientKey(key: unknown): Key {
  checkKey(key)
  return typeof key === 'string' ? key : captureBytes(key, 'key')
}

/** The keys of a bulk call, validated and captured (a string is refused: it is not a list of keys). */
function clientKeys(keys: unknown, what: string): Key[] {
  return Array.from(checkIterable<unknown>(keys, what), checkClientKey)
}

function keyId(key: Key): string {
  return typeof key === 'string' ? 's' + key : 'b' + Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** Value `i` of a batch, decoded: call once {@link readyToDecode} allows (then it is synchronous). */
function batchEntry(batch: EncodedBatch, i: number): unknown {
  return decodeStoredValue(batchValue(batch, i))
}

async function decodeBatch(batch: EncodedBatch): Promise<Map<Key, unknown>> {
  // The codec loads first if some value needs it and it is not loaded yet (once per page).
  await readyToDecode(batch.kinds)
  const out = new Map<Key, unknown>()
  for (let i = 0; i < batch.keys.length; i++) out.set(batch.keys[i]!, batchEntry(batch, i))
  return out
}

const MISSING = Symbol('missing')

/** Rough size of a value in memory, for the write cache's thresholds. */
function approximateBytes(v: EncodedValue, key: Key): number {
  return v.bytes.length + (typeof key === 'string' ? key.length * 2 : key.length) + 32
}

/**
 * A dict-like key-value namespace of a vault (`vault.kv()` or `vault.kv('settings')`).
 * Keys are strings or Uint8Arrays; values are anything structured clone can carry except
 * functions, symbols and class instances. `null` is a value; `undefined` means missing.
 */
export class KeyValue<V = unknown> implements AsyncIterable<[Key, V]> {
  private cache: Map<string, [Key, EncodedValue]> | undefined
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

  private call<T>(method: string, args: unknown[], transfer?: Transferable[]): Promise<T> {
    // After any earlier call whose values wait for the codec (kv-values.ts): calls keep their order.
    return inOrder(undefined, () => this.caller.call('kv', method, [this.namespace, ...args], transfer) as Promise<T>)
  }

  /**
   * Issue a call after what the cache holds is written (and after `wait`, this call's own values
   * being encoded). Calls on a handle take effect in the order they are made, awaited or not
   * (docs/kv.md, "Call order"): with nothing buffered the call goes out now, in this tick; else
   * the write-out goes out now and the call (with every call made after it) waits for it, and
   * fails with it, changing nothing.
   */
  private afterFlush<W, T>(issue: (waited: W) => Promise<T>, wait?: Promise<W>): Promise<T> {
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
   */
  private superseding<W, T>(keys: readonly Key[] | undefined, issue: (waited: W) => Promise<T>): (waited: W) => Promise<T> {
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

  /** The value of `key`, or `fallback` (default undefined) when it is missing. */
  async get(key: Key, fallback?: V): Promise<V | undefined> {
    key = checkClientKey(key)
    const cached = this.cache?.get(keyId(key))
    if (cached) return (await decodeStoredValue(cached[1])) as V
    const v = await this.call<EncodedValue | undefined>('get', [key])
    return v === undefined ? fallback : ((await decodeStoredValue(v)) as V)
  }

  /** The value of `key`; NotFoundError when it is missing. */
  async getOrThrow(key: Key): Promise<V> {
    const v = await this.get(key, MISSING as V)
    if (v === (MISSING as V)) throw new NotFoundError(`key ${describeKey(key)} not found in namespace "${this.namespace}"`)
    return v as V
  }

  /**
   * Store a value (replacing any). Resolves once durable (with strict durability).
   * `options.encoding` forces how it is stored (`'json'`, `'msgpack'`, `'raw'`; see {@link SetOptions}).
   */
  async set(key: Key, value: V, options?: SetOptions): Promise<void> {
    key = checkClientKey(key)
    const encoded = encodeUserValue(value, encodingOf(options))
    if (encoded instanceof PendingValue) {
      // It waits for the codec, so it cannot be buffered now: it goes out on its own, in call
      // order, and an older buffered value of the key is dropped now (reads made meanwhile then
      // ask the engine, behind this write).
      this.unbuffer(key)
      return inOrder(settle([encoded]), this.superseding([key], ([v]) => this.call('set', [key, v])))
    }
    return this.store(key, encoded)
  }

  /** Drop a buffered entry (a write that supersedes it goes straight to the engine). */
  private unbuffer(key: Key): void {
    this.unbufferId(keyId(key))
  }

  private unbufferId(id: string): void {
    this.stamps.delete(id)
    const entry = this.cache?.get(id)
    if (!entry) return
    this.cache!.delete(id)
    this.cacheBytes -= approximateBytes(entry[1], entry[0])
  }

  private async store(key: Key, encoded: EncodedValue): Promise<void> {
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

  /**
   * Store the bytes a stream delivers as the value of `key`, without ever holding them all in
   * memory: they are stored in 4 MiB chunks as they arrive and become the value in one commit at
   * the end (a failure writes nothing). `source` is a ReadableStream, a Blob, or an (async)
   * iterable of Uint8Array chunks; `options.size`, when given, must match what it delivers.
   * Resolves to the number of bytes written. `get()` reads such a value back whole (a Uint8Array);
   * {@link getStream} reads it chunk by chunk.
   */
  async setStream(key: Key, source: ByteSource, options?: SetStreamOptions): Promise<number> {
    key = checkClientKey(key)
    const write = this.superseding([key], async () => {
      // The streaming code loads on first use (docs/cold-start.md, "Main-thread bytes").
      const { writeStream } = await kvStreams()
      return writeStream((method, args, transfer) => this.call(method, args, transfer), key, source, options)
    })
    // Writes buffered by the cache came first: they go out before the stream, which must win.
    if (this.cache && this.cache.size > 0) await this.flush()
    return write(undefined)
  }

  /**
   * The bytes value of `key` as a ReadableStream of chunks, fetched as the reader pulls (one
   * chunk ahead at most). NotFoundError when the key is missing; InvalidArgumentError when its
   * value is not bytes. A streamed value replaced or deleted while it is read makes the stream
   * error with ConflictError rather than deliver a mix of two values.
   */
  async getStream(key: Key): Promise<ReadableStream<Uint8Array>> {
    key = checkClientKey(key)
    if (this.cache?.has(keyId(key))) await this.flush()
    const { readStream } = await kvStreams()
    return readStream((method, args, transfer) => this.call(method, args, transfer), key, `${describeKey(key)} in namespace "${this.namespace}"`)
  }

  /** True when `key` exists. */
  async has(key: Key): Promise<boolean> {
    key = checkClientKey(key)
    if (this.cache?.has(keyId(key))) return true
    return this.call('has', [key])
  }

  /** Remove a key; true when it existed. */
  async delete(key: Key): Promise<boolean> {
    key = checkClientKey(key)
    return this.afterFlush(this.superseding([key], () => this.call('delete', [key])))
  }

  /** Remove and return a value; `fallback` (or NotFoundError when none is given) when missing. */
  async pop(key: Key, ...fallback: [V?]): Promise<V> {
    key = checkClientKey(key)
    const v = await this.afterFlush(this.superseding([key], () => this.call<EncodedValue | undefined>('pop', [key as Key])))
    if (v !== undefined) return (await decodeStoredValue(v)) as V
    if (fallback.length > 0) return fallback[0] as V
    throw new NotFoundError(`key ${describeKey(key)} not found in namespace "${this.namespace}"`)
  }

  /** Remove and return the last entry in key order (not the last inserted); NotFoundError when empty. */
  async popItem(): Promise<[Key, V]> {
    const r = await this.afterFlush(() => this.call<{ key: Key; value: EncodedValue } | undefined>('popItem', []))
    if (!r) throw new NotFoundError(`namespace "${this.namespace}" is empty`)
    return [r.key, (await decodeStoredValue(r.value)) as V]
  }

  /** Store `value` unless `key` exists; returns the value now stored. */
  async setDefault(key: Key, value: V): Promise<V> {
    key = checkClientKey(key)
    const given = encodeUserValue(value)
    const stored =
      given instanceof PendingValue
        ? this.afterFlush(this.superseding([key], ([encoded]: EncodedValue[]) => this.call<EncodedValue>('setDefault', [key, encoded])), settle([given]))
        : this.afterFlush(this.superseding([key], () => this.call<EncodedValue>('setDefault', [key, given])))
    return (await decodeStoredValue(await stored)) as V
  }

  /** Store every entry of an object, a Map or an iterable of pairs in one commit; returns the count. */
  async update(entries: Record<string, V> | Map<Key, V> | Iterable<readonly [Key, V]>): Promise<number> {
    return this.setMany(toPairs(entries))
  }

  /** Store many entries in one atomic commit; returns the count. */
  async setMany(entries: Iterable<readonly [Key, V]> | Map<Key, V>): Promise<number> {
    const keys: Key[] = []
    const values: ClientValue[] = []
    let pending = false
    let i = 0
    for (const entry of checkIterable<unknown>(entries, 'setMany() entries')) {
      if (!Array.isArray(entry) || entry.length !== 2) throw new InvalidArgumentError(`setMany() takes [key, value] pairs; entry ${i} is not one`)
      keys.push(checkClientKey(entry[0]))
      const v = encodeUserValue(entry[1])
      if (v instanceof PendingValue) pending = true
      values.push(v)
      i++
    }
    if (pending) {
      // As set(): written on its own once the codec is loaded, not buffered.
      for (const k of keys) this.unbuffer(k)
      return inOrder(settle(values), this.superseding(keys, (encoded: EncodedValue[]) => this.sendMany(keys, encoded)))
    }
    return this.storeMany(keys, values as EncodedValue[])
  }

  private async storeMany(keys: Key[], values: EncodedValue[]): Promise<number> {
    if (this.buffering) {
      // Every entry goes into the cache now (a call made after this one sees them all).
      const writes: Promise<void>[] = []
      for (let i = 0; i < keys.length; i++) writes.push(this.buffer(keys[i]!, values[i]!))
      await Promise.all(writes)
      return keys.length
    }
    return this.superseding(keys, () => this.sendMany(keys, values))(undefined)
  }

  /** One setMany call to the engine. */
  private sendMany(keys: Key[], values: EncodedValue[]): Promise<number> {
    const b = new BatchBuilder()
    for (let i = 0; i < keys.length; i++) b.add(keys[i]!, values[i]!)
    const batch = b.build()
    return this.call<number>('setMany', [batch], batchTransferables(batch))
  }

  /** The found entries of `keys`, as a Map (missing keys are absent). */
  async getMany(keys: Iterable<Key>): Promise<Map<Key, V>> {
    const list = clientKeys(keys, 'getMany() keys')
    return (await decodeBatch(await this.afterFlush(() => this.call<EncodedBatch>('getMany', [list])))) as Map<Key, V>
  }

  /** Remove many keys in one commit; returns how many existed. */
  async deleteMany(keys: Iterable<Key>): Promise<number> {
    const list = clientKeys(keys, 'deleteMany() keys')
    return this.afterFlush(this.superseding(list, () => this.call<number>('deleteMany', [list])))
  }

  /** Remove many keys and return the values that existed, as a Map. */
  async popMany(keys: Iterable<Key>): Promise<Map<Key, V>> {
    const list = clientKeys(keys, 'popMany() keys')
    return (await decodeBatch(await this.afterFlush(this.superseding(list, () => this.call<EncodedBatch>('popMany', [list]))))) as Map<Key, V>
  }

  /** True when every key exists. */
  async hasAll(keys: Iterable<Key>): Promise<boolean> {
    const list = clientKeys(keys, 'hasAll() keys')
    return this.afterFlush(() => this.call('hasAll', [list]))
  }

  /** Number of entries. */
  async size(): Promise<number> {
    return this.afterFlush(() => this.call('size', []))
  }

  /** Keys in order: string keys by UTF-8 bytes, then byte keys. */
  async keys(query: KeyQuery = {}): Promise<Key[]> {
    query = clientQuery(query)
    return this.afterFlush(() => this.call('keys', [query]))
  }

  /** Values in key order. */
  async values(query: KeyQuery = {}): Promise<V[]> {
    return [...(await this.entries(query)).map(([, v]) => v)]
  }

  /** [key, value] pairs in key order. */
  async entries(query: KeyQuery = {}): Promise<[Key, V][]> {
    query = clientQuery(query)
    return [...(await decodeBatch(await this.afterFlush(() => this.call<EncodedBatch>('scan', [query]))))] as [Key, V][]
  }

  /** Remove every entry of the namespace; returns how many there were. */
  async clear(): Promise<number> {
    // What the cache holds is written first, so that the count includes it.
    return this.afterFlush(this.superseding(undefined, () => this.call<number>('clear', [])))
  }

  /** Iterate entries in key order, fetched in batches of `batchSize` (default 1000). */
  async *iterate(query: KeyQuery & { batchSize?: number } = {}): AsyncGenerator<[Key, V]> {
    const { prefix, limit } = clientQuery(query)
    const batchSize = query?.batchSize === undefined ? 1000 : checkWholeNumber(query.batchSize, 'iterate() batchSize', 1)
    let after: Key | undefined
    let remaining = limit ?? Infinity
    // The first page is read in call order (when iteration starts); later pages as they are fetched.
    let first = true
    while (remaining > 0) {
      const scan = { prefix, after, limit: Math.min(batchSize, remaining) }
      const page = await (first ? this.afterFlush(() => this.call<EncodedBatch>('scan', [scan])) : this.call<EncodedBatch>('scan', [scan]))
      first = false
      const n = page.keys.length
      await readyToDecode(page.kinds)
      for (let i = 0; i < n; i++) yield [page.keys[i]!, batchEntry(page, i) as V]
      if (n < Math.min(batchSize, remaining)) return
      after = page.keys[n - 1]
      remaining -= n
    }
  }

  /** `for await (const [key, value] of kv)`: streams every entry in batches. */
  [Symbol.asyncIterator](): AsyncIterator<[Key, V]> {
    return this.iterate()
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

/** A write-out of the cache in flight. */
interface WriteOut {
  /** When it started (see KeyValue's `clock`): every entry it writes is older. */
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

/** A key query, validated and captured when the call is made. */
function clientQuery(query: unknown): KeyQuery {
  if (query === undefined || query === null) return {}
  if (typeof query !== 'object') throw new InvalidArgumentError(`a key query must be an object such as { prefix, limit }, got ${typeof query}`)
  const q = query as KeyQuery
  const out: KeyQuery = {}
  if (q.prefix !== undefined) out.prefix = checkClientKey(q.prefix)
  if (q.limit !== undefined) out.limit = checkWholeNumber(q.limit, 'limit', 0)
  return out
}

function toPairs<V>(entries: Record<string, V> | Map<Key, V> | Iterable<readonly [Key, V]>): Iterable<readonly [Key, V]> {
  if (entries instanceof Map) return entries
  if (typeof entries !== 'object' || entries === null) throw new InvalidArgumentError(`update() takes an object, a Map or an iterable of [key, value] pairs, got ${entries === null ? 'null' : typeof entries}`)
  if (typeof (entries as Iterable<unknown>)[Symbol.iterator] === 'function') return entries as Iterable<readonly [Key, V]>
  if (Object.getPrototypeOf(entries) === Object.prototype || Object.getPrototypeOf(entries) === null) return Object.entries(entries) as [Key, V][]
  throw new InvalidArgumentError('update() takes an object, a Map or an iterable of [key, value] pairs')
}

function describeKey(key: Key): string {
  return typeof key === 'string' ? JSON.stringify(key) : `<${key.length} bytes>`
}
