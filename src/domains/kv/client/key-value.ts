import { InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import { captureBytes, checkIterable, checkWholeNumber } from '../../../codec/checks.js'
import { batchValue } from '../shared/kv-batch.js'
import type { EncodedBatch, EncodedValue, Key, KeyQuery, SetOptions, SetStreamOptions } from '../shared/kv-types.js'
import { PendingValue, decodeStoredValue, encodeUserValue, readyToDecode, encodingOf, inOrder, settle, type ClientValue } from './kv-values.js'
import type { ByteSource } from './kv-streams.js'
import { checkKey } from '../shared/kv-keys.js'
import { KeyValueWriteCache, keyId } from './kv-write-cache.js'

export type { CacheOptions } from './kv-write-cache.js'

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

/**
 * A dict-like key-value namespace of a vault (`vault.kv()` or `vault.kv('settings')`).
 * Keys are strings or Uint8Arrays; values are anything structured clone can carry except
 * functions, symbols and class instances. `null` is a value; `undefined` means missing.
 */
export class KeyValue<V = unknown> extends KeyValueWriteCache implements AsyncIterable<[Key, V]> {
  /** The value of `key`, or `fallback` (default undefined) when it is missing. */
  async get(key: Key, fallback?: V): Promise<V | undefined> {
    key = checkClientKey(key)
    const cached = this.cache?.get(keyId(key))
    if (cached) return (await decodeStoredValue(cached[1])) as V
    const v = await this.call<EncodedValue | undefined>('get', [key])
    // Not awaited: the value itself, or the codec's load adopted (one microtask turn less per get).
    return v === undefined ? fallback : (decodeStoredValue(v) as V)
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
