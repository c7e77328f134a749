import { concatBytes } from '../../../codec/bytes.js'
import { InvalidArgumentError } from '../../../errors/errors.js'
import type { CallContext } from '../../../engine/context.js'
import type { SqlValue } from '../../../sqlite/sqlite-database.js'
import type { ColumnPayload } from '../shared/column-types.js'
import type { ChunkBytes } from './chunk-cache.js'
import { byteOffset, findChunk, type Chunk, type ChunkDirectory, type ColumnState } from './chunk-directory.js'
import { BLOB_CHUNK_BYTES, SQL } from './columns-schema.js'
import { chunkRange, patchesAllowed, planPatch } from './chunk-patches.js'

/**
 * A planned change: run inside the write (after the column's generation was checked), it makes the
 * SQL edits and returns the column's new length. Undefined when there is nothing to change.
 * `patched` (a change that only patched elements of blob chunks) maps each chunk of the directory
 * to the chunk as it is after the write: the directory takes them over instead of reloading.
 */
export type WritePlan = ((() => number) & { patched?: ReadonlyMap<Chunk, Chunk> }) | undefined

/** A piece of a chunk after an edit: elements [elemFrom, elemFrom+count), bytes [byteFrom, byteFrom+nbytes). */
interface Piece {
  elemFrom: number
  count: number
  byteFrom: number
  nbytes: number
}

function lensBytes(lens: Uint32Array | undefined): Uint8Array | null {
  return lens ? new Uint8Array(lens.buffer, lens.byteOffset, lens.byteLength) : null
}

/** Elements of a fixed-size column that fit in `cap` bytes (at least one). */
function capElems(st: ColumnState, cap: number): number {
  return Math.max(1, Math.floor(cap / st.elem))
}

/** A plan that runs `ops` in order and returns `length`. */
function runAll(ops: (() => void)[], length: number): () => number {
  return () => {
    for (const op of ops) op()
    return length
  }
}

