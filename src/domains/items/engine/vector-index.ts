import type { CallContext } from '../../../engine/context.js'
import type { SqliteDatabase } from '../../../sqlite/sqlite-database.js'
import { hasUpserts, stillHolds, NO_EVENTS, type EventMark } from './items-schema.js'
import { TopK } from './text-index.js'
import { blobHashes } from './sql-rows.js'
import { dotsJs, instantiateKernel, type Kernel } from './vector-kernel.js'

const PAGE = 65536

/** The last append event of a list (what a matrix of that list must have seen). */
export function lastAppendOf(db: SqliteDatabase, list: number): EventMark {
  // Appends at the end come in index order, so the last starts furthest (one index probe); after
  // an explicit-index append that no longer holds, and the newest is found by id.
  const r = hasUpserts(db, list)
    ? db.get('SELECT id, stamp FROM item_events WHERE kind = 1 AND list = ? ORDER BY id DESC LIMIT 1', [list])
    : db.get('SELECT id, stamp FROM item_events WHERE kind = 1 AND list = ? ORDER BY start DESC LIMIT 1', [list])
  return r ? { id: r[0] as number, stamp: r[1] as number } : NO_EVENTS
}

/** Below this many rows a query is one exact pass; the quantised filter pays off above it. */
const FILTER_MIN_ROWS = 4096
const ROUNDER = 6755399441055744 // 1.5 · 2^52

/**
 * One embedding list held in memory for search: every vector normalised to unit length, one after
 * the other in a WebAssembly memory, so a query scans contiguous rows and never touches SQLite.
 *
 * Memory layout (bytes): `[query: stride][rows: capacity × stride][scores: capacity × 4]`, float32.
 * `stride` is the dimension rounded up to 16 (zero padded) so the kernels' inner loops need no
 * remainder handling. Growing the memory keeps rows in place; the scores region moves with the
 * capacity and is rewritten by each query anyway.
 *
 * Exact top-k, reading a quarter of the bytes: with the SIMD kernel, each row also has an int8
 * copy (per-row scale `s`, `x̂ = round(x / s)`) in a second memory of the same layout, and the
 * error of that copy, `e = |x − s·x̂|`. A query `q` is quantised the same way (`t`, `q̂`, `e_q`).
 * For every row, `a = s·t·(q̂·x̂)` (one int8 pass, `dots8`) is within
 * `B = e_q·|x| + |t·q̂|·e + ε` of the float32 score the exact kernel computes (Cauchy–Schwarz;
 * `ε` covers float32 rounding in that kernel). With `L` the k-th largest `a − B`, a row whose
 * `a + B < L` is certainly below the k-th best score; the others (a few dozen among 100k in our
 * measurements) are scored exactly, and the best k of those are the answer — the same rows and
 * scores as scoring every row exactly. When too many rows survive the filter (near-duplicate
 * data), the query falls back to one exact pass.
 */
export class ListMatrix {
  readonly stride: number
  count = 0
  capacity = 0
  mark: EventMark = NO_EVENTS
  private memory: WebAssembly.Memory
  private kernel: Kernel | null
  private f32: Float32Array
  /** The int8 copy and its kernel (undefined without the SIMD kernel). */
  private memory8: WebAssembly.Memory | undefined
  private kernel8: Kernel | null = null
  private i8 = new Int8Array(0)
  private scale: Float32Array = new Float32Array(0)
  // Float64: these bound errors, and float32 storage could round them down.
  private err = new Float64Array(0)
  private norm = new Float64Array(0)
  private candidates = new Int32Array(0)
  /**
   * The item index of each row, for a list that took explicit-index appends: only its written
   * items are rows, in index order, so memory follows the number of vectors, never the largest
   * index (an item at index 2^40 is one row). Undefined: row r is item r.
   */
  private indexes: Float64Array | undefined
  /** How the last query was answered, and how many rows it scored exactly (diagnostics, tests). */
  lastQuery: { filtered: boolean; scored: number } = { filtered: false, scored: 0 }

