import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import type { CallContext, DomainSchema } from '../../../engine/context.js'
import type { SqlValue } from '../../../sqlite/sqlite-database.js'
import { ChunkCache } from './chunk-cache.js'
import { parseDType, type DType, checkColumnName } from '../shared/dtypes.js'
import type { ColumnHandleInfo, ColumnInfo, ColumnOptions, ColumnPayload, ColumnRef } from '../shared/column-types.js'

/**
 * Column tables (docs/format.md, "Columns"). A column is a run of chunks ordered by `start` (the index
 * of a chunk's first element). A chunk holds `count` elements in `nbytes` bytes, either inline in
 * `data` or, once it is a full chunk of at least {@link BLOB_CHUNK_BYTES}, in the blob store
 * under `hash`. Variable-size dtypes keep the byte length of every element of the chunk in `lens`
 * (u32 little-endian), the chunk's index of element ranges. `col_meta.gen` changes with every
 * write: it tells the engine's in-memory directory whether it is still current.
 */
export const columnsSchema: DomainSchema = {
  schema: `
    CREATE TABLE IF NOT EXISTS col_meta (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      dtype TEXT NOT NULL,
      elem_size INTEGER NOT NULL,
      length INTEGER NOT NULL,
      min_chunk INTEGER NOT NULL,
      max_chunk INTEGER NOT NULL,
      gen INTEGER NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS col_chunks (
      id INTEGER PRIMARY KEY,
      col INTEGER NOT NULL,
      start INTEGER NOT NULL,
      count INTEGER NOT NULL,
      cap INTEGER NOT NULL,
      nbytes INTEGER NOT NULL,
      data BLOB,
      lens BLOB,
      hash TEXT
    );
    CREATE INDEX IF NOT EXISTS col_chunks_by_start ON col_chunks (col, start);`,
  blobReferences: ['SELECT hash FROM col_chunks WHERE hash IS NOT NULL'],
}

/** Default capacity of a column's first chunk. */
export const DEFAULT_MIN_CHUNK = 16 * 1024
/** Default capacity chunks grow to. */
export const DEFAULT_MAX_CHUNK = 4 * 1024 * 1024
/**
 * Full chunks at least this large live in the blob store: the SQLite image (held in wasm memory and
 * rewritten at every checkpoint) stays small, and the log records a 64-character hash instead of
 * the bytes. Smaller and partly filled chunks stay inline, where an append or an element update is
 * logged as just the changed bytes (SQL `substr`/`||` splices).
 */
export const BLOB_CHUNK_BYTES = 256 * 1024

