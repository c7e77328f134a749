import type { Vector } from 'apache-arrow'
import type { DomainCaller } from '../../../protocol/domain-caller.js'
import { InvalidArgumentError } from '../../../errors/errors.js'
import { arrowInput, payloadToArrow } from './column-arrow.js'
import { ColumnWriteCache, cacheOptions } from './column-cache.js'
import { decodeMany, encodeMany, encodeOne, parseDType, type DType } from '../shared/dtypes.js'
import { loadCbor } from '../shared/cbor-dtype.js'
import type { ColumnCacheOptions, ColumnHandleInfo, ColumnInfo, ColumnOptions, ColumnPayload, ElementOf, ExtendInput, InputOf, SliceOf } from '../shared/column-types.js'

const RESOLVED: Promise<void> = Promise.resolve()

function payloadTransfer(p: ColumnPayload): Transferable[] {
  const out: Transferable[] = [p.bytes.buffer as ArrayBuffer]
  if (p.lens) out.push(p.lens.buffer as ArrayBuffer)
  return out
}

/**
 * One typed column of a vault (`vault.columns.create('loss', 'f64')`): a list of elements of one
 * dtype, stored in chunks. Methods are async (they may cross a worker); indices count from 0 and
 * negative indices from the end. Numeric columns read and write typed arrays without per-element
 * work; the others take and return plain values.
 *
 * One Column object exists per column and `vault.columns` (or transaction): its write cache is seen
 * by every holder of it. A handle belongs to the column it was made for: once that column is
 * deleted, every call through it rejects with NotFoundError, also when a column of the same name was
 * created since (here or in another tab or process).
 */
export class Column<D extends string = string> implements AsyncIterable<ElementOf<D>> {
  private readonly codec: DType
  private cache: ColumnWriteCache | undefined
  /** Resolves once every call waiting behind a write-out of the cache has been issued (see {@link ordered}). */
  private waiting: Promise<void> | undefined

  /** @internal Use `vault.columns.create()`, `ensure()` or `get()`. */
  constructor(
    private readonly caller: DomainCaller,
    /** The column's name. */
    readonly name: string,
    /** The column's dtype, e.g. `f64` or `str:utf8`. */
    readonly dtype: D,
    /** @internal The identity of the column (docs/format.md, "Columns"), checked by the engine on every call. */
    readonly id: number,
  ) {
    this.codec = parseDType(dtype)
  }

  private call<T>(method: string, args: unknown[], transfer?: Transferable[]): Promise<T> {
    return this.caller.call('columns', method, [{ name: this.name, id: this.id }, ...args], transfer) as Promise<T>
  }

  private send(method: string, args: unknown[], p: ColumnPayload): Promise<unknown> {
    return this.call(method, [...args, p], payloadTransfer(p))
  }

  /**
   * Issue a call in call order (docs/columns.md, "Call order"): calls on a column take effect in
   * the order they are made, awaited or not. With nothing buffered and nothing waiting, the call
   * goes out now, in this tick. Else (`flushFirst`) what the cache holds is taken now and written
   * out in its turn, and the call (with every call made after it) waits for that write-out and
   * fails with it, changing nothing.
   */
  private ordered<T>(issue: () => Promise<T>, flushFirst = true): Promise<T> {
    const cache = this.cache
    const payload = flushFirst && cache && cache.count > 0 ? cache.take() : undefined
    const before = this.waiting
    if (payload === undefined && before === undefined) return issue()
    let issued!: () => void
    const mine = new Promise<void>((resolve) => (issued = resolve))
    this.waiting = mine
    void mine.then(() => {
      if (this.waiting === mine) this.waiting = undefined
    })
    const flushed = payload === undefined ? before : (before ?? RESOLVED).then(() => this.send('extend', [], payload))
    return (flushed ?? RESOLVED).then(
      () => {
        try {
          return issue()
        } finally {
          issued()
        }
      },
      (err: unknown) => {
        issued()
        throw err
      },
    )
  }