  constructor(
    readonly list: number,
    readonly dim: number,
  ) {
    this.stride = Math.ceil(dim / 16) * 16
    this.memory = new WebAssembly.Memory({ initial: 1 })
    this.kernel = instantiateKernel(this.memory)
    this.f32 = new Float32Array(this.memory.buffer)
    if (this.kernel) {
      this.memory8 = new WebAssembly.Memory({ initial: 1 })
      this.kernel8 = instantiateKernel(this.memory8)
      this.i8 = new Int8Array(this.memory8.buffer)
    }
  }

  private get rowsOffset(): number {
    return this.stride * 4
  }

  private get scoresOffset(): number {
    return this.rowsOffset + this.capacity * this.stride * 4
  }

  /** Byte offsets in the int8 memory: query (widened to int16, at 0), rows, int32 scores. */
  private get rows8Offset(): number {
    return this.stride * 2
  }

  private get scores8Offset(): number {
    return this.stride * 2 + this.capacity * this.stride
  }

  /** Make room for `extra` more rows. */
  reserve(extra: number): void {
    const need = this.count + extra
    if (need <= this.capacity) return
    // Grow by half again at least, so n single appends cost O(n) copying in total.
    const capacity = Math.max(need, Math.ceil(this.capacity * 1.5), 64)
    grow(this.memory, this.stride * 4 + capacity * this.stride * 4 + capacity * 4)
    this.f32 = new Float32Array(this.memory.buffer)
    if (this.memory8) {
      grow(this.memory8, this.stride * 2 + capacity * this.stride + capacity * 4)
      this.i8 = new Int8Array(this.memory8.buffer)
      this.scale = grownCopy(this.scale, new Float32Array(capacity))
      this.err = grownCopy(this.err, new Float64Array(capacity))
      this.norm = grownCopy(this.norm, new Float64Array(capacity))
    }
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
      // Padding must be zero (a grown memory puts rows where old scores were).
      f.fill(0, at + dim, at + this.stride)
      if (this.memory8) this.quantiseRow(this.count + r, at)
      at += this.stride
    }
    this.count += n
  }

  /** The int8 copy of row `row` (its float32 values at `at`), with its scale, error and norm. */
  private quantiseRow(row: number, at: number): void {
    const to = this.rows8Offset + row * this.stride
    this.i8.fill(0, to + this.dim, to + this.stride)
    const { scale, err, norm } = quantise(this.f32, at, this.dim, this.i8, to)
    this.scale[row] = scale
    this.err[row] = err
    this.norm[row] = norm
  }

  /** Set the item index of each row (see {@link indexes}): one per row, ascending. */
  setIndexes(indexes: Float64Array): void {
    if (indexes.length !== this.count) throw new Error(`${indexes.length} indexes for ${this.count} rows`)
    this.indexes = indexes
  }

  /** The item index of row `r`. */
  indexOf(r: number): number {
    return this.indexes ? this.indexes[r]! : r
  }

  /** Cosine of `query` (already unit length, `dim` floats) with every row; best `k` as [score, item index]. */
  top(query: Float32Array, k: number): [number, number][] {
    const hits = this.topRows(query, k)
    // Rows are in index order, so ties (best first, then lower row) stay in index order.
    if (this.indexes) for (const h of hits) h[1] = this.indexes[h[1]]!
    return hits
  }

  private topRows(query: Float32Array, k: number): [number, number][] {
    if (this.count === 0 || k <= 0) return []
    k = Math.min(k, this.count)
    this.f32.set(query, 0)
    if (this.kernel8 && this.count >= FILTER_MIN_ROWS && k * 16 <= this.count) {
      const hits = this.filteredTop(k)
      if (hits) return hits
    }
    return this.fullTop(k)
  }

  /**
   * The float32 score of every row with `query` (unit length), as the exact pass computes it: the
   * reference the filtered answer must equal. The array is a view, valid until the next query;
   * row r is item {@link indexOf}(r).
   */
  scoreAll(query: Float32Array): Float32Array {
    this.f32.set(query, 0)
    return this.allScores()
  }

  private allScores(): Float32Array {
    const f = this.f32
    const out = this.scoresOffset
    if (this.kernel) this.kernel.dots(0, this.rowsOffset, this.count, this.stride * 4, out)
    else dotsJs(f, 0, this.rowsOffset >> 2, this.count, this.stride, out >> 2)
    return f.subarray(out >> 2, (out >> 2) + this.count)
  }

  /** Score every row exactly. */
  private fullTop(k: number): [number, number][] {
    const scores = this.allScores()
    this.lastQuery = { filtered: false, scored: this.count }
    const heap = new TopK(k)
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

  /** The quantised filter (see the class comment); undefined when too many rows survive it. */
  private filteredTop(k: number): [number, number][] | undefined {
    const n = this.count
    const q8 = new Int8Array(this.dim)
    const q = quantise(this.f32, 0, this.dim, q8, 0)
    new Int16Array(this.memory8!.buffer, 0, this.dim).set(q8)
    const t = q.scale
    const qNorm = q.quantisedNorm
    // Float32 rounding in the exact kernel: at most dim·2⁻²⁴·|q|·|x| (|q|, |x| ≤ 1), doubled.
    const eps = 2 * this.dim * 2 ** -24 + 1e-7
    this.kernel8!.dots8(0, this.rows8Offset, n, this.stride, this.scores8Offset)
    const dots = new Int32Array(this.memory8!.buffer, this.scores8Offset, n)
    const { scale, err, norm } = this
    const lows = new TopK(k)
    let low = -Infinity
    for (let r = 0; r < n; r++) {
      const lower = dots[r]! * scale[r]! * t - (q.err * norm[r]! + qNorm * err[r]! + eps)
      if (lower > low) {
        lows.push(lower, r)
        low = lows.threshold
      }
    }
    if (this.candidates.length < n) this.candidates = new Int32Array(this.capacity)
    const cand = this.candidates
    let m = 0
    for (let r = 0; r < n; r++) {
      if (dots[r]! * scale[r]! * t + (q.err * norm[r]! + qNorm * err[r]! + eps) >= low) cand[m++] = r
    }
    if (m * 4 > n) return undefined
    this.lastQuery = { filtered: true, scored: m }
    const heap = new TopK(k)
    const f = this.f32
    const out = this.scoresOffset
    const rowBytes = this.stride * 4
    for (let i = 0; i < m; i++) {
      const r = cand[i]!
      this.kernel!.dots(0, this.rowsOffset + r * rowBytes, 1, rowBytes, out)
      heap.push(f[out >> 2]!, r)
    }
    return heap.sorted()
  }

  /** Bytes of memory held. */
  get bytes(): number {
    return this.memory.buffer.byteLength + (this.memory8?.buffer.byteLength ?? 0)
  }
}

