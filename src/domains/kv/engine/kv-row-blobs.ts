import type { CallContext } from '../../../engine/context.js'
import type { SqlValue } from '../../../sqlite/sqlite-database.js'
import { CorruptionError } from '../../../errors/errors.js'
import { ValueKind, type EncodedValue } from '../shared/kv-types.js'
import { KV_CHUNKED, KV_IN_BLOB } from './kv-entries.js'
import { readManifest } from './kv-streams.js'

// A value stored in the blob store is loaded after its row is read: its blobs are pinned from the
// row's read until loaded, so that a checkpoint meanwhile (after a later call dropped the row, or
// after a pop's own commit) does not collect them under the read (test/node/blob-read-collect.test.ts).

/** The blobs a row's value is stored in (none when it is inline). */
export function rowBlobs(kind: number, value: SqlValue): string[] {
  if (kind & KV_CHUNKED) return readManifest(value).chunks
  if (kind & KV_IN_BLOB) return [value as string]
  return []
}

/**
 * Blobs pinned by a call that deletes rows and then returns their values (pop): taken inside the
 * write, as the rows go, released once the values are loaded or the call failed.
 */
export class HeldBlobs {
  private readonly held: string[] = []
  constructor(private readonly ctx: CallContext) {}

  hold(kind: number, value: SqlValue): void {
    for (const hash of rowBlobs(kind, value)) {
      this.ctx.blobs.hold(hash)
      this.held.push(hash)
    }
  }

  /** Run `step`; release the pins when it fails, or when it settles if it is the `last` step. */
  async during<T>(step: () => Promise<T>, last = false): Promise<T> {
    let ok = false
    try {
      const out = await step()
      ok = true
      return out
    } finally {
      if (last || !ok) for (const hash of this.held.splice(0)) this.ctx.blobs.unpin(hash)
    }
  }
}

// A value's row form: inline bytes, the hash of one blob (values over KV_BLOB_THRESHOLD), or the
// manifest of a streamed value's chunks (kv-streams.ts). The engine reads and writes values
// through these, so that every call that returns a value loads it the same way.

/** Values larger than this go to the blob store instead of the SQLite image (see storeRowValue). */
export const KV_BLOB_THRESHOLD = 256 * 1024

/** Turn a row's kind and value into the value's bytes (reading its blob when stored outside). */
export async function loadRowValue(ctx: CallContext, kind: number, value: SqlValue): Promise<EncodedValue> {
  if (kind & KV_CHUNKED) return { kind: ValueKind.Raw, bytes: await joinChunks(ctx, value) }
  if (kind & KV_IN_BLOB) return { kind: kind & ~KV_IN_BLOB, bytes: await ctx.blobs.get(value as string) }
  return { kind, bytes: value as Uint8Array }
}

/** The whole of a value written as a stream (read whole by get(), as the caller asked). */
async function joinChunks(ctx: CallContext, value: SqlValue): Promise<Uint8Array> {
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
export async function storeRowValue(ctx: CallContext, value: EncodedValue): Promise<[number, SqlValue]> {
  if (value.bytes.length <= KV_BLOB_THRESHOLD) return [value.kind, value.bytes]
  return [value.kind | KV_IN_BLOB, await ctx.blobs.put(value.bytes)]
}
