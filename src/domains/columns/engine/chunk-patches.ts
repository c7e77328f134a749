import type { CallContext } from '../../../engine/context.js'
import type { ColumnPayload } from '../shared/column-types.js'
import type { Chunk, ColumnState } from './chunk-directory.js'
import { SQL } from './columns-schema.js'

// Element patches of blob chunks (docs/format.md, "Columns", "Element patches"). A blob chunk is
// content-addressed and up to 4 MiB: rewriting it for one changed element costs a SHA-256 of the
// whole chunk and a new blob file (~15 ms). Instead, a replacement inside a blob chunk is stored as
// rows of `col_patches` (chunk id, element index, the element's new bytes): the log records just
// those bytes, and reads lay them over the blob's bytes. When a chunk's patches pass a threshold
// the next edit of that chunk folds them into a new blob (write-plans.ts, `edit`).

/** Fold a chunk's patches into a new blob once more than this many elements are patched. */
export const PATCH_MAX_ELEMENTS = 1024
/** … or once its patches hold more than this many bytes. */
export const PATCH_MAX_BYTES = 64 * 1024
/**
 * The first format version whose readers apply patches (src/persistence/format.ts). A vault whose
 * current generation was written by an older version gets whole-chunk rewrites instead, so a build
 * that does not know patches never meets one (it refuses the newer format instead of misreading).
 */
export const PATCH_FORMAT_VERSION = 2

/** The patches of one blob chunk: new bytes by element index, and the indices in order. */
export interface ChunkPatches {
  readonly byIndex: ReadonlyMap<number, Uint8Array>
  /** Patched element indices, ascending. */
  readonly order: Int32Array
  /** Bytes held by the patches. */
  readonly bytes: number
  /** Variable size: the byte offset of element j in the blob itself (count + 1 entries). */
  readonly baseOffs?: Float64Array
}

const EMPTY = new Uint8Array(0)

/** True when this vault's current generation may hold patches. */
export function patchesAllowed(ctx: CallContext): boolean {
  return (ctx.formatVersion ?? 1) >= PATCH_FORMAT_VERSION
}

/**
 * Read a blob chunk's patches (part of loading its parts) and make `lens`, `offs` and `nbytes`
 * those of the patched elements. A chunk with no patch row is left as it is.
 */
export function loadPatches(ctx: CallContext, st: ColumnState, c: Chunk): void {
  const byIndex = new Map<number, Uint8Array>()
  ctx.db.each(SQL.patches, [c.id], (r) => {
    byIndex.set(r[0] as number, (r[1] as Uint8Array | null) ?? EMPTY)
  })
  if (byIndex.size === 0) return
  Object.assign(c, withPatches(st, c, byIndex, byIndex.keys()))
}

/**
 * The fields of chunk `c` (as it is now: its lengths and offsets those of its current elements)
 * with patches `byIndex`, of which those at `changed` are new: a fresh patch set, and the lengths,
 * offsets and size of the patched elements. Variable size: typed-array copies, and offsets
 * recomputed from the first changed element only.
 */
function withPatches(st: ColumnState, c: Chunk, byIndex: Map<number, Uint8Array>, changed: Iterable<number>): Pick<Chunk, 'patches' | 'lens' | 'offs' | 'nbytes'> {
  const order = Int32Array.from(byIndex.keys()).sort()
  let bytes = 0
  for (const b of byIndex.values()) bytes += b.length
  if (st.elem > 0) return { patches: { byIndex, order, bytes }, nbytes: c.count * st.elem }
  const baseOffs = c.patches ? c.patches.baseOffs! : c.offs!
  const lens = c.lens!.slice()
  let first = c.count
  for (const j of changed) {
    lens[j] = byIndex.get(j)!.length
    first = Math.min(first, j)
  }
  const offs = c.offs!.slice()
  for (let j = first; j < c.count; j++) offs[j + 1] = offs[j]! + lens[j]!
  return { patches: { byIndex, order, bytes, baseOffs }, lens, offs, nbytes: offs[c.count]! }
}

/** The blob layout of a variable-size chunk (its own offsets when it has no patches). */
function baseOffsets(c: Chunk): Float64Array | undefined {
  return c.patches ? c.patches.baseOffs : c.offs
}

/**
 * The plan of patching elements [from, from + part.count) of blob chunk `c` (parts loaded), or
 * undefined when the chunk would then pass the fold threshold (rewrite it instead). Returns the
 * statements to run and the chunk as it is after them.
 */
export function planPatch(ctx: CallContext, st: ColumnState, c: Chunk, from: number, part: ColumnPayload): { op: () => void; next: Chunk } | undefined {
  const byIndex = new Map(c.patches?.byIndex)
  let pos = 0
  const rows: [number, number, Uint8Array][] = []
  for (let q = 0; q < part.count; q++) {
    const len = st.elem > 0 ? st.elem : part.lens![q]!
    const bytes = part.bytes.subarray(pos, pos + len)
    pos += len
    byIndex.set(from + q, bytes)
    rows.push([c.id, from + q, bytes])
  }
  if (byIndex.size > PATCH_MAX_ELEMENTS) return undefined
  const next: Chunk = { ...c, ...withPatches(st, c, byIndex, rows.map((r) => r[1])) }
  if (next.patches!.bytes > PATCH_MAX_BYTES) return undefined
  return { op: () => rows.forEach((row) => ctx.db.run(SQL.patch, row)), next }
}

/**
 * Elements [from, to) of chunk `c` whose blob bytes are `base`, as they read with the patches: a
 * view of `base` when no patch falls in the range, else a fresh buffer. `fresh` asks for a fresh
 * buffer always (a result that leaves the engine).
 */
export function chunkRange(st: ColumnState, c: Chunk, base: Uint8Array, from: number, to: number, fresh: boolean): Uint8Array {
  const p = c.patches
  let k = p ? lowerBound(p.order, from) : 0
  if (!p || k === p.order.length || p.order[k]! >= to) {
    const a = st.elem > 0 ? from * st.elem : baseOffsets(c)![from]!
    const b = st.elem > 0 ? to * st.elem : baseOffsets(c)![to]!
    return fresh ? base.slice(a, b) : base.subarray(a, b)
  }
  if (st.elem > 0) {
    const out = base.slice(from * st.elem, to * st.elem)
    for (; k < p.order.length && p.order[k]! < to; k++) {
      const j = p.order[k]!
      out.set(p.byIndex.get(j)!, (j - from) * st.elem)
    }
    return out
  }
  // Variable size: runs of unpatched elements are contiguous in the blob; patched ones come from
  // their rows.
  const offs = c.offs!
  const baseOffs = p.baseOffs!
  const out = new Uint8Array(offs[to]! - offs[from]!)
  let pos = 0
  let j = from
  while (j < to) {
    const nextPatch = k < p.order.length && p.order[k]! < to ? p.order[k]! : to
    if (nextPatch > j) {
      const run = base.subarray(baseOffs[j]!, baseOffs[nextPatch]!)
      out.set(run, pos)
      pos += run.length
      j = nextPatch
    }
    if (j < to) {
      const bytes = p.byIndex.get(j)!
      out.set(bytes, pos)
      pos += bytes.length
      j++
      k++
    }
  }
  return out
}

/** First position in ascending `xs` whose value is ≥ x. */
function lowerBound(xs: Int32Array, x: number): number {
  let lo = 0
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (xs[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}