/**
 * Quantise `dim` float32 values at `f[at…]` to int8 at `i8[to…]` with one scale (max |x| / 127,
 * as float32, the value the filter computes with). Returns the scale, the error norm
 * `|x − scale·x̂|`, the norm `|x|` and the norm of the quantised vector `|scale·x̂|`. It runs for
 * every stored row, so it is one pass for the maximum and one for everything else.
 */
function quantise(f: Float32Array, at: number, dim: number, i8: Int8Array, to: number): { scale: number; err: number; norm: number; quantisedNorm: number } {
  let max = 0
  for (let j = at, end = at + dim; j < end; j++) max = Math.max(max, Math.abs(f[j]!))
  const scale = Math.fround(max / 127)
  // |x / scale| ≤ 127 (up to rounding far below 0.5), so rounding needs no clamp. Rounded by adding
  // and removing 1.5·2⁵² (the double's own round-to-nearest; branchless, several times faster than
  // Math.round here). Any rounding would be correct: the error is measured from the stored values.
  const inv = scale > 0 ? 1 / scale : 0
  let err = 0
  let norm = 0
  let qn = 0
  for (let j = 0; j < dim; j++) {
    const x = f[at + j]!
    const v = x * inv + ROUNDER - ROUNDER
    i8[to + j] = v
    const y = v * scale
    const d = x - y
    err += d * d
    norm += x * x
    qn += y * y
  }
  // Rounded up a hair: these bound errors, so they must not come out small.
  return { scale, err: Math.sqrt(err) * (1 + 1e-12), norm: Math.sqrt(norm) * (1 + 1e-12), quantisedNorm: Math.sqrt(qn) * (1 + 1e-12) }
}