// `||` on blobs yields TEXT with the same bytes (UTF-8 database, no conversion); CAST turns it back.
// substr() of a zero-length blob is NULL, hence ifnull(…, x'') where data may be empty ('' strings).
const SQL = {
  meta: 'SELECT id, dtype, elem_size, length, min_chunk, max_chunk, gen FROM col_meta WHERE name = ?',
  gen: 'SELECT gen FROM col_meta WHERE id = ?',
  setMeta: 'UPDATE col_meta SET length = ?, gen = ? WHERE id = ?',
  create: 'INSERT INTO col_meta (id, name, dtype, elem_size, length, min_chunk, max_chunk, gen, created_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)',
  idTaken: 'SELECT 1 FROM col_meta WHERE id = ?',
  list: 'SELECT name, dtype, length FROM col_meta ORDER BY name',
  dropChunks: 'DELETE FROM col_chunks WHERE col = ?',
  dropMeta: 'DELETE FROM col_meta WHERE id = ?',
  chunks: 'SELECT id, start, count, cap, nbytes, hash FROM col_chunks WHERE col = ? ORDER BY start',
  parts: 'SELECT data, lens FROM col_chunks WHERE id = ?',
  insertChunk: 'INSERT INTO col_chunks (col, start, count, cap, nbytes, data, lens, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  appendInline: 'UPDATE col_chunks SET data = CAST(data || ? AS BLOB), lens = CAST(lens || ? AS BLOB), count = count + ?, nbytes = nbytes + ? WHERE id = ?',
  seal: 'UPDATE col_chunks SET data = NULL, hash = ?, lens = CAST(lens || ? AS BLOB), count = count + ?, nbytes = nbytes + ? WHERE id = ?',
  spliceInline:
    "UPDATE col_chunks SET data = CAST(ifnull(substr(data, 1, ?), x'') || ? || ifnull(substr(data, ?), x'') AS BLOB), lens = CAST(substr(lens, 1, ?) || ? || substr(lens, ?) AS BLOB), count = ?, nbytes = ? WHERE id = ?",
  spliceBlob: 'UPDATE col_chunks SET hash = ?, lens = CAST(substr(lens, 1, ?) || ? || substr(lens, ?) AS BLOB), count = ?, nbytes = ? WHERE id = ?',
  splitInline:
    "INSERT INTO col_chunks (col, start, count, cap, nbytes, data, lens, hash) SELECT col, ?, ?, cap, ?, ifnull(substr(data, ?, ?), x''), substr(lens, ?, ?), NULL FROM col_chunks WHERE id = ?",
  splitBlob: 'INSERT INTO col_chunks (col, start, count, cap, nbytes, data, lens, hash) SELECT col, ?, ?, cap, ?, NULL, substr(lens, ?, ?), ? FROM col_chunks WHERE id = ?',
  truncate: "UPDATE col_chunks SET data = CASE WHEN hash IS NULL THEN ifnull(substr(data, 1, ?), x'') END, lens = substr(lens, 1, ?), count = ?, nbytes = ? WHERE id = ?",
  shift: 'UPDATE col_chunks SET start = start + ? WHERE col = ? AND start > ?',
  deleteChunk: 'DELETE FROM col_chunks WHERE id = ?',
}

/** One chunk as the engine's directory knows it; data, lens and offsets load lazily. */
interface Chunk {
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
}

/** The directory of one column at one generation. */
interface ColumnState {
  id: number
  name: string
  dtype: DType
  elem: number
  length: number
  minChunk: number
  maxChunk: number
  gen: number
  chunks: Chunk[]
  /** The database's changeCounter when this state was last known to match it. */
  validAt?: number
}

/** A piece of a chunk after an edit: elements [elemFrom, elemFrom+count), bytes [byteFrom, byteFrom+nbytes). */
interface Piece {
  elemFrom: number
  count: number
  byteFrom: number
  nbytes: number
}

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

/** The name in a column reference (a plain name, or a handle's `{ name, id }`). */
function refName(ref: unknown): string {
  if (typeof ref === 'object' && ref !== null && !Array.isArray(ref)) {
    const { name, id } = ref as { name?: unknown; id?: unknown }
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new InvalidArgumentError(`a column reference needs a numeric id, got ${typeof id}`)
    checkName(name)
    return name
  }
  checkName(ref)
  return ref
}

function lensBytes(lens: Uint32Array | undefined): Uint8Array | null {
  return lens ? new Uint8Array(lens.buffer, lens.byteOffset, lens.byteLength) : null
}

function concat(parts: Uint8Array[], total?: number): Uint8Array {
  const out = new Uint8Array(total ?? parts.reduce((n, p) => n + p.length, 0))
  let pos = 0
  for (const p of parts) {
    out.set(p, pos)
    pos += p.length
  }
  return out
}

function checkName(name: unknown): asserts name is string {
  checkColumnName(name)
}

function checkChunkOption(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1 << 30) throw new InvalidArgumentError(`${what} must be a whole number of bytes from 1 to 2^30, got ${String(v)}`)
  return v
}

function checkIndex(i: unknown, what = 'index'): number {
  if (typeof i !== 'number' || !Number.isInteger(i)) throw new InvalidArgumentError(`${what} must be an integer, got ${String(i)}`)
  return i
}