  /** Append one value. Inside a cache it is only buffered (written in a batch later). */
  append(value: InputOf<D>): Promise<void> {
    const cache = this.cache
    if (cache) {
      // Hot path of withCache: no async function, no await, no engine call per value.
      try {
        cache.add(value, 'value')
      } catch (err) {
        return Promise.reject(err)
      }
      return cache.full ? this.flush() : RESOLVED
    }
    let p: ColumnPayload
    try {
      p = encodeOne(this.codec, value)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.ordered(() => this.send('extend', [], p), false).then(() => undefined)
  }

  /**
   * Append many values in one write: an array, any iterable, or (numeric dtypes) a typed array,
   * which is copied once with no per-element work. A bad value rejects and nothing is written.
   */
  async extend(input: ExtendInput<D>): Promise<void> {
    const values = arrowInput(input, this.name) as ExtendInput<D>
    const cache = this.cache
    if (cache) {
      cache.addMany(values as Iterable<unknown>, () => encodeMany(this.codec, values as Iterable<unknown>))
      if (cache.full) await this.flush()
      return
    }
    const p = encodeMany(this.codec, values as Iterable<unknown>)
    if (p.count === 0) return
    await this.ordered(() => this.send('extend', [], p), false)
  }

  /** Number of elements (including values still buffered by a cache). */
  async length(): Promise<number> {
    const buffered = this.cache?.count ?? 0
    const n = await this.ordered(() => this.call<number>('length', []), false)
    return n + buffered
  }

  /**
   * Name, dtype and length (the length as stored, after flushing the cache), and `shape` for a
   * fixed-shape `vec:` column.
   */
  async info(): Promise<ColumnInfo> {
    const { id: _id, ...info } = await this.ordered(() => this.call<ColumnHandleInfo>('info', []))
    return info
  }

  /** The element at `index` (negative counts from the end); RangeError when out of range. */
  async get(index: number): Promise<ElementOf<D>> {
    const p = await this.ordered(() => this.call<ColumnPayload>('get', [index]))
    return decodeMany(this.codec, p)[0] as ElementOf<D>
  }

  /**
   * Elements [start, end) with Array.prototype.slice semantics (negative from the end, clamped, no
   * step). Numeric dtypes give a typed array (i64: BigInt64Array), the others an array.
   */
  async slice(start?: number, end?: number): Promise<SliceOf<D>> {
    return decodeMany(this.codec, await this.rawSlice(start, end)) as unknown as SliceOf<D>
  }

  private async rawSlice(start?: number, end?: number): Promise<ColumnPayload> {
    return this.ordered(() => this.call<ColumnPayload>('slice', [start, end]))
  }

  /** Replace the element at `index` (negative counts from the end). */
  async set(index: number, value: InputOf<D>): Promise<void> {
    const p = encodeOne(this.codec, value)
    await this.ordered(() => this.send('set', [index], p))
  }

  /**
   * Replace elements [start, end) (slice semantics for start and end) with `values`, whose length
   * must equal the number of elements covered: InvalidArgumentError otherwise, and nothing changes.
   */
  async setSlice(start: number, end: number | undefined, values: ExtendInput<D>): Promise<void> {
    const p = encodeMany(this.codec, values as Iterable<unknown>)
    await this.ordered(() => this.send('setSlice', [start, end], p))
  }

  /** Insert a value before `index` (negative counts from the end; `length` appends). */
  async insert(index: number, value: InputOf<D>): Promise<void> {
    const p = encodeOne(this.codec, value)
    await this.ordered(() => this.send('insert', [index], p))
  }

  /** Remove the element at `index` (negative counts from the end); RangeError when out of range. */
  async delete(index: number): Promise<void> {
    await this.ordered(() => this.call('deleteAt', [index]))
  }

  /** Remove every element (buffered ones too); the column and its dtype stay. */
  async clear(): Promise<void> {
    this.cache?.discard()
    await this.ordered(() => this.call('clear', []), false)
  }

  /** The whole column (or [start, end)) as an Arrow vector; see docs/columns.md, "Arrow and plotting" for the types. */
  async toArrow(start?: number, end?: number): Promise<Vector> {
    return payloadToArrow(this.codec, await this.rawSlice(start, end))
  }

  /** Slices of `batchSize` elements (default 65536) from `start` to `end`: the fast way to scan. */
  async *batches(options: { batchSize?: number; start?: number; end?: number } = {}): AsyncGenerator<SliceOf<D>> {
    options ??= {}
    const batchSize = options.batchSize ?? 65536
    if (typeof batchSize !== 'number' || !Number.isSafeInteger(batchSize) || batchSize < 1) throw new InvalidArgumentError(`batchSize must be a whole number ≥ 1, got ${String(batchSize)}`)
    for (const k of ['start', 'end'] as const) {
      const v = options[k]
      if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v))) throw new InvalidArgumentError(`batches() ${k} must be an integer, got ${String(v)}`)
    }
    await this.flush()
    const length = await this.call<number>('length', [])
    const norm = (v: number | undefined, d: number): number => (v === undefined ? d : v < 0 ? Math.max(0, length + v) : Math.min(v, length))
    const end = norm(options.end, length)
    for (let i = norm(options.start, 0); i < end; i += batchSize) yield await this.slice(i, Math.min(end, i + batchSize))
  }

  /** Every element in order, fetched in batches (`batchSize`, default 65536). */
  async *iterate(options: { batchSize?: number; start?: number; end?: number } = {}): AsyncGenerator<ElementOf<D>> {
    for await (const batch of this.batches(options)) {
      const items = batch as unknown as ArrayLike<ElementOf<D>>
      for (let i = 0; i < items.length; i++) yield items[i]!
    }
  }

  /** `for await (const v of column)`: streams every element in batches. */
  [Symbol.asyncIterator](): AsyncIterator<ElementOf<D>> {
    return this.iterate()
  }

  /** Write everything the cache holds (a no-op without a cache or when it is empty). */
  async flush(): Promise<void> {
    await this.ordered(() => RESOLVED)
  }

  /**
   * Start buffering appends in memory (see {@link withCache}); a no-op when a cache is on. Inside
   * a transaction the buffer is written into it before it commits (dropped when it rolls back).
   */
  enableCache(options?: ColumnCacheOptions): void {
    // Checked even while a cache is on: `{ capBytes: NaN }` made a cache that never flushed.
    const checked = cacheOptions(options, 'enableCache()')
    this.startCache(checked)
  }

  /** @internal Turn the cache on (options checked): enableCache, withCache and the vault-level cache. */
  startCache(checked: Required<ColumnCacheOptions>): void {
    this.cache ??= new ColumnWriteCache(this.codec, checked)
  }

  /** Flush and stop buffering. */
  async disableCache(): Promise<void> {
    try {
      await this.flush()
    } finally {
      this.cache = undefined
    }
  }

  /** True while appends are buffered. */
  get cacheEnabled(): boolean {
    return this.cache !== undefined
  }

  /**
   * Buffer appends in memory while `fn` runs and write them in large batches: `append`/`extend` go
   * to the buffer (encoded on this thread, no round trip per value); `length` counts them; reads
   * and other changes flush first. Whatever is buffered is written when `fn` returns or throws
   * (then the error is re-thrown). Nested calls share the outer cache. Returns what `fn` returns.
   */
  async withCache<T>(options: ColumnCacheOptions, fn: () => Promise<T> | T): Promise<T> {
    const checked = cacheOptions(options, 'withCache()')
    const owner = this.cache === undefined
    if (owner) this.startCache(checked)
    try {
      return await fn()
    } finally {
      if (owner) await this.disableCache()
    }
  }

  /** @internal Forget buffered values (the column was deleted). */
  discardCache(): void {
    this.cache?.discard()
    this.cache = undefined
  }
}