function grow(memory: WebAssembly.Memory, bytes: number): void {
  const pages = Math.ceil(bytes / PAGE)
  const have = memory.buffer.byteLength / PAGE
  if (pages > have) memory.grow(pages - have)
}

function grownCopy<A extends Float32Array | Float64Array>(a: A, into: A): A {
  into.set(a.subarray(0, Math.min(a.length, into.length)))
  return into
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
    if (hasUpserts(ctx.db, list)) return this.loadWhole(ctx, list, dim)
    const m = base ?? new ListMatrix(list, dim)
    // Read the segment list and the mark in one synchronous step: a consistent snapshot.
    const mark = lastAppendOf(ctx.db, list)
    const segments = ctx.db.all('SELECT start, count, data, hash FROM item_vectors WHERE list = ? AND start >= ? ORDER BY start', [list, m.count])
    let total = 0
    for (const s of segments) total += s[1] as number
    m.reserve(total)
    // The segments' blobs are pinned now, in the tick their rows were read (see BlobStore.reading).
    await ctx.blobs.reading(blobHashes(segments), async () => {
      for (const [start, count, data, hash] of segments) {
        if (start !== m.count) throw new Error(`vector segments of list ${list} are not contiguous at ${String(start)}`)
        const bytes = data instanceof Uint8Array ? data : await ctx.blobs.get(hash as string)
        m.push(asFloat32(bytes), count as number)
      }
    })
    m.mark = mark
    return m
  }

  /**
   * Load a list that took explicit-index appends, whole: later appends replace earlier ones where
   * they overlap, and only the items written become rows (with their indexes: gaps hold nothing,
   * so an item at index 2^40 costs one row, not 2^40).
   */
  private async loadWhole(ctx: CallContext, list: number, dim: number): Promise<ListMatrix> {
    const mark = lastAppendOf(ctx.db, list)
    const segments = ctx.db.all('SELECT start, count, data, hash FROM item_vectors WHERE list = ? ORDER BY event', [list])
    const written: [start: number, count: number, vectors: Float32Array][] = []
    await ctx.blobs.reading(blobHashes(segments), async () => {
      for (const [start, count, data, hash] of segments) {
        const bytes = data instanceof Uint8Array ? data : await ctx.blobs.get(hash as string)
        written.push([start as number, count as number, asFloat32(bytes)])
      }
    })
    const m = writtenMatrix(list, dim, written)
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

/**
 * The matrix of a list from its vector segments `[start, count, vectors]` in append order: a
 * later segment replaces an earlier one where they overlap, and only the items written become
 * rows, in index order, with their indexes ({@link ListMatrix.indexOf}). Memory follows the
 * number of vectors written, not the largest index: an item at index 2^40 is one row.
 */
export function writtenMatrix(list: number, dim: number, segments: [start: number, count: number, vectors: Float32Array][]): ListMatrix {
  // For each item index, the segment and row that wrote it last.
  const latest = new Map<number, [segment: number, row: number]>()
  segments.forEach(([start, count], segment) => {
    for (let r = 0; r < count; r++) latest.set(start + r, [segment, r])
  })
  const indexes = Float64Array.from(latest.keys()).sort()
  const m = new ListMatrix(list, dim)
  m.reserve(indexes.length)
  for (const index of indexes) {
    const [segment, r] = latest.get(index)!
    m.push(segments[segment]![2].subarray(r * dim, (r + 1) * dim), 1)
  }
  m.setIndexes(indexes)
  return m
}

/** View bytes as float32 (copying when they are not 4-byte aligned). */
export function asFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2)
  return new Float32Array(bytes.slice().buffer)
}
