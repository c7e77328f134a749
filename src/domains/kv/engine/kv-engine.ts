import { InvalidArgumentError } from '../../../errors/errors.js'
import type { CallContext, DomainSchema } from '../../../engine/context.js'
import type { SqlValue } from '../../../sqlite/sqlite-database.js'
import { BatchBuilder, batchValue } from '../shared/kv-batch.js'
import { checkKey, checkNamespace } from '../shared/kv-keys.js'
import { isValueKind, type EncodedBatch, type EncodedValue, type Key, type KeyQuery, type StreamInfo } from '../shared/kv-types.js'
import { KV_IN_BLOB, chunkReferences, writeNamespace } from './kv-entries.js'
import { KvStreams } from './kv-streams.js'
import { HeldBlobs, KV_BLOB_THRESHOLD, loadRowValue, rowBlobs, storeRowValue } from './kv-row-blobs.js'
import { UPSERT, writeRows } from './kv-bulk-insert.js'
import { limitClause, rangeClause } from './kv-key-ranges.js'
import { CallTurns } from '../../../engine/call-turns.js'
import { kvMethods } from '../shared/kv-methods.js'

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

const SQL = {
  nsId: 'SELECT id FROM kv_namespaces WHERE name = ?',
  get: 'SELECT kind, value FROM kv WHERE ns = ? AND key = ?',
  has: 'SELECT 1 FROM kv WHERE ns = ? AND key = ?',
  upsert: UPSERT,
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
    return this.streams.info(ctx, ns, key, async (kind, value) => (await loadRowValue(ctx, kind, value)).bytes)
  }

  /** Chunk `index` (hash `hash`) of `key`'s streamed value; ConflictError once the value changed. */
  streamChunk(ctx: CallContext, ns: string, key: Key, index: number, hash: string): Promise<Uint8Array> {
    checkNamespace(ns)
    return this.streams.chunk(ctx, ns, key, index, hash)
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
    return row ? loadRowValue(ctx, row[0] as number, row[1]!) : undefined
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
    return this.turns.after(storeRowValue(ctx, value), async ([kind, stored]) => {
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
    if (large.length === 0) return this.turns.run(() => writeRows(ctx, ns, batch.keys, kinds, values), ctx.writesRun)
    const prepared = Promise.allSettled(large.map((i) => storeRowValue(ctx, { kind: kinds[i]!, bytes: values[i] as Uint8Array }))).then((results) => {
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
        return await writeRows(ctx, ns, batch.keys, kinds, values)
      } finally {
        for (const [, hash] of stored) ctx.blobs.unpin(hash as string)
      }
    }, ctx.writesRun)
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
        .then((existing) => (existing ? loadRowValue(ctx, existing[0] as number, existing[1]!) : value))
    if (value.bytes.length <= KV_BLOB_THRESHOLD) return this.turns.run(() => write([value.kind, value.bytes]), ctx.writesRun)
    return this.turns.after(storeRowValue(ctx, value), async (stored) => {
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
        for (const [key, row] of rows) out.add(key, await loadRowValue(ctx, row[0] as number, row[1]!))
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
    return held.during(async () => (row ? loadRowValue(ctx, row[0] as number, row[1]!) : undefined), true)
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
      for (const [key, r] of rows) out.add(key, await loadRowValue(ctx, r[0] as number, r[1]!))
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
    return held.during(async () => (row ? { key: row[0] as Key, value: await loadRowValue(ctx, row[1] as number, row[2]!) } : undefined), true)
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
        for (const r of rows) out.add(r[0] as Key, await loadRowValue(ctx, r[1] as number, r[2]!))
        return out.build()
      },
    )
  }
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