/**
 * The columns of a vault (`vault.columns`, or `tx.columns` inside a transaction): create, open,
 * list and delete typed columns. Columns share the vault's database, transactions and crash safety.
 */
export class Columns {
  private readonly open = new Map<string, Column>()
  /** The options of the vault-level cache while it is on (`enableCache`), else undefined. */
  private cacheOptions: Required<ColumnCacheOptions> | undefined

  /** @internal Use `vault.columns`. */
  constructor(private readonly caller: DomainCaller) {}

  private async column<D extends string>(info: ColumnHandleInfo): Promise<Column<D>> {
    // A cbor column's codec loads on first use (pages without one never download it).
    if (parseDType(info.dtype).kind === 'cbor') await loadCbor()
    let c = this.open.get(info.name)
    if (!c || c.id !== info.id) {
      c = new Column(this.caller, info.name, info.dtype, info.id)
      this.open.set(info.name, c)
      // Columns opened while the vault-level cache is on buffer too.
      if (this.cacheOptions) c.startCache(this.cacheOptions)
    }
    return c as unknown as Column<D>
  }

  /** Create a column of `dtype`; AlreadyExistsError when the name is taken, InvalidArgumentError for an unknown dtype. */
  async create<D extends string>(name: string, dtype: D, options: ColumnOptions = {}): Promise<Column<D>> {
    parseDType(dtype)
    return this.column<D>(await this.caller.call('columns', 'create', [name, dtype, options]) as ColumnHandleInfo)
  }

