import { AlreadyExistsError, InvalidArgumentError } from '../../../errors/errors.js'
import type { CallContext } from '../../../engine/context.js'
import { columnInfo, parseDType } from '../shared/dtypes.js'
import { typeName } from '../shared/value-errors.js'
import type { ColumnHandleInfo, ColumnInfo, ColumnOptions, ColumnPayload, ColumnRef } from '../shared/column-types.js'
import { ChunkBytes } from './chunk-cache.js'
import { chunkRange } from './chunk-patches.js'
import { ChunkDirectory, checkName, findChunk, refName, type ColumnState } from './chunk-directory.js'
import { DEFAULT_MAX_CHUNK, DEFAULT_MIN_CHUNK, SQL } from './columns-schema.js'
import { checkPayload, WritePlanner, type WritePlan } from './write-plans.js'

export { BLOB_CHUNK_BYTES, DEFAULT_MAX_CHUNK, DEFAULT_MIN_CHUNK, columnsSchema } from './columns-schema.js'

// The column engine in three parts: the chunk directory (chunk-directory.ts: which chunks a column
// has, valid per generation), the write plans (write-plans.ts: how a change maps onto chunk edits)
// and, here, the method surface: ordering of a context's calls, reads, and the write loop that
// applies a plan after checking the generation it was made from.

/** Thrown inside a write when another context changed the column after planning: plan again. */
const STALE = Symbol('stale column state')

/** A generation number no earlier write used (so a rolled-back generation is never reused). */
function newGen(): number {
  return Math.floor(Math.random() * 2 ** 52)
}

/**
 * A column's identity: a random 52-bit id made at creation (docs/format.md, "Columns"), never the
 * next rowid, which a column re-created after a delete could get again. A handle carries it, so a
 * handle on a deleted column never reaches a new column of the same name.
 */
function newColumnId(ctx: CallContext): number {
  for (;;) {
    const id = 1 + Math.floor(Math.random() * (2 ** 52 - 1))
    if (!ctx.db.get(SQL.idTaken, [id])) return id
  }
}

function checkChunkOption(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1 << 30) throw new InvalidArgumentError(`${what} must be a whole number of bytes from 1 to 2^30, got ${String(v)}`)
  return v
}

function checkIndex(i: unknown, what = 'index'): number {
  if (typeof i !== 'number' || !Number.isInteger(i)) {
    // A number is shown as it is, anything else by its type: `got 1` for '1' or 1n misled.
    throw new InvalidArgumentError(`${what} must be an integer, got ${typeof i === 'number' ? i : typeName(i)}`)
  }
  return i
}

/**
 * Array.prototype.slice's treatment of start/end (negative from the end, clamped; ±Infinity too, as
 * `slice(0, Infinity)` is a common way to say "to the end"). Other non-integers are refused rather
 * than truncated as Array does: `slice(0.5)` is more likely a bug than a wish.
 */
function sliceBounds(start: unknown, end: unknown, length: number): [number, number] {
  const rel = (v: unknown, dflt: number, what: string): number => {
    if (v === undefined || v === null) return dflt
    const n = v === Infinity || v === -Infinity ? v : checkIndex(v, what)
    return n < 0 ? Math.max(0, length + n) : Math.min(n, length)
  }
  const s = rel(start, 0, 'start')
  const e = rel(end, length, 'end')
  return [s, Math.max(s, e)]
}

/**
 * The engine side of columns: every method takes the call's context first. Reads use an in-memory
 * directory per column (valid while `col_meta.gen` is unchanged: one indexed lookup per call) and a
 * content-addressed cache of blob chunks. Writes are planned from the directory (blob puts happen
 * here, before the write), then applied in one synchronous write that first checks the generation
 * is still the planned one.
 */
export class ColumnsEngine {
  private readonly dir = new ChunkDirectory()
  private readonly bytes = new ChunkBytes()
  private readonly plans = new WritePlanner(this.dir, this.bytes)
  /** Per context and column: the tail of the chain of writes, so calls apply in arrival order. */
  private readonly writeChains = new WeakMap<CallContext, Map<string, Promise<void>>>()

  // ---- ordering ------------------------------------------------------------------------------

