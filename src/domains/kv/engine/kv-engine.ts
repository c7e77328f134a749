import { CorruptionError, InvalidArgumentError } from '../../../errors/errors.js'
import type { CallContext, DomainSchema } from '../../../engine/context.js'
import type { SqlValue } from '../../../sqlite/sqlite-database.js'
import { BatchBuilder, batchValue } from '../shared/kv-batch.js'
import { checkKey, checkNamespace } from '../shared/kv-keys.js'
import { checkWholeNumber } from '../../../codec/checks.js'
import { isValueKind, ValueKind, type EncodedBatch, type EncodedValue, type Key, type KeyQuery, type StreamInfo } from '../shared/kv-types.js'
import { KV_CHUNKED, KV_IN_BLOB, chunkReferences, writeNamespace } from './kv-entries.js'
import { KvStreams, readManifest } from './kv-streams.js'
import { HeldBlobs, rowBlobs } from './kv-row-blobs.js'
import { CallTurns } from '../../../engine/call-turns.js'
import { kvMethods } from '../shared/kv-methods.js'

/** Values larger than this go to the blob store instead of the SQLite image. */
export const KV_BLOB_THRESHOLD = 256 * 1024
/** Flag in `kv.kind` (see kv-entries.ts): `value` holds the hash of a blob, not the bytes. */
const IN_BLOB = KV_IN_BLOB

/**
 * Key-value tables. A namespace is a small integer (`kv_namespaces`), so rows do not repeat its
 * name. `key` is declared without affinity, so a string key is stored as TEXT and a byte key as
 * BLOB: they never collide, and SQLite orders all text keys before all byte keys. WITHOUT ROWID
 * keeps one B-tree per table (a rowid table plus a unique index would insert twice per row).
 */
export const kvSchema: DomainSchema = {
  schema: `
    CREATE TABLE IF NOT EXISTS kv_namespaces (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE IF NOT EXISTS kv (
      ns INTEGER NOT NULL,
      key NOT NULL,
      kind INTEGER NOT NULL,
      value BLOB NOT NULL,
      PRIMARY KEY (ns, key)
    ) WITHOUT ROWID;`,
  blobReferences: [`SELECT value FROM kv WHERE kind & ${IN_BLOB}`, chunkReferences('kv')],
}

/** Rows per multi-row INSERT in setMany: fewer statement steps, same parameters. */
const ROWS_PER_INSERT = 64
const MULTI_INSERT = `INSERT OR REPLACE INTO kv (ns, key, kind, value) VALUES ${Array(ROWS_PER_INSERT).fill('(?, ?, ?, ?)').join(', ')}`

/** Batches at least this large are written in key order (see `writeRows`). */
const SORTED_INSERT_FROM = 2 * ROWS_PER_INSERT

/**
 * Row indices of `keys` in the order SQLite keeps them (text before blobs; text by code unit, which
 * is UTF-8 byte order but for astral characters: only speed depends on it), stable for equal keys;
 * undefined when they already are in order.
 */
function keyOrder(keys: Key[]): Uint32Array | undefined {
  let sorted = true
  for (let i = 1; i < keys.length && sorted; i++) sorted = compareKeys(keys[i - 1]!, keys[i]!) <= 0
  if (sorted) return undefined
  const order = new Uint32Array(keys.length)
  for (let i = 0; i < order.length; i++) order[i] = i
  // Typed-array sort is not guaranteed stable: ties are broken by position.
  return order.sort((a, b) => compareKeys(keys[a]!, keys[b]!) || a - b)
}

function compareKeys(a: Key, b: Key): number {
  if (typeof a === 'string') return typeof b === 'string' ? (a < b ? -1 : a > b ? 1 : 0) : -1
  return typeof b === 'string' ? 1 : 0
}