/** Array.prototype.slice's treatment of start/end (negative from the end, clamped). */
function sliceBounds(start: unknown, end: unknown, length: number): [number, number] {
  const rel = (v: unknown, dflt: number, what: string): number => {
    if (v === undefined || v === null) return dflt
    const n = checkIndex(v, what)
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
  private readonly states = new Map<string, ColumnState>()
  private readonly blobCache = new ChunkCache()
  /** Per context and column: the tail of the chain of writes, so calls apply in arrival order. */
  private readonly writeChains = new WeakMap<CallContext, Map<string, Promise<void>>>()

  // ---- directory -------------------------------------------------------------------------

  /**
   * The column a reference names. A handle's reference carries the id of the column it was made
   * for: when that column was deleted (and maybe re-created under the same name, here or in
   * another process), the handle is stale and gets NotFoundError, never the other column.
   */
  private load(ctx: CallContext, ref: ColumnRef): ColumnState {
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

  /** Load a chunk's inline parts (data when inline, lens when variable-size). Synchronous on purpose:
   * everything a call reads from SQLite is read before its first await, so it sees one state. */
  private loadParts(ctx: CallContext, st: ColumnState, c: Chunk): void {
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
    c.partsLoaded = true
  }

  private async chunkData(ctx: CallContext, c: Chunk): Promise<Uint8Array> {
    if (c.hash === null) return c.data!
    const hit = this.blobCache.get(c.hash)
    if (hit) return hit
    const bytes = await ctx.blobs.get(c.hash)
    this.blobCache.set(c.hash, bytes)
    return bytes
  }

  private byteOffset(st: ColumnState, c: Chunk, j: number): number {
    return st.elem > 0 ? j * st.elem : c.offs![j]!
  }

  /** Index in `st.chunks` of the chunk holding element i (0 ≤ i < length). */
  private findChunk(st: ColumnState, i: number): number {
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
   * write that first checks nobody changed the column meanwhile (else plan again). `apply` returns
   * the new length.
   */
  private mutate(ctx: CallContext, ref: ColumnRef, plan: (st: ColumnState, pin: string[]) => Promise<(() => number) | undefined>): Promise<number> {
    const name = refName(ref)
    return this.exclusive(ctx, name, async () => {
      for (let attempt = 0; ; attempt++) {
        // A column deleted (or re-created) meanwhile fails the gen check below: planned again, the
        // reference then meets the new column's id and gets NotFoundError.
        const st = this.load(ctx, ref)
        const pinned: string[] = []
        try {
          const apply = await plan(st, pinned)
          if (!apply) return st.length
          return await ctx.write(() => {
            const row = ctx.db.get(SQL.gen, [st.id])
            if (!row || row[0] !== st.gen) throw STALE
            const length = apply()
            ctx.db.run(SQL.setMeta, [length, newGen(), st.id])
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

  private async put(ctx: CallContext, bytes: Uint8Array, pin: string[]): Promise<string> {
    const hash = await ctx.blobs.put(bytes)
    pin.push(hash)
    this.blobCache.set(hash, bytes)
    return hash
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
    return { name, dtype: d.name, length: 0, id }
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
    const st = this.load(ctx, ref)
    return { name: st.name, dtype: st.dtype.name, length: st.length, id: st.id }
  }

  /** Every column, by name. */
  async list(ctx: CallContext): Promise<ColumnInfo[]> {
    return ctx.db.all(SQL.list).map((r) => ({ name: r[0] as string, dtype: r[1] as string, length: r[2] as number }))
  }

  /** Delete a column and its chunks; false when it did not exist. */
  async drop(ctx: CallContext, name: string): Promise<boolean> {
    checkName(name)
    return this.exclusive(ctx, name, () =>
      ctx.write(() => {
        const row = ctx.db.get(SQL.meta, [name])
        if (!row) return false
        ctx.db.run(SQL.dropChunks, [row[0]!])
        ctx.db.run(SQL.dropMeta, [row[0]!])
        this.states.delete(name)
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
        const st = this.load(ctx, ref)
        const [s, e] = sliceBounds(start, end, st.length)
        return this.readFast(ctx, st, s, e) ?? this.read(ctx, st, s, e)
      } catch (err) {
        return Promise.reject(err)
      }
    }
    return pending.then(() => {
      const st = this.load(ctx, ref)
      const [s, e] = sliceBounds(start, end, st.length)
      return this.read(ctx, st, s, e)
    })
  }

  /** A fixed-size slice inside one chunk whose bytes are in memory, synchronously; else undefined. */
  private readFast(ctx: CallContext, st: ColumnState, s: number, e: number): Promise<ColumnPayload> | undefined {
    if (st.elem === 0 || e <= s) return undefined
    const c = st.chunks[this.findChunk(st, s)]!
    if (e > c.start + c.count) return undefined
    this.loadParts(ctx, st, c)
    const data = c.hash === null ? c.data : this.blobCache.get(c.hash)
    if (!data) return undefined
    return Promise.resolve({ count: e - s, bytes: data.slice((s - c.start) * st.elem, (e - c.start) * st.elem) })
  }

  /** One element; negative counts from the end; RangeError when out of range. */
  async get(ctx: CallContext, ref: ColumnRef, index: number): Promise<ColumnPayload> {
    const pending = this.pendingWrites(ctx, refName(ref))
    if (pending) await pending
    const st = this.load(ctx, ref)
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

  private async read(ctx: CallContext, st: ColumnState, s: number, e: number): Promise<ColumnPayload> {
    const n = e - s
    if (n <= 0) return st.elem > 0 ? { count: 0, bytes: new Uint8Array(0) } : { count: 0, bytes: new Uint8Array(0), lens: new Uint32Array(0) }
    const first = this.findChunk(st, s)
    const last = this.findChunk(st, e - 1)
    for (let k = first; k <= last; k++) this.loadParts(ctx, st, st.chunks[k]!)
    if (st.elem > 0) {
      const size = st.elem
      if (first === last) {
        // One chunk (the common case for short slices): one allocation and copy, a fresh buffer.
        const c = st.chunks[first]!
        const data = c.hash === null ? c.data! : (this.blobCache.get(c.hash) ?? (await this.chunkData(ctx, c)))
        return { count: n, bytes: data.slice((s - c.start) * size, (e - c.start) * size) }
      }
      const out = new Uint8Array(n * size)
      let pos = 0
      for (let k = first; k <= last; k++) {
        const c = st.chunks[k]!
        const data = c.hash === null ? c.data! : (this.blobCache.get(c.hash) ?? (await this.chunkData(ctx, c)))
        const j0 = Math.max(s, c.start) - c.start
        const j1 = Math.min(e, c.start + c.count) - c.start
        out.set(data.subarray(j0 * size, j1 * size), pos)
        pos += (j1 - j0) * size
      }
      return { count: n, bytes: out }
    }
    const lens = new Uint32Array(n)
    const ranges: [Chunk, number, number, number, number][] = []
    let total = 0
    let li = 0
    for (let k = first; k <= last; k++) {
      const c = st.chunks[k]!
      const j0 = Math.max(s, c.start) - c.start
      const j1 = Math.min(e, c.start + c.count) - c.start
      lens.set(c.lens!.subarray(j0, j1), li)
      li += j1 - j0
      const a = c.offs![j0]!
      const b = c.offs![j1]!
      ranges.push([c, j0, j1, a, b])
      total += b - a
    }
    const out = new Uint8Array(total)
    let pos = 0
    for (const [c, , , a, b] of ranges) {
      const data = await this.chunkData(ctx, c)
      out.set(data.subarray(a, b), pos)
      pos += b - a
    }
    return { count: n, bytes: out, lens }
  }

  // ---- writes -------------------------------------------------------------------------------

  private checkPayload(st: ColumnState, p: ColumnPayload): void {
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

  /** Append the payload's elements; returns the new length. */
  async extend(ctx: CallContext, ref: ColumnRef, payload: ColumnPayload): Promise<number> {
    return this.mutate(ctx, ref, async (st, pin) => {
      this.checkPayload(st, payload)
      return this.planAppend(ctx, st, payload, pin)
    })
  }

  private capElems(st: ColumnState, cap: number): number {
    return Math.max(1, Math.floor(cap / st.elem))
  }

  private async planAppend(ctx: CallContext, st: ColumnState, p: ColumnPayload, pin: string[]): Promise<(() => number) | undefined> {
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
        take = Math.min(n, this.capElems(st, tail.cap) - tail.count)
        tb = take * st.elem
        full = tail.count + take === this.capElems(st, tail.cap)
      } else {
        while (take < n && tail.nbytes + tb + lens![take]! <= tail.cap) tb += lens![take++]!
        full = take < n
      }
      if (take > 0 || (full && tail.cap >= BLOB_CHUNK_BYTES)) {
        const add = p.bytes.subarray(0, tb)
        const addLens = lensBytes(lens?.subarray(0, take))
        if (full && tail.cap >= BLOB_CHUNK_BYTES) {
          // The tail is complete: move it to the blob store (the log gets the hash, not the bytes).
          this.loadParts(ctx, st, tail)
          const hash = await this.put(ctx, concat([tail.data!, add]), pin)
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
        const ce = this.capElems(st, cap)
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
        puts.push(this.put(ctx, bytes, pin).then((h) => void (row[7] = h)))
      }
      ops.push(() => ctx.db.run(SQL.insertChunk, row))
      pos += take
      bpos += tb
      start += take
      prevCap = cap
    }
    await Promise.all(puts)
    const length = st.length + n
    return () => {
      for (const op of ops) op()
      return length
    }
  }

  /** Replace element `index` (negative from the end). */
  async set(ctx: CallContext, ref: ColumnRef, index: number, payload: ColumnPayload): Promise<void> {
    await this.mutate(ctx, ref, async (st, pin) => {
      this.checkPayload(st, payload)
      if (payload.count !== 1) throw new InvalidArgumentError('set() takes one value')
      const i = this.position(st, index, false)
      return this.planReplace(ctx, st, i, payload, pin)
    })
  }

  /** Replace elements [start, end) (slice semantics); the payload must hold exactly end - start. */
  async setSlice(ctx: CallContext, ref: ColumnRef, start: number | undefined, end: number | undefined, payload: ColumnPayload): Promise<void> {
    await this.mutate(ctx, ref, async (st, pin) => {
      this.checkPayload(st, payload)
      const [s, e] = sliceBounds(start, end, st.length)
      if (payload.count !== e - s) {
        throw new InvalidArgumentError(`setSlice(${String(start)}, ${String(end)}) covers ${e - s} elements of column "${st.name}" (length ${st.length}) but ${payload.count} values were given`)
      }
      return this.planReplace(ctx, st, s, payload, pin)
    })
  }

  private async planReplace(ctx: CallContext, st: ColumnState, s: number, p: ColumnPayload, pin: string[]): Promise<(() => number) | undefined> {
    const n = p.count
    if (n === 0) return undefined
    const e = s + n
    const first = this.findChunk(st, s)
    const last = this.findChunk(st, e - 1)
    for (let k = first; k <= last; k++) this.loadParts(ctx, st, st.chunks[k]!)
    const ops: (() => void)[] = []
    let pos = 0
    let bpos = 0
    for (let k = first; k <= last; k++) {
      const c = st.chunks[k]!
      const j0 = Math.max(s, c.start) - c.start
      const j1 = Math.min(e, c.start + c.count) - c.start
      const m = j1 - j0
      let mb = m * st.elem
      if (st.elem === 0) {
        mb = 0
        for (let q = pos; q < pos + m; q++) mb += p.lens![q]!
      }
      const part: ColumnPayload = { count: m, bytes: p.bytes.subarray(bpos, bpos + mb), lens: p.lens?.subarray(pos, pos + m) }
      ops.push(...(await this.planEdit(ctx, st, c, j0, j1, part, pin)))
      pos += m
      bpos += mb
    }
    return () => {
      for (const op of ops) op()
      return st.length
    }
  }

  /** Insert one value before `index` (negative from the end; `length` appends). */
  async insert(ctx: CallContext, ref: ColumnRef, index: number, payload: ColumnPayload): Promise<number> {
    return this.mutate(ctx, ref, async (st, pin) => {
      this.checkPayload(st, payload)
      const i = this.position(st, index, true)
      if (i === st.length) return this.planAppend(ctx, st, payload, pin)
      if (payload.count === 0) return undefined
      const c = st.chunks[this.findChunk(st, i)]!
      this.loadParts(ctx, st, c)
      const ops = await this.planEdit(ctx, st, c, i - c.start, i - c.start, payload, pin)
      const length = st.length + payload.count
      return () => {
        for (const op of ops) op()
        return length
      }
    })
  }

  /** Remove element `index` (negative from the end). */
  async deleteAt(ctx: CallContext, ref: ColumnRef, index: number): Promise<number> {
    return this.mutate(ctx, ref, async (st, pin) => {
      const i = this.position(st, index, false)
      const c = st.chunks[this.findChunk(st, i)]!
      this.loadParts(ctx, st, c)
      const empty: ColumnPayload = { count: 0, bytes: new Uint8Array(0), lens: st.elem === 0 ? new Uint32Array(0) : undefined }
      const ops = await this.planEdit(ctx, st, c, i - c.start, i - c.start + 1, empty, pin)
      const length = st.length - 1
      return () => {
        for (const op of ops) op()
        return length
      }
    })
  }

  /** Remove every element (the column stays, with its dtype). */
  async clear(ctx: CallContext, ref: ColumnRef): Promise<void> {
    await this.mutate(ctx, ref, async (st) => {
      if (st.length === 0 && st.chunks.length === 0) return undefined
      return () => {
        ctx.db.run(SQL.dropChunks, [st.id])
        return 0
      }
    })
  }

  /**
   * Replace elements [j0, j1) of chunk `c` with `part`. Only this chunk changes (later chunks'
   * starts shift when the count changes); a chunk that outgrows its capacity is split into pieces.
   * An inline chunk is edited by SQL splices that log only the new bytes; a blob chunk is rebuilt
   * here and stored as new blobs (the log records hashes).
   */
  private async planEdit(ctx: CallContext, st: ColumnState, c: Chunk, j0: number, j1: number, part: ColumnPayload, pin: string[]): Promise<(() => void)[]> {
    const ops: (() => void)[] = []
    const delta = part.count - (j1 - j0)
    const a = this.byteOffset(st, c, j0)
    const b = this.byteOffset(st, c, j1)
    const newCount = c.count + delta
    const newBytes = c.nbytes - (b - a) + part.bytes.length
    if (delta !== 0) ops.push(() => ctx.db.run(SQL.shift, [delta, st.id, c.start]))
    if (newCount === 0) {
      ops.push(() => ctx.db.run(SQL.deleteChunk, [c.id]))
      return ops
    }
    let newLens: Uint32Array | undefined
    if (st.elem === 0) {
      newLens = new Uint32Array(newCount)
      newLens.set(c.lens!.subarray(0, j0), 0)
      newLens.set(part.lens!, j0)
      newLens.set(c.lens!.subarray(j1), j0 + part.count)
    }
    const pieces = this.pieces(st, c, newCount, newBytes, newLens)
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
    const old = await this.chunkData(ctx, c)
    const rebuilt = concat([old.subarray(0, a), part.bytes, old.subarray(b)], newBytes)
    const hashes = await Promise.all(pieces.map((q) => this.put(ctx, rebuilt.subarray(q.byteFrom, q.byteFrom + q.nbytes), pin)))
    ops.push(() => {
      ctx.db.run(SQL.spliceBlob, [hashes[0]!, ...lensArgs, newCount, newBytes, c.id])
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

  /**
   * How an edited chunk is cut. Fixed size: more elements than its capacity → equal pieces that
   * fit (an insert into a full chunk gives two half-full chunks, room for later inserts). Variable
   * size: a chunk may run over its capacity up to twice before it is cut into pieces of at most the
   * capacity (so growing one element does not move its neighbours).
   */
  private pieces(st: ColumnState, c: Chunk, count: number, nbytes: number, lens: Uint32Array | undefined): Piece[] {
    if (st.elem > 0) {
      const ce = this.capElems(st, c.cap)
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
}