  /** Run a change after earlier changes of this column in this context (their blob puts are async). */
  private async exclusive<T>(ctx: CallContext, name: string, fn: () => Promise<T>): Promise<T> {
    let chains = this.writeChains.get(ctx)
    if (!chains) this.writeChains.set(ctx, (chains = new Map()))
    const prev = chains.get(name)
    let release!: () => void
    const mine = new Promise<void>((r) => (release = r))
    const tail = prev ? prev.then(() => mine) : mine
    chains.set(name, tail)
    try {
      if (prev) await prev
      return await fn()
    } finally {
      release()
      if (chains.get(name) === tail) chains.delete(name)
    }
  }

  /** A read waits for changes of the column issued before it (a call sees every earlier call). */
  private pendingWrites(ctx: CallContext, name: string): Promise<void> | undefined {
    return this.writeChains.get(ctx)?.get(name)
  }

  /**
   * Plan a change (may await blob reads and puts; `pin` records each hash put) and apply it in one
   * write that first checks nobody changed the column meanwhile (else plan again). The plan
   * returns the new length.
   */
  private mutate(ctx: CallContext, ref: ColumnRef, plan: (st: ColumnState, pin: string[]) => Promise<WritePlan> | WritePlan): Promise<number> {
    const name = refName(ref)
    return this.exclusive(ctx, name, async () => {
      for (let attempt = 0; ; attempt++) {
        // A column deleted (or re-created) meanwhile fails the gen check below: planned again, the
        // reference then meets the new column's id and gets NotFoundError.
        const st = this.dir.load(ctx, ref)
        // The generation the plan is made from (a patch-only write of another context may advance
        // `st.gen` in place meanwhile: the plan would then be stale although st.gen matches).
        const planned = st.gen
        const pinned: string[] = []
        try {
          const apply = await plan(st, pinned)
          if (!apply) return st.length
          return await ctx.write(() => {
            const row = ctx.db.get(SQL.gen, [st.id])
            if (!row || row[0] !== planned) throw STALE
            const length = apply()
            const gen = newGen()
            ctx.db.run(SQL.setMeta, [length, gen, st.id])
            if (apply.patched) this.dir.patched(st, apply.patched, gen)
            return length
          })
        } catch (err) {
          if (err === STALE && attempt < 8) continue
          if (err === STALE) throw new InvalidArgumentError(`column "${name}" kept changing while a write was planned`)
          throw err
        } finally {
          for (const h of pinned) ctx.blobs.unpin(h)
        }
      }
    })
  }

  // ---- vault-level API ----------------------------------------------------------------------

  /** Create a column; AlreadyExistsError when the name is taken. */
  async create(ctx: CallContext, name: string, dtype: string, options: ColumnOptions = {}): Promise<ColumnHandleInfo> {
    checkName(name)
    const d = parseDType(dtype)
    const min = checkChunkOption(options?.minChunkBytes, 'minChunkBytes')
    const max = checkChunkOption(options?.maxChunkBytes, 'maxChunkBytes')
    const maxChunk = max ?? Math.max(DEFAULT_MAX_CHUNK, min ?? 0)
    const minChunk = Math.min(min ?? DEFAULT_MIN_CHUNK, maxChunk)
    const id = await ctx.write(() => {
      if (ctx.db.get(SQL.meta, [name])) throw new AlreadyExistsError(`column "${name}" already exists`)
      const id = newColumnId(ctx)
      ctx.db.run(SQL.create, [id, name, d.name, d.elemSize, minChunk, maxChunk, newGen(), new Date().toISOString()])
      return id
    })
    return { ...columnInfo(name, d.name, 0), id }
  }

  /** The column, created with `dtype` when missing; InvalidArgumentError when it exists with another dtype. */
  async ensure(ctx: CallContext, name: string, dtype: string, options: ColumnOptions = {}): Promise<ColumnHandleInfo> {
    checkName(name)
    const d = parseDType(dtype)
    const row = ctx.db.get(SQL.meta, [name])
    if (!row) {
      try {
        return await this.create(ctx, name, dtype, options)
      } catch (err) {
        if (!(err instanceof AlreadyExistsError)) throw err
      }
    }
    const info = await this.info(ctx, name)
    if (info.dtype !== d.name) throw new InvalidArgumentError(`column "${name}" exists with dtype ${info.dtype}, not ${d.name}`)
    return info
  }

