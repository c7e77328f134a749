import type { CallContext } from '../../../engine/context.js'
import type { SqlValue } from '../../../sqlite/sqlite-database.js'
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
