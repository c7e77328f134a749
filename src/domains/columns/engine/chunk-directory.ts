import { InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import type { CallContext } from '../../../engine/context.js'
import { checkColumnName, parseDType, type DType } from '../shared/dtypes.js'
import type { ColumnRef } from '../shared/column-types.js'
import { SQL } from './columns-schema.js'
import { loadPatches, type ChunkPatches } from './chunk-patches.js'

/** One chunk as the engine's directory knows it; data, lens and offsets load lazily. */
export interface Chunk {
  id: number
  start: number
  count: number
  cap: number
  nbytes: number
  hash: string | null
  partsLoaded?: boolean
  data?: Uint8Array
  lens?: Uint32Array
  /** Variable size: byte offset of element j is offs[j] (count + 1 entries). */
  offs?: Float64Array
  /**
   * A blob chunk's element patches (chunk-patches.ts), loaded with its parts: the chunk's elements
   * are its blob's with these replacing some of them. `lens`, `offs` and `nbytes` then describe the
   * patched elements; `baseOffs` the blob's own layout (variable size).
   */
  patches?: ChunkPatches
}

/** The directory of one column at one generation. */
export interface ColumnState {
  id: number
  name: string
  dtype: DType
  /** Bytes per element; 0 for a variable-size dtype (element lengths in `Chunk.lens`). */
  elem: number
  length: number
  minChunk: number
  maxChunk: number
  gen: number
  chunks: Chunk[]
  /** The database's changeCounter when this state was last known to match it. */
  validAt?: number
}

/**
 * Elements [from, to) of `chunk` (indices inside the chunk): the part of a column range that one
 * chunk holds. See {@link ChunkDirectory.spans}.
 */
export interface ChunkSpan {
  chunk: Chunk
  from: number
  to: number
}

export function checkName(name: unknown): asserts name is string {
  checkColumnName(name)
}

/** The name in a column reference (a plain name, or a handle's `{ name, id }`). */
export function refName(ref: unknown): string {
  if (typeof ref === 'object' && ref !== null && !Array.isArray(ref)) {
    const { name, id } = ref as { name?: unknown; id?: unknown }
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new InvalidArgumentError(`a column reference needs a numeric id, got ${typeof id}`)
    checkName(name)
    return name
  }
  checkName(ref)
  return ref
}

/** Byte offset of element j of chunk `c` (j ≤ count; parts loaded for a variable-size column). */
export function byteOffset(st: ColumnState, c: Chunk, j: number): number {
  return st.elem > 0 ? j * st.elem : c.offs![j]!
}

/** Index in `st.chunks` of the chunk holding element i (0 ≤ i < length). */
export function findChunk(st: ColumnState, i: number): number {
  const chunks = st.chunks
  let lo = 0
  let hi = chunks.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    if (chunks[mid]!.start <= i) lo = mid
    else hi = mid - 1
  }
  return lo
}

/**
 * The engine's in-memory directory of columns: per column, its meta and the list of its chunks, as
 * of one generation (`col_meta.gen`, which every write changes). A state is reused while the
 * database has not changed at all (no query) or while the column's generation is the same (one
 * indexed lookup); otherwise it is read again. A chunk's inline parts (data, lens) load on demand.
 */
export class ChunkDirectory {
  private readonly states = new Map<string, ColumnState>()

  /**
   * The column a reference names. A handle's reference carries the id of the column it was made
   * for: when that column was deleted (and maybe re-created under the same name, here or in
   * another process), the handle is stale and gets NotFoundError, never the other column.
   */
  load(ctx: CallContext, ref: ColumnRef): ColumnState {
    const st = this.loadByName(ctx, refName(ref))
    if (typeof ref === 'object' && st.id !== ref.id) {
      throw new NotFoundError(`column "${st.name}" was deleted: this handle belongs to the deleted column, not to the column now of that name (get it again with columns.get)`)
    }
    return st
  }