  /** Name, dtype, length and id (the identity a handle carries); NotFoundError when missing. */
  async info(ctx: CallContext, ref: ColumnRef): Promise<ColumnHandleInfo> {
    const pending = this.pendingWrites(ctx, refName(ref))
    if (pending) await pending
    const st = this.dir.load(ctx, ref)
    return { ...columnInfo(st.name, st.dtype.name, st.length), id: st.id }
  }

  /** Every column, by name. */
  async list(ctx: CallContext): Promise<ColumnInfo[]> {
    return ctx.db.all(SQL.list).map((r) => columnInfo(r[0] as string, r[1] as string, r[2] as number))
  }

  /** Delete a column and its chunks; false when it did not exist. */
  async drop(ctx: CallContext, name: string): Promise<boolean> {
    checkName(name)
    return this.exclusive(ctx, name, () =>
      ctx.write(() => {
        const row = ctx.db.get(SQL.meta, [name])
        if (!row) return false
        ctx.db.run(SQL.dropPatches, [row[0]!])
        ctx.db.run(SQL.dropChunks, [row[0]!])
        ctx.db.run(SQL.dropMeta, [row[0]!])
        this.dir.forget(name)
        return true
      }),
    )
  }

  // ---- reads --------------------------------------------------------------------------------

  /** Number of elements. */
  async length(ctx: CallContext, ref: ColumnRef): Promise<number> {
    return (await this.info(ctx, ref)).length
  }

  /** Elements [start, end) with Array.prototype.slice semantics. */
  slice(ctx: CallContext, ref: ColumnRef, start?: number, end?: number): Promise<ColumnPayload> {
    let pending: Promise<void> | undefined
    try {
      pending = this.pendingWrites(ctx, refName(ref))
    } catch (err) {
      return Promise.reject(err)
    }
    if (!pending) {
      // Hot path (random slices of a cached column): no await at all.
      try {
        const st = this.dir.load(ctx, ref)
        const [s, e] = sliceBounds(start, end, st.length)
        return this.readFast(ctx, st, s, e) ?? this.read(ctx, st, s, e)
      } catch (err) {
        return Promise.reject(err)
      }
    }
    return pending.then(() => {
      const st = this.dir.load(ctx, ref)
      const [s, e] = sliceBounds(start, end, st.length)
      return this.read(ctx, st, s, e)
    })
  }

  /** A fixed-size slice inside one chunk whose bytes are in memory, synchronously; else undefined. */
  private readFast(ctx: CallContext, st: ColumnState, s: number, e: number): Promise<ColumnPayload> | undefined {
    if (st.elem === 0 || e <= s) return undefined
    const c = st.chunks[findChunk(st, s)]!
    if (e > c.start + c.count) return undefined
    this.dir.loadParts(ctx, st, c)
    const data = this.bytes.inMemory(c)
    if (!data) return undefined
    return Promise.resolve({ count: e - s, bytes: chunkRange(st, c, data, s - c.start, e - c.start, true) })
  }

  /** One element; negative counts from the end; RangeError when out of range. */
  async get(ctx: CallContext, ref: ColumnRef, index: number): Promise<ColumnPayload> {
    const pending = this.pendingWrites(ctx, refName(ref))
    if (pending) await pending
    const st = this.dir.load(ctx, ref)
    const i = this.position(st, index, false)
    return this.read(ctx, st, i, i + 1)
  }

  private position(st: ColumnState, index: unknown, allowEnd: boolean): number {
    const raw = checkIndex(index)
    const i = raw < 0 ? st.length + raw : raw
    if (i < 0 || i > st.length || (i === st.length && !allowEnd)) {
      throw new RangeError(`index ${raw} is out of range for column "${st.name}" of length ${st.length}`)
    }
    return i
  }