const SQL = {
  nsId: 'SELECT id FROM kv_namespaces WHERE name = ?',
  get: 'SELECT kind, value FROM kv WHERE ns = ? AND key = ?',
  has: 'SELECT 1 FROM kv WHERE ns = ? AND key = ?',
  upsert: 'INSERT OR REPLACE INTO kv (ns, key, kind, value) VALUES (?, ?, ?, ?)',
  insertIfMissing: 'INSERT OR IGNORE INTO kv (ns, key, kind, value) VALUES (?, ?, ?, ?)',
  delete: 'DELETE FROM kv WHERE ns = ? AND key = ?',
  size: 'SELECT count(*) FROM kv WHERE ns = ?',
  clear: 'DELETE FROM kv WHERE ns = ?',
  last: 'SELECT key, kind, value FROM kv WHERE ns = ? ORDER BY key DESC LIMIT 1',
}

function checkKeys(keys: unknown): asserts keys is Key[] {
  if (!Array.isArray(keys)) throw new InvalidArgumentError(`keys must be an array, got ${keys === null ? 'null' : typeof keys}`)
  for (let i = 0; i < keys.length; i++) checkKey(keys[i], `key ${i}`)
}

function checkValue(value: EncodedValue | undefined): asserts value is EncodedValue {
  if (!value || !isValueKind(value.kind) || !(value.bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError('an encoded value must be { kind, bytes } with a known kind')
  }
}

/** The engine side of the key-value API; every method takes the call's context first. */
export class KvEngine {
  private readonly streams = new KvStreams()
  /** Calls run in arrival order, also past a large value's trip to the blob store (src/engine/call-turns.ts). */
  private readonly turns = new CallTurns()

  /** One chunk of a value being written with `setStream()`: stored (durably) and held until commit. */
  streamPut(ctx: CallContext, _ns: string, bytes: Uint8Array): Promise<string> {
    return this.streams.put(ctx, bytes)
  }

  /** Store the chunks written by `streamPut` as the value of `key` (in one commit). */
  streamCommit(ctx: CallContext, ns: string, key: Key, hashes: string[], size: number): Promise<void> {
    checkNamespace(ns)
    return this.streams.commit(ctx, ns, key, hashes, size)
  }

  /** Release the chunks of a stream that will not be committed. */
  streamAbort(ctx: CallContext, _ns: string, hashes: string[]): Promise<void> {
    return this.streams.abort(ctx, hashes)
  }

  /** Where the bytes of `key`'s value are, for `getStream()`; undefined when it is missing. */
  streamInfo(ctx: CallContext, ns: string, key: Key): Promise<StreamInfo | undefined> {
    checkNamespace(ns)
    return this.streams.info(ctx, ns, key, async (kind, value) => (await this.load(ctx, kind, value)).bytes)
  }

  /** Chunk `index` (hash `hash`) of `key`'s streamed value; ConflictError once the value changed. */
  streamChunk(ctx: CallContext, ns: string, key: Key, index: number, hash: string): Promise<Uint8Array> {
    checkNamespace(ns)
    return this.streams.chunk(ctx, ns, key, index, hash)
  }

  /** Turn a row's kind and value into the value's bytes (reading its blob when stored outside). */
  private async load(ctx: CallContext, kind: number, value: SqlValue): Promise<EncodedValue> {
    if (kind & KV_CHUNKED) return { kind: ValueKind.Raw, bytes: await this.joinChunks(ctx, value) }
    if (kind & IN_BLOB) return { kind: kind & ~IN_BLOB, bytes: await ctx.blobs.get(value as string) }
    return { kind, bytes: value as Uint8Array }
  }

  /** The whole of a value written as a stream (read whole by get(), as the caller asked). */
  private async joinChunks(ctx: CallContext, value: SqlValue): Promise<Uint8Array> {
    const { size, chunks } = readManifest(value)
    const out = new Uint8Array(size)
    let at = 0
    // Every chunk is pinned now, in the tick its row was read (see BlobStore.reading).
    await ctx.blobs.reading(chunks, async () => {
      for (const hash of chunks) {
        const part = await ctx.blobs.get(hash)
        if (at + part.length > size) break
        out.set(part, at)
        at += part.length
      }
    })
    if (at !== size) throw new CorruptionError(`a streamed value's chunks hold ${at} bytes, not the ${size} recorded`)
    return out
  }

  /** Move a large value to the blob store before the write; returns its row form. */
  private async store(ctx: CallContext, value: EncodedValue): Promise<[number, SqlValue]> {
    if (value.bytes.length <= KV_BLOB_THRESHOLD) return [value.kind, value.bytes]
    return [value.kind | IN_BLOB, await ctx.blobs.put(value.bytes)]
  }

  /** The id of a namespace for reading; undefined when it was never written. */
  private readNs(ctx: CallContext, ns: string): number | undefined {
    checkNamespace(ns)
    return ctx.db.get(SQL.nsId, [ns])?.[0] as number | undefined
  }

  /** The id of a namespace for writing (inside a write function): created on first use. */
  private writeNs(ctx: CallContext, ns: string): number {
    return writeNamespace(ctx.db, ns)
  }

  private row(ctx: CallContext, id: number | undefined, key: Key): SqlValue[] | undefined {
    return id === undefined ? undefined : ctx.db.get(SQL.get, [id, key])
  }

  async get(ctx: CallContext, ns: string, key: Key): Promise<EncodedValue | undefined> {
    checkKey(key)
    const row = this.row(ctx, this.readNs(ctx, ns), key)
    return row ? this.load(ctx, row[0] as number, row[1]!) : undefined
  }

  async has(ctx: CallContext, ns: string, key: Key): Promise<boolean> {
    checkKey(key)
    const id = this.readNs(ctx, ns)
    return id !== undefined && ctx.db.get(SQL.has, [id, key]) !== undefined
  }

  async hasAll(ctx: CallContext, ns: string, keys: Key[]): Promise<boolean> {
    checkKeys(keys)
    const id = this.readNs(ctx, ns)
    if (id === undefined) return keys.length === 0
    return keys.every((k) => ctx.db.get(SQL.has, [id, k]) !== undefined)
  }

  async set(ctx: CallContext, ns: string, key: Key, value: EncodedValue): Promise<void> {
    checkNamespace(ns)
    checkKey(key)
    checkValue(value)
    // A small value is written now (a call made after this one, even unawaited, sees it); a large
    // one goes to the blob store first, and the calls made after it wait until its write has run
    // (CallTurns; shared mode: the write may wait for the write lock, `writesRun`).
    if (value.bytes.length <= KV_BLOB_THRESHOLD) return this.turns.run(async () => {
        await ctx.write(() => ctx.db.run(SQL.upsert, [this.writeNs(ctx, ns), key, value.kind, value.bytes]))
      }, ctx.writesRun)
    return this.turns.after(this.store(ctx, value), async ([kind, stored]) => {
      try {
        await ctx.write(() => ctx.db.run(SQL.upsert, [this.writeNs(ctx, ns), key, kind, stored]))
      } finally {
        ctx.blobs.unpin(stored as string)
      }
    }, ctx.writesRun)
  }

  /** Write every entry of the batch in one commit; returns how many were written. */
  async setMany(ctx: CallContext, ns: string, batch: EncodedBatch): Promise<number> {
    checkNamespace(ns)
    if (!batch || !Array.isArray(batch.keys) || !(batch.offsets instanceof Uint32Array) || !(batch.kinds instanceof Uint8Array) || !(batch.bytes instanceof Uint8Array)) {
      throw new InvalidArgumentError('malformed value batch')
    }
    const n = batch.keys.length
    if (batch.offsets.length !== n + 1 || batch.kinds.length !== n || batch.offsets[n]! > batch.bytes.length) throw new InvalidArgumentError('malformed value batch')
    const kinds: number[] = new Array(n)
    const values: SqlValue[] = new Array(n)
    const large: number[] = []
    for (let i = 0; i < n; i++) {
      checkKey(batch.keys[i])
      const v = batchValue(batch, i)
      checkValue(v)
      kinds[i] = v.kind
      values[i] = v.bytes
      if (v.bytes.length > KV_BLOB_THRESHOLD) large.push(i)
    }
    // Only large values need the (async) blob store; the common small case is written now.
    if (large.length === 0) return this.turns.run(() => this.writeRows(ctx, ns, batch.keys, kinds, values), ctx.writesRun)
    const prepared = Promise.allSettled(large.map((i) => this.store(ctx, { kind: kinds[i]!, bytes: values[i] as Uint8Array }))).then((results) => {
      const failed = results.find((r) => r.status === 'rejected')
      if (failed) {
        for (const r of results) if (r.status === 'fulfilled') ctx.blobs.unpin(r.value[1] as string)
        throw failed.reason
      }
      return results.map((r) => (r as PromiseFulfilledResult<[number, SqlValue]>).value)
    })
    return this.turns.after(prepared, async (stored) => {
      large.forEach((i, j) => ([kinds[i], values[i]] = stored[j]!))
      try {
        return await this.writeRows(ctx, ns, batch.keys, kinds, values)
      } finally {
        for (const [, hash] of stored) ctx.blobs.unpin(hash as string)
      }
    }, ctx.writesRun)
  }

  private writeRows(ctx: CallContext, ns: string, keys: Key[], kinds: number[], values: SqlValue[]): Promise<number> {
    const n = keys.length
    // Rows go in in key order: SQLite then appends to the key B-tree instead of splitting pages all
    // over it (100k keys: about a quarter off a bulk write). The sort is stable, so a later duplicate
    // of a key is still written after the earlier one and wins, as with one set() after another.
    const order = n >= SORTED_INSERT_FROM ? keyOrder(keys) : undefined
    return ctx.write(() => {
      const id = this.writeNs(ctx, ns)
      let i = 0
      for (; i + ROWS_PER_INSERT <= n; i += ROWS_PER_INSERT) {
        const params: SqlValue[] = new Array(ROWS_PER_INSERT * 4)
        for (let j = 0; j < ROWS_PER_INSERT; j++) {
          const r = order ? order[i + j]! : i + j
          params[j * 4] = id
          params[j * 4 + 1] = keys[r]!
          params[j * 4 + 2] = kinds[r]!
          params[j * 4 + 3] = values[r]!
        }
        ctx.db.run(MULTI_INSERT, params)
      }
      for (; i < n; i++) {
        const r = order ? order[i]! : i
        ctx.db.run(SQL.upsert, [id, keys[r]!, kinds[r]!, values[r]!])
      }
      return n
    })
  }

  /** Store `value` unless the key exists; returns the stored value either way. */
  async setDefault(ctx: CallContext, ns: string, key: Key, value: EncodedValue): Promise<EncodedValue> {
    checkNamespace(ns)
    checkKey(key)
    checkValue(value)
    const write = ([kind, stored]: [number, SqlValue]): Promise<EncodedValue> =>
      ctx
        .write(() => {
          const id = this.writeNs(ctx, ns)
          const row = ctx.db.get(SQL.get, [id, key])
          if (row) return row
          ctx.db.run(SQL.insertIfMissing, [id, key, kind, stored])
          return undefined
        })
        .then((existing) => (existing ? this.load(ctx, existing[0] as number, existing[1]!) : value))
    if (value.bytes.length <= KV_BLOB_THRESHOLD) return this.turns.run(() => write([value.kind, value.bytes]), ctx.writesRun)
    return this.turns.after(this.store(ctx, value), async (stored) => {
      try {
        return await write(stored)
      } finally {
        ctx.blobs.unpin(stored[1] as string)
      }
    }, ctx.writesRun)
  }

  async getMany(ctx: CallContext, ns: string, keys: Key[]): Promise<EncodedBatch> {
    checkKeys(keys)
    const id = this.readNs(ctx, ns)
    // Every row is read now, before any await (a large value's blob): a write that comes after
    // this call must not change what it answers.
    const rows: [Key, SqlValue[]][] = []
    for (const key of keys) {
      const row = this.row(ctx, id, key)
      if (row) rows.push([key, row])
    }
    // Their blobs are pinned now, before the first load (see BlobStore.reading).
    return ctx.blobs.reading(
      rows.flatMap(([, row]) => rowBlobs(row[0] as number, row[1]!)),
      async () => {
        const out = new BatchBuilder()
        for (const [key, row] of rows) out.add(key, await this.load(ctx, row[0] as number, row[1]!))
        return out.build()
      },
    )
  }

  async delete(ctx: CallContext, ns: string, key: Key): Promise<boolean> {
    checkKey(key)
    checkNamespace(ns)
    // The namespace is looked up inside the write: in shared mode, only there is the database
    // caught up with earlier writes (this handle's and other processes').
    return (await ctx.write(() => {
      const id = this.readNs(ctx, ns)
      return id === undefined ? 0 : ctx.db.run(SQL.delete, [id, key])
    })) > 0
  }

  async deleteMany(ctx: CallContext, ns: string, keys: Key[]): Promise<number> {
    checkKeys(keys)
    checkNamespace(ns)
    return ctx.write(() => {
      const id = this.readNs(ctx, ns)
      if (id === undefined) return 0
      let n = 0
      for (const key of keys) n += ctx.db.run(SQL.delete, [id, key])
      return n
    })
  }

  /** Remove and return a value (atomically); undefined when missing. */
  async pop(ctx: CallContext, ns: string, key: Key): Promise<EncodedValue | undefined> {
    checkKey(key)
    checkNamespace(ns)
    // The row's blobs are pinned as it is deleted, until loaded: from the commit on nothing refers
    // to them, and a checkpoint then must not collect them before this call has read them.
    const held = new HeldBlobs(ctx)
    const row = await held.during(() =>
      ctx.write(() => {
        const id = this.readNs(ctx, ns)
        if (id === undefined) return undefined
        const r = ctx.db.get(SQL.get, [id, key])
        if (r) {
          ctx.db.run(SQL.delete, [id, key])
          held.hold(r[0] as number, r[1]!)
        }
        return r
      }),
    )
    return held.during(async () => (row ? this.load(ctx, row[0] as number, row[1]!) : undefined), true)
  }

  async popMany(ctx: CallContext, ns: string, keys: Key[]): Promise<EncodedBatch> {
    checkKeys(keys)
    checkNamespace(ns)
    const out = new BatchBuilder()
    // Pinned as deleted, until loaded (see pop).
    const held = new HeldBlobs(ctx)
    const rows = await held.during(() =>
      ctx.write(() => {
        const found: [Key, SqlValue[]][] = []
        const id = this.readNs(ctx, ns)
        if (id === undefined) return found
        for (const key of keys) {
          const r = ctx.db.get(SQL.get, [id, key])
          if (r) {
            ctx.db.run(SQL.delete, [id, key])
            held.hold(r[0] as number, r[1]!)
            found.push([key, r])
          }
        }
        return found
      }),
    )
    return held.during(async () => {
      for (const [key, r] of rows) out.add(key, await this.load(ctx, r[0] as number, r[1]!))
      return out.build()
    }, true)
  }

  /** Remove and return an entry (the last in key order); undefined when the namespace is empty. */
  async popItem(ctx: CallContext, ns: string): Promise<{ key: Key; value: EncodedValue } | undefined> {
    checkNamespace(ns)
    // Pinned as deleted, until loaded (see pop).
    const held = new HeldBlobs(ctx)
    const row = await held.during(() =>
      ctx.write(() => {
        const id = this.readNs(ctx, ns)
        if (id === undefined) return undefined
        const r = ctx.db.get(SQL.last, [id])
        if (r) {
          ctx.db.run(SQL.delete, [id, r[0]!])
          held.hold(r[1] as number, r[2]!)
        }
        return r
      }),
    )
    return held.during(async () => (row ? { key: row[0] as Key, value: await this.load(ctx, row[1] as number, row[2]!) } : undefined), true)
  }

  async size(ctx: CallContext, ns: string): Promise<number> {
    const id = this.readNs(ctx, ns)
    return id === undefined ? 0 : (ctx.db.get(SQL.size, [id])![0] as number)
  }

  async clear(ctx: CallContext, ns: string): Promise<number> {
    checkNamespace(ns)
    return ctx.write(() => {
      const id = this.readNs(ctx, ns)
      return id === undefined ? 0 : ctx.db.run(SQL.clear, [id])
    })
  }

  /** Keys in order (strings first, by UTF-8 bytes; then byte keys), optionally by prefix and after a key. */
  async keys(ctx: CallContext, ns: string, query: KeyQuery & { after?: Key } = {}): Promise<Key[]> {
    query ??= {}
    const id = this.readNs(ctx, ns)
    const [where, params] = rangeClause(id ?? -1, query)
    const keys: Key[] = []
    ctx.db.each(`SELECT key FROM kv WHERE ${where} ORDER BY key${limitClause(query.limit)}`, params, (row) => keys.push(row[0] as Key))
    return keys
  }

  /** A page of entries in key order: the building block of values(), entries() and async iteration. */
  async scan(ctx: CallContext, ns: string, query: KeyQuery & { after?: Key } = {}): Promise<EncodedBatch> {
    query ??= {}
    const id = this.readNs(ctx, ns)
    const [where, params] = rangeClause(id ?? -1, query)
    const rows: SqlValue[][] = []
    ctx.db.each(`SELECT key, kind, value FROM kv WHERE ${where} ORDER BY key${limitClause(query.limit)}`, params, (row) => rows.push(row))
    // Their blobs are pinned now, before the first load (see BlobStore.reading).
    return ctx.blobs.reading(
      rows.flatMap((r) => rowBlobs(r[1] as number, r[2]!)),
      async () => {
        const out = new BatchBuilder()
        for (const r of rows) out.add(r[0] as Key, await this.load(ctx, r[1] as number, r[2]!))
        return out.build()
      },
    )
  }
}

function limitClause(limit: number | undefined): string {
  if (limit === undefined) return ''
  return ` LIMIT ${checkWholeNumber(limit, 'limit', 0)}`
}

/** WHERE clause for a namespace, an optional prefix and an optional exclusive lower bound. */
function rangeClause(ns: number, query: KeyQuery & { after?: Key }): [string, SqlValue[]] {
  let where = 'ns = ?'
  const params: SqlValue[] = [ns]
  if (query.prefix !== undefined) {
    checkKey(query.prefix)
    if (typeof query.prefix === 'string') {
      where += " AND typeof(key) = 'text' AND key >= ?"
      params.push(query.prefix)
      const upper = textUpperBound(query.prefix)
      if (upper !== undefined) {
        where += ' AND key < ?'
        params.push(upper)
      }
    } else {
      where += " AND typeof(key) = 'blob' AND key >= ?"
      params.push(query.prefix)
      const upper = bytesUpperBound(query.prefix)
      if (upper) {
        where += ' AND key < ?'
        params.push(upper)
      }
    }
  }
  if (query.after !== undefined) {
    checkKey(query.after)
    where += ' AND key > ?'
    params.push(query.after)
  }
  return [where, params]
}

/**
 * The smallest string greater than every string with this prefix, in UTF-8 byte order (which is
 * code point order): the prefix with its last code point raised by one (code points of U+10FFFF
 * dropped first); undefined when there is none (the prefix is empty or all U+10FFFF).
 */
function textUpperBound(prefix: string): string | undefined {
  const points = Array.from(prefix)
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!
    if (last < 0x10ffff) return points.join('') + String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1)
  }
  return undefined
}

/** The smallest byte string greater than every string with this prefix; undefined when none (all 0xff). */
function bytesUpperBound(prefix: Uint8Array): Uint8Array | undefined {
  const out = prefix.slice()
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 0xff) {
      out[i]!++
      return out.subarray(0, i + 1)
    }
  }
  return undefined
}

// Every other served method runs in turn too (CallTurns): after a large write that came before it.
// set, setMany and setDefault take their turn themselves (their large values prepare first).
for (const name of Object.keys(kvMethods.kv)) {
  if (name === 'set' || name === 'setMany' || name === 'setDefault') continue
  const proto = KvEngine.prototype as unknown as Record<string, (this: KvEngine, ...args: unknown[]) => Promise<unknown>>
  const method = proto[name]!
  const write = (kvMethods.kv as Record<string, string>)[name] === 'write'
  proto[name] = function (this: KvEngine, ...args: unknown[]) {
    const ctx = args[0] as CallContext
    return (this as unknown as { turns: CallTurns }).turns.run(() => method.apply(this, args), write ? ctx.writesRun : undefined)
  }
}