/** Throw InvalidArgumentError unless `p` is a well-formed payload for the column's dtype. */
export function checkPayload(st: ColumnState, p: ColumnPayload): void {
  if (!p || typeof p.count !== 'number' || !Number.isInteger(p.count) || p.count < 0 || !(p.bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError('malformed column payload')
  }
  if (st.elem > 0) {
    if (p.bytes.length !== p.count * st.elem) throw new InvalidArgumentError(`malformed column payload: ${p.bytes.length} bytes for ${p.count} elements of ${st.elem}`)
    return
  }
  if (!(p.lens instanceof Uint32Array) || p.lens.length !== p.count) throw new InvalidArgumentError('malformed column payload: lengths missing')
  let sum = 0
  for (let i = 0; i < p.count; i++) sum += p.lens[i]!
  if (sum !== p.bytes.length) throw new InvalidArgumentError('malformed column payload: lengths do not add up')
}

/**
 * Write plans: how an append, a replacement, an insert or a delete maps onto chunk edits (SQL
 * splices of inline chunks, new chunks, splits, blob moves). Planning reads the column's directory
 * as of one generation and may await blob reads and puts (each put hash goes to `pin`); the plan it
 * returns is applied later, synchronously, inside the write.
 */
export class WritePlanner {
  constructor(
    private readonly dir: ChunkDirectory,
    private readonly bytes: ChunkBytes,
  ) {}

  /** Append the payload's elements. */
  async append(ctx: CallContext, st: ColumnState, p: ColumnPayload, pin: string[]): Promise<WritePlan> {
    const n = p.count
    if (n === 0) return undefined
    const ops: (() => void)[] = []
    const lens = p.lens
    let pos = 0
    let bpos = 0
    const tail = st.chunks[st.chunks.length - 1]
    // 1. Top up the inline tail chunk.
    if (tail && tail.hash === null) {
      let take = 0
      let tb = 0
      let full: boolean
      if (st.elem > 0) {
        take = Math.min(n, capElems(st, tail.cap) - tail.count)
        tb = take * st.elem
        full = tail.count + take === capElems(st, tail.cap)
      } else {
        while (take < n && tail.nbytes + tb + lens![take]! <= tail.cap) tb += lens![take++]!
        full = take < n
      }
      if (take > 0 || (full && tail.cap >= BLOB_CHUNK_BYTES)) {
        const add = p.bytes.subarray(0, tb)
        const addLens = lensBytes(lens?.subarray(0, take))
        if (full && tail.cap >= BLOB_CHUNK_BYTES) {
          // The tail is complete: move it to the blob store (the log gets the hash, not the bytes).
          this.dir.loadParts(ctx, st, tail)
          const hash = await this.bytes.put(ctx, concatBytes([tail.data!, add]), pin)
          ops.push(() => ctx.db.run(SQL.seal, [hash, addLens, take, tb, tail.id]))
        } else {
          ops.push(() => ctx.db.run(SQL.appendInline, [add, addLens, take, tb, tail.id]))
        }
        pos = take
        bpos = tb
      }
    }
    // 2. New chunks, each twice the previous capacity up to the maximum.
    let prevCap = tail?.cap ?? 0
    let start = st.length + pos
    const puts: Promise<void>[] = []
    while (pos < n) {
      const cap = prevCap === 0 ? st.minChunk : Math.max(st.minChunk, Math.min(st.maxChunk, prevCap * 2))
      let take: number
      let tb: number
      let full: boolean
      if (st.elem > 0) {
        const ce = capElems(st, cap)
        take = Math.min(ce, n - pos)
        tb = take * st.elem
        full = take === ce
      } else {
        take = 1
        tb = lens![pos]!
        while (pos + take < n && tb + lens![pos + take]! <= cap) tb += lens![pos + take++]!
        full = pos + take < n
      }
      const bytes = p.bytes.subarray(bpos, bpos + tb)
      const chunkLens = lensBytes(lens?.subarray(pos, pos + take))
      const row: SqlValue[] = [st.id, start, take, cap, tb, bytes, chunkLens, null]
      if (full && cap >= BLOB_CHUNK_BYTES) {
        row[5] = null
        puts.push(this.bytes.put(ctx, bytes, pin).then((h) => void (row[7] = h)))
      }
      ops.push(() => ctx.db.run(SQL.insertChunk, row))
      pos += take
      bpos += tb
      start += take
      prevCap = cap
    }
    await Promise.all(puts)
    return runAll(ops, st.length + n)
  }

  /** Replace elements [s, s + p.count) (inside the column) with the payload's. */
  async replace(ctx: CallContext, st: ColumnState, s: number, p: ColumnPayload, pin: string[]): Promise<WritePlan> {
    const n = p.count
    if (n === 0) return undefined
    const ops: (() => void)[] = []
    // Chunks only patched (chunk-patches.ts), as they are after the write; undefined once any
    // chunk is rewritten (the directory is then read again).
    let patched: Map<Chunk, Chunk> | undefined = new Map()
    const mayPatch = patchesAllowed(ctx)
    let pos = 0
    let bpos = 0
    const steps: { chunk: Chunk; from: number; to: number; part: ColumnPayload; patch: ReturnType<typeof planPatch> }[] = []
    for (const { chunk, from, to } of this.dir.spans(ctx, st, s, s + n)) {
      const m = to - from
      let mb = m * st.elem
      if (st.elem === 0) {
        mb = 0
        for (let q = pos; q < pos + m; q++) mb += p.lens![q]!
      }
      const part: ColumnPayload = { count: m, bytes: p.bytes.subarray(bpos, bpos + mb), lens: p.lens?.subarray(pos, pos + m) }
      steps.push({ chunk, from, to, part, patch: mayPatch && chunk.hash !== null ? planPatch(ctx, st, chunk, from, part) : undefined })
      pos += m
      bpos += mb
    }
    // The blob chunks rewritten load one after another: pinned now, in the tick the directory named
    // them, so that another process dropping the column and checkpointing meanwhile collects none
    // under the plan (it is then planned again, and meets the column gone).
    const loads = steps.filter((t) => !t.patch && t.chunk.hash !== null).map((t) => t.chunk.hash!)
    await ctx.blobs.reading(loads, async () => {
      for (const { chunk, from, to, part, patch } of steps) {
        if (patch) {
          ops.push(patch.op)
          patched?.set(chunk, patch.next)
        } else {
          ops.push(...(await this.edit(ctx, st, chunk, from, to, part, pin)))
          patched = undefined
        }
      }
    })
    const plan: WritePlan = runAll(ops, st.length)
    if (patched) plan.patched = patched
    return plan
  }

  /** Insert the payload's elements before element i (0 ≤ i ≤ length). */
  async insert(ctx: CallContext, st: ColumnState, i: number, p: ColumnPayload, pin: string[]): Promise<WritePlan> {
    if (i === st.length) return this.append(ctx, st, p, pin)
    if (p.count === 0) return undefined
    const c = st.chunks[findChunk(st, i)]!
    this.dir.loadParts(ctx, st, c)
    const ops = await this.edit(ctx, st, c, i - c.start, i - c.start, p, pin)
    return runAll(ops, st.length + p.count)
  }

  /** Remove element i (0 ≤ i < length). */
  async deleteAt(ctx: CallContext, st: ColumnState, i: number, pin: string[]): Promise<WritePlan> {
    const c = st.chunks[findChunk(st, i)]!
    this.dir.loadParts(ctx, st, c)
    const empty: ColumnPayload = { count: 0, bytes: new Uint8Array(0), lens: st.elem === 0 ? new Uint32Array(0) : undefined }
    const ops = await this.edit(ctx, st, c, i - c.start, i - c.start + 1, empty, pin)
    return runAll(ops, st.length - 1)
  }

  /** Remove every element (the column's meta stays). */
  clear(ctx: CallContext, st: ColumnState): WritePlan {
    if (st.length === 0 && st.chunks.length === 0) return undefined
    return () => {
      ctx.db.run(SQL.dropPatches, [st.id])
      ctx.db.run(SQL.dropChunks, [st.id])
      return 0
    }
  }

  /**
   * Replace elements [j0, j1) of chunk `c` (parts loaded) with `part`. Only this chunk changes
   * (later chunks' starts shift when the count changes); a chunk that outgrows its capacity is split
   * into pieces. An inline chunk is edited by SQL splices that log only the new bytes; a blob chunk
   * is rebuilt here and stored as new blobs (the log records hashes).
   */
  private async edit(ctx: CallContext, st: ColumnState, c: Chunk, j0: number, j1: number, part: ColumnPayload, pin: string[]): Promise<(() => void)[]> {
    const ops: (() => void)[] = []
    const delta = part.count - (j1 - j0)
    const a = byteOffset(st, c, j0)
    const b = byteOffset(st, c, j1)
    const newCount = c.count + delta
    const newBytes = c.nbytes - (b - a) + part.bytes.length
    if (delta !== 0) ops.push(() => ctx.db.run(SQL.shift, [delta, st.id, c.start]))
    if (newCount === 0) {
      ops.push(() => {
        ctx.db.run(SQL.deleteChunk, [c.id])
        if (c.patches) ctx.db.run(SQL.deletePatches, [c.id])
      })
      return ops
    }
    let newLens: Uint32Array | undefined
    if (st.elem === 0) {
      newLens = new Uint32Array(newCount)
      newLens.set(c.lens!.subarray(0, j0), 0)
      newLens.set(part.lens!, j0)
      newLens.set(c.lens!.subarray(j1), j0 + part.count)
    }
    const pieces = cutPieces(st, c, newCount, newBytes, newLens)
    const pl = lensBytes(part.lens)
    const lensArgs = [j0 * 4, pl, j1 * 4 + 1]
    if (c.hash === null) {
      ops.push(() => ctx.db.run(SQL.spliceInline, [a, part.bytes, b + 1, ...lensArgs, newCount, newBytes, c.id]))
      if (pieces.length > 1) {
        ops.push(() => {
          for (const q of pieces.slice(1)) {
            ctx.db.run(SQL.splitInline, [c.start + q.elemFrom, q.count, q.nbytes, q.byteFrom + 1, q.nbytes, q.elemFrom * 4 + 1, q.count * 4, c.id])
          }
          ctx.db.run(SQL.truncate, [pieces[0]!.nbytes, pieces[0]!.count * 4, pieces[0]!.count, pieces[0]!.nbytes, c.id])
        })
      }
      return ops
    }
    // The chunk's elements as they read (its patches folded in), then the edit.
    const old = chunkRange(st, c, await this.bytes.load(ctx, c), 0, c.count, false)
    const rebuilt = concatBytes([old.subarray(0, a), part.bytes, old.subarray(b)], newBytes)
    const hashes = await Promise.all(pieces.map((q) => this.bytes.put(ctx, rebuilt.subarray(q.byteFrom, q.byteFrom + q.nbytes), pin)))
    ops.push(() => {
      if (c.patches) {
        // The SQL lengths are the old blob's: write the new chunk's whole, and drop the patches.
        ctx.db.run(SQL.fold, [hashes[0]!, lensBytes(newLens), newCount, newBytes, c.id])
        ctx.db.run(SQL.deletePatches, [c.id])
      } else {
        ctx.db.run(SQL.spliceBlob, [hashes[0]!, ...lensArgs, newCount, newBytes, c.id])
      }
      if (pieces.length > 1) {
        for (let k = 1; k < pieces.length; k++) {
          const q = pieces[k]!
          ctx.db.run(SQL.splitBlob, [c.start + q.elemFrom, q.count, q.nbytes, q.elemFrom * 4 + 1, q.count * 4, hashes[k]!, c.id])
        }
        ctx.db.run(SQL.truncate, [pieces[0]!.nbytes, pieces[0]!.count * 4, pieces[0]!.count, pieces[0]!.nbytes, c.id])
      }
    })
    return ops
  }
}

/**
 * How an edited chunk is cut. Fixed size: more elements than its capacity → equal pieces that fit
 * (an insert into a full chunk gives two half-full chunks, room for later inserts). Variable size:
 * a chunk may run over its capacity up to twice before it is cut into pieces of at most the
 * capacity (so growing one element does not move its neighbours).
 */
function cutPieces(st: ColumnState, c: Chunk, count: number, nbytes: number, lens: Uint32Array | undefined): Piece[] {
  if (st.elem > 0) {
    const ce = capElems(st, c.cap)
    if (count <= ce) return [{ elemFrom: 0, count, byteFrom: 0, nbytes }]
    const k = Math.ceil(count / ce)
    const out: Piece[] = []
    let from = 0
    for (let i = 0; i < k; i++) {
      const m = Math.floor(count / k) + (i < count % k ? 1 : 0)
      out.push({ elemFrom: from, count: m, byteFrom: from * st.elem, nbytes: m * st.elem })
      from += m
    }
    return out
  }
  if (nbytes <= 2 * c.cap || count === 1) return [{ elemFrom: 0, count, byteFrom: 0, nbytes }]
  const out: Piece[] = []
  let from = 0
  let bfrom = 0
  while (from < count) {
    let m = 1
    let mb = lens![from]!
    while (from + m < count && mb + lens![from + m]! <= c.cap) mb += lens![from + m++]!
    out.push({ elemFrom: from, count: m, byteFrom: bfrom, nbytes: mb })
    from += m
    bfrom += mb
  }
  return out
}