  /** Elements [s, e) (0 ≤ s ≤ e ≤ length), in a fresh buffer. */
  private async read(ctx: CallContext, st: ColumnState, s: number, e: number): Promise<ColumnPayload> {
    const n = e - s
    if (n <= 0) return st.elem > 0 ? { count: 0, bytes: new Uint8Array(0) } : { count: 0, bytes: new Uint8Array(0), lens: new Uint32Array(0) }
    const spans = this.dir.spans(ctx, st, s, e)
    if (st.elem > 0) {
      const size = st.elem
      if (spans.length === 1) {
        // One chunk (the common case for short slices): one allocation and copy, a fresh buffer.
        const { chunk, from, to } = spans[0]!
        const data = this.bytes.inMemory(chunk) ?? (await this.bytes.load(ctx, chunk))
        return { count: n, bytes: chunkRange(st, chunk, data, from, to, true) }
      }
      const out = new Uint8Array(n * size)
      let pos = 0
      // The chunks' blobs are pinned now, in the tick the directory named them (BlobStore.reading).
      await ctx.blobs.reading(spanBlobs(spans), async () => {
        for (const { chunk, from, to } of spans) {
          const data = this.bytes.inMemory(chunk) ?? (await this.bytes.load(ctx, chunk))
          out.set(chunkRange(st, chunk, data, from, to, false), pos)
          pos += (to - from) * size
        }
      })
      return { count: n, bytes: out }
    }
    // Variable size: the lengths and the total come from the directory, before any await.
    const lens = new Uint32Array(n)
    let total = 0
    let li = 0
    for (const { chunk, from, to } of spans) {
      lens.set(chunk.lens!.subarray(from, to), li)
      li += to - from
      total += chunk.offs![to]! - chunk.offs![from]!
    }
    const out = new Uint8Array(total)
    let pos = 0
    await ctx.blobs.reading(spanBlobs(spans), async () => {
      for (const { chunk, from, to } of spans) {
        const part = chunkRange(st, chunk, await this.bytes.load(ctx, chunk), from, to, false)
        out.set(part, pos)
        pos += part.length
      }
    })
    return { count: n, bytes: out, lens }
  }

  // ---- writes -------------------------------------------------------------------------------

  /** Append the payload's elements; returns the new length. */
  async extend(ctx: CallContext, ref: ColumnRef, payload: ColumnPayload): Promise<number> {
    return this.mutate(ctx, ref, (st, pin) => {
      checkPayload(st, payload)
      return this.plans.append(ctx, st, payload, pin)
    })
  }

  /** Replace element `index` (negative from the end). */
  async set(ctx: CallContext, ref: ColumnRef, index: number, payload: ColumnPayload): Promise<void> {
    await this.mutate(ctx, ref, (st, pin) => {
      checkPayload(st, payload)
      if (payload.count !== 1) throw new InvalidArgumentError('set() takes one value')
      const i = this.position(st, index, false)
      return this.plans.replace(ctx, st, i, payload, pin)
    })
  }

  /** Replace elements [start, end) (slice semantics); the payload must hold exactly end - start. */
  async setSlice(ctx: CallContext, ref: ColumnRef, start: number | undefined, end: number | undefined, payload: ColumnPayload): Promise<void> {
    await this.mutate(ctx, ref, (st, pin) => {
      checkPayload(st, payload)
      const [s, e] = sliceBounds(start, end, st.length)
      if (payload.count !== e - s) {
        throw new InvalidArgumentError(`setSlice(${String(start)}, ${String(end)}) covers ${e - s} elements of column "${st.name}" (length ${st.length}) but ${payload.count} values were given`)
      }
      return this.plans.replace(ctx, st, s, payload, pin)
    })
  }

  /** Insert one value before `index` (negative from the end; `length` appends). */
  async insert(ctx: CallContext, ref: ColumnRef, index: number, payload: ColumnPayload): Promise<number> {
    return this.mutate(ctx, ref, (st, pin) => {
      checkPayload(st, payload)
      return this.plans.insert(ctx, st, this.position(st, index, true), payload, pin)
    })
  }

  /** Remove element `index` (negative from the end). */
  async deleteAt(ctx: CallContext, ref: ColumnRef, index: number): Promise<number> {
    return this.mutate(ctx, ref, (st, pin) => this.plans.deleteAt(ctx, st, this.position(st, index, false), pin))
  }

  /** Remove every element (the column stays, with its dtype). */
  async clear(ctx: CallContext, ref: ColumnRef): Promise<void> {
    await this.mutate(ctx, ref, (st) => this.plans.clear(ctx, st))
  }
}

/** The blobs of the chunks of `spans` (those not stored inline). */
function spanBlobs(spans: readonly { chunk: { hash: string | null } }[]): string[] {
  return spans.flatMap((s) => (s.chunk.hash === null ? [] : [s.chunk.hash]))
}
