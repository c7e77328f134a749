import type { CallContext } from '../engine/context.js'
import type { SqliteDatabase } from '../sqlite/sqlite-database.js'
import { stillHolds, NO_EVENTS, type EventMark } from './items-schema.js'
import { TopK } from './text-index.js'
import { dotsJs, instantiateKernel, type DotsFn } from './vector-kernel.js'

const PAGE = 65536

/** The last append event of a list (what a matrix of that list must have seen). */
export function lastAppendOf(db: SqliteDatabase, list: number): EventMark {
  const r = db.get('SELECT id, stamp FROM item_events WHERE kind = 1 AND list = ? ORDER BY start DESC LIMIT 1', [list])
  return r ? { id: r[0] as number, stamp: r[1] as number } : NO_EVENTS
}

/**
 * One embedding list held in memory for search: every vector normalised to unit length, one after
 * the other in a single WebAssembly memory, so a query is one pass of the SIMD kernel over
 * contiguous rows and never touches SQLite.
 *
 * Memory layout (bytes): `[query: stride][rows: capacity × stride][scores: capacity × 4]`.
 * `stride` is the dimension rounded up to 16 floats (64 bytes, zero padded) so the kernel's
 * inner loop needs no remainder handling. Growing the memory keeps rows in place; the scores
 * region moves with the capacity and is rewritten by each query anyway.
 */
export class ListMatrix {
  readonly stride: number
  count = 0
  capacity = 0
  mark: EventMark = NO_EVENTS
  private memory: WebAssembly.Memory
  private dots: DotsFn | null
  private f32: Float32Array

  constructor(
    readonly list: number,
    readonly dim: number,
  ) {
    this.stride = Math.ceil(dim / 16) * 16
    this.memory = new WebAssembly.Memory({ initial: 1 })
    this.dots = instantiateKernel(this.memory)
    this.f32 = new Float32Array(this.memory.buffer)
  }

  private get rowsOffset(): number {
    return this.stride * 4
  }

  private get scoresOffset(): number {
    return this.rowsOffset + this.capacity * this.stride * 4
  }

  /** Make room for `extra` more rows. */
  reserve(extra: number): void {
    const need = this.count + extra
    if (need <= this.capacity) return
    // Grow by half again at least, so n single appends cost O(n) copying in total.
    const capacity = Math.max(need, Math.ceil(this.capacity * 1.5), 64)
    const bytes = this.stride * 4 + capacity * this.stride * 4 + capacity * 4
    const pages = Math.ceil(bytes / PAGE)
    const have = this.memory.buffer.byteLength / PAGE
    if (pages > have) this.memory.grow(pages - have)
    this.f32 = new Float32Array(this.memory.buffer)
    this.capacity = capacity
  }

  /** Append `n` vectors (dim floats each, back to back), normalised. */
  push(vectors: Float32Array, n: number): void {
    this.reserve(n)
    const dim = this.dim
    const f = this.f32
    let at = (this.rowsOffset >> 2) + this.count * this.stride
    for (let r = 0; r < n; r++) {
      const base = r * dim
      let ss = 0
      for (let j = 0; j < dim; j++) ss += vectors[base + j]! * vectors[base + j]!
      const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0
      for (let j = 0; j < dim; j++) f[at + j] = vectors[base + j]! * inv
      // Padding floats stay zero: the memory starts zeroed and rows are never rewritten.
      at += this.stride
    }
    this.count += n
  }

  /** Cosine of `query` (already unit length, `dim` floats) with every row; best `k` as [score, row]. */
  top(query: Float32Array, k: number): [number, number][] {
    if (this.count === 0 || k <= 0) return []
    const f = this.f32
    f.set(query, 0)
    const out = this.scoresOffset
    if (this.dots) this.dots(0, this.rowsOffset, this.count, this.stride * 4, out)
    else dotsJs(f, 0, this.rowsOffset >> 2, this.count, this.stride, out >> 2)
    const scores = f.subarray(out >> 2, (out >> 2) + this.count)
    const heap = new TopK(Math.min(k, this.count))
    let threshold = -Infinity
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i]!
      if (s > threshold) {
        heap.push(s, i)
        threshold = heap.threshold
      }
    }
    return heap.sorted()
  }

  /** Bytes of memory held. */
  get bytes(): number {
    return this.memory.buffer.byteLength
  }
}

/** Normalise a query vector to unit length (a zero vector stays zero: every cosine is 0). */
export function unitVector(v: Float32Array): Float32Array {
  let ss = 0
  for (let i = 0; i < v.length; i++) ss += v[i]! * v[i]!
  const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0
  const out = new Float32Array(v.length)
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * inv
  return out
}

/**
 * The embedding lists held in memory, loaded lazily at their first search and kept current like
 * the text index: an append applies its vectors right after it commits when the matrix stood at
 * the list's previous append; otherwise the next search catches up from `item_vectors`, or
 * reloads when a rollback rewrote the journal.
 */
export class VectorIndex {
  private readonly matrices = new Map<number, ListMatrix>()
  private readonly loading = new Map<number, Promise<ListMatrix>>()

  /** The list's matrix, current as of now. */
  async matrix(ctx: CallContext, list: number, dim: number): Promise<ListMatrix> {
    // One load per list at a time: queries that arrive meanwhile share it.
    for (;;) {
      const pending = this.loading.get(list)
      if (!pending) break
      await pending.catch(() => {})
    }
    const current = this.matrices.get(list)
    const last = lastAppendOf(ctx.db, list)
    if (current && current.mark.id === last.id && current.mark.stamp === last.stamp) return current
    const job = this.load(ctx, list, dim, current && stillHolds(ctx.db, current.mark) && current.mark.id <= last.id ? current : undefined)
    this.loading.set(list, job)
    try {
      const m = await job
      this.matrices.set(list, m)
      return m
    } finally {
      this.loading.delete(list)
    }
  }

  private async load(ctx: CallContext, list: number, dim: number, base: ListMatrix | undefined): Promise<ListMatrix> {
    const m = base ?? new ListMatrix(list, dim)
    // Read the segment list and the mark in one synchronous step: a consistent snapshot.
    const mark = lastAppendOf(ctx.db, list)
    const segments = ctx.db.all('SELECT start, count, data, hash FROM item_vectors WHERE list = ? AND start >= ? ORDER BY start', [list, m.count])
    let total = 0
    for (const s of segments) total += s[1] as number
    m.reserve(total)
    for (const [start, count, data, hash] of segments) {
      if (start !== m.count) throw new Error(`vector segments of list ${list} are not contiguous at ${String(start)}`)
      const bytes = data instanceof Uint8Array ? data : await ctx.blobs.get(hash as string)
      m.push(asFloat32(bytes), count as number)
    }
    m.mark = mark
    return m
  }

  /** Apply just-committed vectors when the matrix stood at `previous`; else leave them to the next search. */
  applyAppend(list: number, previous: EventMark, mark: EventMark, vectors: Float32Array, n: number): void {
    const m = this.matrices.get(list)
    if (!m || this.loading.has(list)) return
    if (m.mark.id !== previous.id || m.mark.stamp !== previous.stamp) return
    m.push(vectors, n)
    m.mark = mark
  }

  /** Forget a list (deleted). */
  drop(list: number): void {
    this.matrices.delete(list)
  }
}

/** View bytes as float32 (copying when they are not 4-byte aligned). */
export function asFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2)
  return new Float32Array(bytes.slice().buffer)
}
