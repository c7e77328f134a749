import type { CallContext } from '../../../engine/context.js'
import type { AppendManyOptions } from '../shared/item-types.js'
import type { ListKind, PreparedAppend } from './list-kinds.js'
import type { ListRow } from './list-rows.js'

// An append's preparation (ListsEngine.append): its arguments checked and its bytes stored before
// it takes its turn and writes.

/** An append checked and prepared, its bytes (if any) in the blob store: what its write needs. */
export interface StagedAppend {
  list: ListRow
  kind: ListKind
  name: string
  where: string
  prep: PreparedAppend
  options: AppendManyOptions
  /** Blobs put for it, pinned until its write settles. */
  pinned: string[]
}

/** Put an append's files and large matrix in the blob store (pinned: see {@link StagedAppend}). */
export async function storeBytes(ctx: CallContext, staged: StagedAppend): Promise<StagedAppend> {
  const { prep, pinned } = staged
  try {
    if (prep.fileBytes) {
      prep.fileHashes = []
      for (const bytes of prep.fileBytes) {
        const hash = await ctx.blobs.put(bytes)
        pinned.push(hash)
        prep.fileHashes.push(hash)
      }
    }
    if (prep.vectors && !prep.vectorData) {
      const bytes = new Uint8Array(prep.vectors.buffer, prep.vectors.byteOffset, prep.vectors.byteLength)
      pinned.push((prep.vectorHash = await ctx.blobs.put(bytes)))
    }
    return staged
  } catch (err) {
    for (const hash of pinned) ctx.blobs.unpin(hash)
    throw err
  }
}