  /** The column, created when missing; InvalidArgumentError when it exists with another dtype. */
  async ensure<D extends string>(name: string, dtype: D, options: ColumnOptions = {}): Promise<Column<D>> {
    parseDType(dtype)
    return this.column<D>(await this.caller.call('columns', 'ensure', [name, dtype, options]) as ColumnHandleInfo)
  }

  /** An existing column; NotFoundError when missing. Pass the dtype as a type argument for typed values. */
  async get<D extends string = string>(name: string): Promise<Column<D>> {
    return this.column<D>((await this.caller.call('columns', 'info', [name])) as ColumnHandleInfo)
  }

  /** True when a column of that name exists. */
  async has(name: string): Promise<boolean> {
    return (await this.list()).some((c) => c.name === name)
  }

  /** Every column: `[{ name, dtype, length }]` (plus `shape` for fixed-shape `vec:` columns), by name (buffered appends are flushed first). */
  async list(): Promise<ColumnInfo[]> {
    await this.flush()
    return (await this.caller.call('columns', 'list', [])) as ColumnInfo[]
  }

  /** Delete a column and its data; false when it did not exist. Values buffered for it are dropped. */
  async delete(name: string): Promise<boolean> {
    const c = this.open.get(name)
    c?.discardCache()
    this.open.delete(name)
    return (await this.caller.call('columns', 'drop', [name])) as boolean
  }

  /**
   * Write the buffered appends of every column opened here (done by `vault.close()` too). Every
   * column is flushed even when one fails (one deleted elsewhere meanwhile: NotFoundError), and the
   * first error is re-thrown after; stopping at it lost the other columns' buffers at close().
   */
  flush(): Promise<void> {
    return this.eachColumn((c) => c.flush())
  }

  /** `fn` on every column opened here, also after one fails; then the first failure is thrown. */
  private async eachColumn(fn: (c: Column) => Promise<void>): Promise<void> {
    let first: unknown
    for (const c of [...this.open.values()]) {
      try {
        await fn(c)
      } catch (err) {
        first ??= err
      }
    }
    if (first !== undefined) throw first
  }

  /**
   * Turn on the write cache of every column at once (KohakuVault's vault-level cache): each column
   * opened here, now or later, buffers its appends with these options (a column whose own cache is
   * already on keeps it). A no-op while the vault-level cache is on. Inside a transaction the buffers
   * are written into it before it commits.
   */
  enableCache(options?: ColumnCacheOptions): void {
    this.startCache(cacheOptions(options, 'columns.enableCache()'))
  }

  private startCache(checked: Required<ColumnCacheOptions>): void {
    if (this.cacheOptions) return
    this.cacheOptions = checked
    for (const c of this.open.values()) c.startCache(checked)
  }

  /**
   * Flush every column's buffer and turn every column's cache off (also those turned on one by
   * one). When a flush fails the caches are off all the same and the first error is re-thrown.
   */
  disableCache(): Promise<void> {
    this.cacheOptions = undefined
    return this.eachColumn((c) => c.disableCache())
  }

  /** True while the vault-level cache is on. */
  get cacheEnabled(): boolean {
    return this.cacheOptions !== undefined
  }

  /**
   * Buffer the appends of every column while `fn` runs (see `Column.withCache`), and write them
   * all when it returns or throws (then the error is re-thrown). Inside an outer vault-level cache
   * it shares that cache. Returns what `fn` returns.
   */
  async withCache<T>(options: ColumnCacheOptions, fn: () => Promise<T> | T): Promise<T> {
    const checked = cacheOptions(options, 'columns.withCache()')
    const owner = this.cacheOptions === undefined
    if (owner) this.startCache(checked)
    try {
      return await fn()
    } finally {
      if (owner) await this.disableCache()
    }
  }
}
