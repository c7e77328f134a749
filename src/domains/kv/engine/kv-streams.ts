import { ConflictError, CorruptionError, InvalidArgumentError } from '../../../errors/errors.js'
import type { CallContext } from '../../../engine/context.js'
import type { SqlValue } from '../../../sqlite/sqlite-database.js'
import { checkWholeNumber } from '../../../codec/checks.js'
import { checkKey } from '../shared/kv-keys.js'
import { STREAM_CHUNK_BYTES, ValueKind, type Key, type StreamInfo } from '../shared/kv-types.js'
import { KV_CHUNKED, writeNamespace } from './kv-entries.js'

/**
 * A value written by `kv.setStream()` is stored as chunks in the blob store (each a blob of its
 * own, verified on read like every blob) and a row whose kind has {@link KV_CHUNKED} and whose
 * value is the chunk list as JSON text: `{"size":N,"chunks":["<sha-256>",…]}`. JSON text so that
 * the blob collector can list the chunks in SQL (`json_each`, see kvSchema.blobReferences).
 */
export interface ChunkManifest {
  size: number
  chunks: string[]
}

/** The manifest of a chunked row's value. */
export function readManifest(value: SqlValue): ChunkManifest {
  let parsed: unknown
  try {
    parsed = JSON.parse(value as string)
  } catch (err) {
    throw new CorruptionError('a streamed value lost its chunk list (not JSON)', { cause: err })
  }
  const m = parsed as ChunkManifest
  if (typeof m?.size !== 'number' || !Array.isArray(m.chunks)) throw new CorruptionError('a streamed value lost its chunk list (malformed)')
  return m
}

const HASH = /^[0-9a-f]{64}$/

const SQL = {
  nsId: 'SELECT id FROM kv_namespaces WHERE name = ?',
  get: 'SELECT kind, value FROM kv WHERE ns = ? AND key = ?',
  upsert: 'INSERT OR REPLACE INTO kv (ns, key, kind, value) VALUES (?, ?, ?, ?)',
}

/**
 * The engine half of `kv.setStream()` / `kv.getStream()`. A stream is written chunk by chunk
 * (`streamPut`, each chunk a durable blob, pinned so a checkpoint spares it), then committed in
 * one write (`streamCommit`) that names the chunks; `streamAbort` releases the chunks of a stream
 * that failed. Only chunks this engine wrote can be committed or released: a caller cannot unpin
 * another writer's blobs. Reading fetches the chunk list once and the chunks one by one, checking
 * each time that the key still holds that list, so a reader never mixes two values.
 */
export class KvStreams {
  /** Chunks written by `streamPut` and not yet committed or released: hash → [pins, bytes]. */
  private readonly open = new Map<string, [number, number]>()

  async put(ctx: CallContext, bytes: Uint8Array): Promise<string> {
    if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('a stream chunk must be a Uint8Array')
    if (bytes.length === 0 || bytes.length > STREAM_CHUNK_BYTES) throw new InvalidArgumentError(`a stream chunk must hold 1 to ${STREAM_CHUNK_BYTES} bytes, got ${bytes.length}`)
    const hash = await ctx.blobs.put(bytes)
    const entry = this.open.get(hash)
    if (entry) entry[0]++
    else this.open.set(hash, [1, bytes.length])
    return hash
  }

  private checkChunks(hashes: unknown): asserts hashes is string[] {
    if (!Array.isArray(hashes) || !hashes.every((h) => typeof h === 'string' && HASH.test(h))) {
      throw new InvalidArgumentError('a stream commit names its chunks by their SHA-256 hashes')
    }
  }

  /** Release one pin of each chunk (ignoring chunks this engine does not hold). */
  private release(ctx: CallContext, hashes: string[]): void {
    for (const hash of hashes) {
      const entry = this.open.get(hash)
      if (!entry) continue
      if (--entry[0] === 0) this.open.delete(hash)
      ctx.blobs.unpin(hash)
    }
  }

  async commit(ctx: CallContext, ns: string, key: Key, hashes: string[], size: number): Promise<void> {
    checkKey(key)
    this.checkChunks(hashes)
    checkWholeNumber(size, 'size', 0)
    try {
      let total = 0
      for (const hash of hashes) {
        const entry = this.open.get(hash)
        if (!entry) {
          throw new ConflictError('a chunk of this stream is not held by the engine committing it (the vault changed leader, or the stream was already committed or aborted): write the stream again')
        }
        total += entry[1]
      }
      if (total !== size) throw new InvalidArgumentError(`the stream's chunks hold ${total} bytes, not the ${size} declared`)
      const [kind, value]: [number, SqlValue] =
        hashes.length === 0 ? [ValueKind.Raw, new Uint8Array(0)] : [ValueKind.Raw | KV_CHUNKED, JSON.stringify({ size, chunks: hashes } satisfies ChunkManifest)]
      await ctx.write(() => ctx.db.run(SQL.upsert, [writeNamespace(ctx.db, ns), key, kind, value]))
    } finally {
      this.release(ctx, hashes)
    }
  }

  async abort(ctx: CallContext, hashes: string[]): Promise<void> {
    this.checkChunks(hashes)
    this.release(ctx, hashes)
  }

  /** Where a value's bytes are, for reading it as a stream; undefined when the key is missing. */
  async info(ctx: CallContext, ns: string, key: Key, load: (kind: number, value: SqlValue) => Promise<Uint8Array>): Promise<StreamInfo | undefined> {
    checkKey(key)
    const row = this.row(ctx, ns, key)
    if (!row) return undefined
    const kind = row[0] as number
    if (kind & KV_CHUNKED) {
      const m = readManifest(row[1]!)
      return { kind: ValueKind.Raw, size: m.size, chunks: m.chunks }
    }
    const base = kind & 0x0f
    if (base !== ValueKind.Raw) return { kind: base, size: 0, chunks: [] }
    const bytes = await load(kind, row[1]!)
    return { kind: ValueKind.Raw, size: bytes.length, chunks: [], bytes }
  }

  /** Chunk `index` of the streamed value of `key`, which must still be the one with chunk `hash` there. */
  async chunk(ctx: CallContext, ns: string, key: Key, index: number, hash: string): Promise<Uint8Array> {
    checkKey(key)
    checkWholeNumber(index, 'index', 0)
    const current = (): boolean => {
      const row = this.row(ctx, ns, key)
      return !!row && ((row[0] as number) & KV_CHUNKED) !== 0 && readManifest(row[1]!).chunks[index] === hash
    }
    const changed = () => new ConflictError('the value was replaced or deleted while it was being read as a stream')
    if (!current()) throw changed()
    try {
      return await ctx.blobs.get(hash)
    } catch (err) {
      // A checkpoint may collect the chunk of a value replaced just now: say so, not "damaged".
      if (err instanceof CorruptionError && !current()) throw changed()
      throw err
    }
  }

  private row(ctx: CallContext, ns: string, key: Key): SqlValue[] | undefined {
    const id = ctx.db.get(SQL.nsId, [ns])?.[0] as number | undefined
    return id === undefined ? undefined : ctx.db.get(SQL.get, [id, key])
  }
}