  private loadByName(ctx: CallContext, name: string): ColumnState {
    const known = this.states.get(name)
    if (known) {
      // Nothing changed in the database since this state was validated: no query at all.
      if (known.validAt === ctx.db.changeCounter) return known
      // Fast check by id (a number binds and compares cheaper than the name and the full row):
      // generations are unique across columns, so an equal gen at that id is the same state.
      const g = ctx.db.get(SQL.gen, [known.id])
      if (g && g[0] === known.gen) {
        known.validAt = ctx.db.changeCounter
        return known
      }
    }
    const row = ctx.db.get(SQL.meta, [name])
    if (!row) throw new NotFoundError(`column "${name}" not found`)
    const id = row[0] as number
    const gen = row[6] as number
    const cached = this.states.get(name)
    if (cached && cached.id === id && cached.gen === gen) return cached
    const chunks: Chunk[] = []
    ctx.db.each(SQL.chunks, [id], (r) => {
      chunks.push({ id: r[0] as number, start: r[1] as number, count: r[2] as number, cap: r[3] as number, nbytes: r[4] as number, hash: r[5] as string | null })
    })
    const state: ColumnState = {
      id,
      name,
      dtype: parseDType(row[1]),
      elem: row[2] as number,
      length: row[3] as number,
      minChunk: row[4] as number,
      maxChunk: row[5] as number,
      gen,
      chunks,
    }
    this.states.set(name, state)
    return state
  }

  /** Forget a column's state (it was dropped). */
  forget(name: string): void {
    this.states.delete(name)
  }

  /** Load a chunk's inline parts (data when inline, lens when variable-size). Synchronous on purpose:
   * everything a call reads from SQLite is read before its first await, so it sees one state. */
  loadParts(ctx: CallContext, st: ColumnState, c: Chunk): void {
    if (c.partsLoaded) return
    const row = ctx.db.get(SQL.parts, [c.id])!
    if (c.hash === null) c.data = row[0] as Uint8Array
    if (st.elem === 0) {
      const lb = row[1] as Uint8Array
      // sql.js hands out a fresh copy (offset 0), so the u32 view is aligned.
      c.lens = new Uint32Array(lb.buffer, lb.byteOffset, lb.byteLength >>> 2)
      const offs = new Float64Array(c.count + 1)
      for (let j = 0; j < c.count; j++) offs[j + 1] = offs[j]! + c.lens[j]!
      c.offs = offs
    }
    if (c.hash !== null) loadPatches(ctx, st, c)
    c.partsLoaded = true
  }

  /**
   * A write that only patched elements (no chunk added, removed or moved) was applied: put the
   * patched chunks in place and adopt its generation, instead of reading the whole directory again
   * on the next call. Safe against a rollback: the database's generation then differs from `gen`
   * (generations are never reused), and the next call reads the directory afresh.
   */
  patched(st: ColumnState, replaced: ReadonlyMap<Chunk, Chunk>, gen: number): void {
    if (this.states.get(st.name) !== st) return
    for (const [old, next] of replaced) {
      const k = findChunk(st, old.start)
      if (st.chunks[k] !== old) {
        this.states.delete(st.name)
        return
      }
      st.chunks[k] = next
    }
    st.gen = gen
    st.validAt = undefined
  }

  /**
   * The chunks covering elements [s, e) of the column (0 ≤ s < e ≤ length), in order, each with the
   * elements of the range it holds, and with their inline parts loaded (synchronously, so a caller
   * that awaits afterwards still read one state). The one walk over a range of chunks: reads and
   * range writes both use it. One entry per chunk, nothing per element.
   */
  spans(ctx: CallContext, st: ColumnState, s: number, e: number): ChunkSpan[] {
    const first = findChunk(st, s)
    const last = findChunk(st, e - 1)
    const out: ChunkSpan[] = new Array(last - first + 1)
    for (let k = first; k <= last; k++) {
      const chunk = st.chunks[k]!
      this.loadParts(ctx, st, chunk)
      out[k - first] = { chunk, from: Math.max(s, chunk.start) - chunk.start, to: Math.min(e, chunk.start + chunk.count) - chunk.start }
    }
    return out
  }
}
