import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb'
import { ClosedError, CorruptionError, InvalidArgumentError, NotFoundError, UnsupportedError } from '../errors/errors.js'
import { fromPlatformError } from '../errors/platform-error.js'
import { pathSegments, type StorageAdapter } from './storage-adapter.js'

/*
 * Invariants of the IndexedDB adapter. Freshness is kept by four counters (a stamp counter, a
 * remove counter, and per file a version and an epoch) plus the flags and marks below; what each
 * means, when it changes, and what must hold between them:
 *
 * Per file (FileState, one per path this adapter touched):
 *  I1. Cache: a block in `blocks` is the file's truth for this adapter; a block index below
 *      ceil(size / blockSize) that is not in `blocks` is exactly what the database holds.
 *  I2. Stamps: every local change takes a fresh stamp from the adapter's `stampCounter`, which only
 *      grows, so an unchanged stamp means "no change since". `dirty` maps each cached block that
 *      differs from the database to the stamp of its last change; `metaStamp` is the stamp of the
 *      last unsynced change of size or existence (0: the database's meta is current). A change to
 *      dirty blocks always sets `metaStamp` too. A commit snapshots the stamps and, once it landed,
 *      clears only those still equal: a change made while it ran stays unsynced.
 *  I3. `dropFrom` (when set): database blocks from that index on are stale and the next commit
 *      deletes them; every cached block at or past it is dirty. A failed commit sets it back.
 *  I4. Local changes: `hasLocalChanges` (metaStamp ≠ 0, or dirty blocks, or a pending drop). While
 *      it holds, the state is the truth and is never reloaded from the database; it holds from a
 *      change until the commit that carries it has landed (the stamps are cleared only then).
 *  I5. `version`: the meta version this state matches (read, or written by this adapter's last
 *      commit). Versions are random and only compared for equality. Another connection's commit
 *      changes the database's; `size` notices and, with no local changes (I4), reloads the meta
 *      and drops the cache.
 *  I6. `base` (when set): the size the database holds, with every local change since an append
 *      past it; a truncate back to it with no commit in flight (`commitsInFlight`) then leaves
 *      nothing to commit (one asked for while a commit is in flight waits for it first). `epoch`
 *      is bumped whenever the state's view of the database changes other than by our own commit:
 *      `base` stops being true (a write, a truncate below it) or `size`
 *      reloads (I5). Work started under an earlier epoch does not update the state: a block load
 *      is ignored, a landed commit does not set `base`. One counter serves both because a `base`
 *      drop only happens in the file's queue (`serial`), never while a load of that file is in
 *      flight, and a reload never happens while a commit of the file is in flight (I4).
 *  I7. `removed`: the state left `states` (a remove, or the file vanished); an operation holding it
 *      starts over.
 *
 * Adapter-wide:
 *  A1. `removals` is bumped by every remove: a meta read that started before one is not trusted
 *      (it is read again), since the read may predate the delete.
 *  A2. Commits run one at a time (`commitChain`); `commitsInFlight` counts those issued and not
 *      settled. `unsyncedBytes` (a volume, not a freshness mark) counts bytes buffered since the
 *      last write-back began and triggers an early one.
 */

/** What the database stores per file. */
interface FileMeta {
  /** Bytes in the file. */
  size: number
  /** Bytes per block of this file (every block but the last is full). Stored so a new default never misreads old files. */
  blockSize: number
  /** Changes at every commit, so another tab's {@link IndexedDbAdapter.size} notices a rewrite of equal size. */
  version: number
}

interface VaultDbSchema extends DBSchema {
  /** File path → its meta. Folders are path prefixes: nothing stores them. */
  files: { key: string; value: FileMeta }
  /** [path, block index] → the block's bytes, exactly as long as the file covers it. */
  blocks: { key: [string, number]; value: Uint8Array }
}

/** The in-memory view of one file this adapter has touched. */
interface FileState {
  readonly path: string
  size: number
  blockSize: number
  /** The meta version last read or committed. */
  version: number
  /**
   * Cached blocks. Holds every block with unsynced changes and the tail of files being appended to;
   * any block not here is exactly what the database holds.
   */
  blocks: Map<number, Uint8Array>
  /** Block index → stamp of its last unsynced change. A commit clears only stamps it wrote. */
  dirty: Map<number, number>
  /** Database blocks from this index on are stale (a truncate or write) and are deleted by the next commit. */
  dropFrom: number | undefined
  /** Stamp of the last unsynced change of size or existence; 0 when the meta is synced. */
  metaStamp: number
  /** Keep the tail block cached after a commit: the file is being appended to. */
  keepTail: boolean
  /** Set when the file was removed; an operation holding this state starts over. */
  removed: boolean
  /**
   * The file's size in the database while every local change since is an append past it (undefined
   * otherwise). A truncate back to it (a failed append taken back) then leaves nothing to commit,
   * so a full origin does not make every later sync and close fail on bytes nobody needs.
   */
  base: number | undefined
  /**
   * Bumped whenever this state's view of the database copy changes other than by this adapter's
   * own commit: the cache is dropped for a newer version, or {@link base} stops being true (a
   * write, a truncate below it). See invariant I6 at the top of the file.
   */
  epoch: number
}

/** Options of {@link IndexedDbAdapter.open}. */
export interface IndexedDbAdapterOptions {
  /**
   * Bytes per block of files built by appends (default 32 KiB). A small append rewrites its whole
   * tail block at the next sync, so small blocks keep log commits cheap; large reads pay per block
   * instead (Chromium here: ~1 ms of overhead per value read). Files written whole by `write` of
   * 256 KiB or more use 256 KiB blocks (at least), since they are read whole: 8 MB reads ~3x faster.
   */
  blockSize?: number
  /**
   * Unsynced changes are committed in the background after this many milliseconds (default 1000),
   * as a file system writes back dirty pages, so a relaxed-durability vault that rarely syncs still
   * persists. 0 disables it.
   */
  writeBackDelay?: number
}

const DEFAULT_BLOCK_SIZE = 32 * 1024
/** Block size of files written whole when they are at least this large (see {@link IndexedDbAdapterOptions.blockSize}). */
const WHOLE_FILE_BLOCK_SIZE = 256 * 1024
/** Unsynced bytes past which a background commit starts at once, bounding the memory buffered writes take. */
const WRITE_BACK_BYTES = 8 * 1024 * 1024
const DB_VERSION = 1

/**
 * Files in IndexedDB, for browsers (or tabs) without OPFS sync access handles: windows, shared
 * workers, WebKitGTK. Works in a window and in any worker.
 *
 * Each file is a meta record (size) plus fixed-size blocks keyed by `[path, index]`, so appending a
 * few bytes rewrites only the tail block instead of the file. Changes are buffered in memory (reads
 * see them) and committed by `sync` in one `readwrite` transaction with `durability: 'strict'`: all
 * blocks and the new size of a sync land together or not at all, so the database never holds a torn
 * mix of old and new blocks. Unsynced changes are also written back in the background.
 *
 * One adapter should write a given file at a time (the engine's write lock ensures it). Another tab
 * reading the same database sees new commits after calling {@link size} on the file, which
 * revalidates the cached meta against the database, as a Node adapter re-stats a file.
 */
export class IndexedDbAdapter implements StorageAdapter {
  readonly kind = 'indexeddb'
  private readonly states = new Map<string, FileState>()
  /** Meta loads in flight, shared by concurrent first calls on a file. */
  private readonly loading = new Map<string, Promise<'ok' | 'retry'>>()
  /** Per-path chains that keep write, append and truncate of one file in call order. */
  private readonly queues = new Map<string, Promise<unknown>>()
  /** Commits run one at a time: a failed commit can then be retried without undoing a later one. */
  private commitChain: Promise<void> = Promise.resolve()
  /** Commits issued and not settled (a truncate back to `base` is only exact when none is). */
  private commitsInFlight = 0
  /** Bumped by remove, so a meta read that started before it is not trusted (invariant A1). */
  private removals = 0
  private stampCounter = 0
  private unsyncedBytes = 0
  private writeBackTimer: ReturnType<typeof setTimeout> | undefined
  private closedReason: string | undefined
  private readonly blockSize: number
  private readonly writeBackDelay: number

  private constructor(
    private readonly db: IDBPDatabase<VaultDbSchema>,
    options: IndexedDbAdapterOptions,
  ) {
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE
    this.writeBackDelay = options.writeBackDelay ?? 1000
  }

  /** True when this global scope has IndexedDB (every modern window and worker). */
  static isSupported(): boolean {
    return typeof indexedDB !== 'undefined'
  }

  /** Open (creating when missing) the IndexedDB database `dbName` of this origin. */
  static async open(dbName: string, options: IndexedDbAdapterOptions = {}): Promise<IndexedDbAdapter> {
    if (!IndexedDbAdapter.isSupported()) throw new UnsupportedError('IndexedDB is not available in this environment')
    const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new InvalidArgumentError(`blockSize must be a positive integer, got ${blockSize}`)
    let adapter: IndexedDbAdapter | undefined
    try {
      const db = await openDB<VaultDbSchema>(dbName, DB_VERSION, {
        upgrade(db) {
          db.createObjectStore('files')
          db.createObjectStore('blocks')
        },
        // Another connection wants to upgrade or delete the database: let it, and fail our later calls.
        blocking() {
          adapter?.lose('the database is being upgraded or deleted by another connection')
        },
        terminated() {
          adapter?.lose('the browser closed the database connection')
        },
      })
      adapter = new IndexedDbAdapter(db, options)
      return adapter
    } catch (err) {
      throw fromPlatformError(err, `open IndexedDB database ${dbName}`)
    }
  }

  private lose(reason: string): void {
    this.closedReason ??= reason
    clearTimeout(this.writeBackTimer)
    this.db.close()
  }

  private assertOpen(): void {
    if (this.closedReason !== undefined) throw new ClosedError(`the IndexedDB adapter is closed: ${this.closedReason}`)
  }

  // ---- state ------------------------------------------------------------------------------------

  /** The state of a file, loading its meta when needed; `create` makes an empty file when missing. */
  private async state(key: string, create: boolean): Promise<FileState | undefined> {
    if (key === '') throw new InvalidArgumentError('the storage root is a folder, not a file')
    for (;;) {
      this.assertOpen()
      let st = this.states.get(key)
      if (st) return st
      let pending = this.loading.get(key)
      if (!pending) {
        const promise = this.loadState(key)
        pending = promise
        this.loading.set(key, promise)
        void promise
          .finally(() => {
            if (this.loading.get(key) === promise) this.loading.delete(key)
          })
          .catch(() => {})
      }
      const outcome = await pending
      st = this.states.get(key)
      if (st) return st
      if (outcome === 'retry') continue
      if (!create) return undefined
      st = this.newState(key, { size: 0, blockSize: this.blockSize, version: 0 })
      st.base = undefined // not in the database at all
      st.metaStamp = this.stamp()
      this.states.set(key, st)
      this.scheduleWriteBack()
      return st
    }
  }

  private async loadState(key: string): Promise<'ok' | 'retry'> {
    const removals = this.removals
    let meta: FileMeta | undefined
    try {
      meta = await this.db.get('files', key)
    } catch (err) {
      throw this.platformError(err, `read meta of ${key}`)
    }
    if (removals !== this.removals) return 'retry'
    if (meta && !this.states.has(key)) this.states.set(key, this.newState(key, meta))
    return 'ok'
  }

  private newState(path: string, meta: FileMeta): FileState {
    return {
      path,
      size: meta.size,
      blockSize: meta.blockSize,
      version: meta.version,
      blocks: new Map(),
      dirty: new Map(),
      dropFrom: undefined,
      metaStamp: 0,
      keepTail: false,
      removed: false,
      base: meta.size,
      epoch: 0,
    }
  }

  private dropBase(st: FileState): void {
    st.base = undefined
    st.epoch++
  }

  private stamp(): number {
    return ++this.stampCounter
  }

  /** Run mutations of one file in call order, even when some of them wait for the database. */
  private serial<T>(key: string, run: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key)
    const result = previous ? previous.then(run, run) : run()
    const tail = result.catch(() => {})
    this.queues.set(key, tail)
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key)
    })
    return result
  }

  /** Load one block of `st` into its cache (unless a newer change or a remove got there first). */
  private async loadBlock(st: FileState, index: number): Promise<void> {
    const epoch = st.epoch
    let block: Uint8Array | undefined
    try {
      block = await this.db.get('blocks', [st.path, index])
    } catch (err) {
      throw this.platformError(err, `read ${st.path}`)
    }
    if (st.removed || st.epoch !== epoch || st.blocks.has(index)) return
    const expected = blockLength(st, index)
    if (!block || block.length < expected) throw new CorruptionError(`block ${index} of ${st.path} is missing or short`)
    st.blocks.set(index, block)
  }

  // ---- reads ------------------------------------------------------------------------------------

  /**
   * Copy bytes `[offset, end)` of `st` out of the cache and the database. The cache part is copied
   * and the database read issued before the first await: the readonly transaction is ordered before
   * any later commit, so the result is the file as it was at the call.
   */
  private async readBytes(st: FileState, offset: number, end: number): Promise<Uint8Array> {
    const out = new Uint8Array(Math.max(0, end - offset))
    if (out.length === 0) return out
    const size = st.blockSize
    const missing: number[] = []
    for (let i = Math.floor(offset / size); i * size < end; i++) {
      const block = st.blocks.get(i)
      if (block) copyBlock(block, i * size, offset, end, out)
      else missing.push(i)
    }
    if (missing.length === 0) return out
    const range = IDBKeyRange.bound([st.path, missing[0]!], [st.path, missing[missing.length - 1]!])
    let values: Uint8Array[]
    let keys: [string, number][]
    try {
      const tx = this.db.transaction('blocks', 'readonly')
      ;[values, keys] = await Promise.all([tx.store.getAll(range), tx.store.getAllKeys(range), tx.done])
    } catch (err) {
      throw this.platformError(err, `read ${st.path}`)
    }
    const found = new Map<number, Uint8Array>()
    keys.forEach((k, j) => found.set(k[1], values[j]!))
    for (const i of missing) {
      const block = found.get(i)
      const need = Math.min(end, (i + 1) * size) - i * size
      if (!block || block.length < need) throw new CorruptionError(`block ${i} of ${st.path} is missing or short`)
      copyBlock(block, i * size, offset, end, out)
    }
    return out
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    const st = await this.state(key(path), false)
    return st ? this.readBytes(st, 0, st.size) : undefined
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const st = await this.state(key(path), false)
    if (!st) throw new NotFoundError(`no file ${path}`)
    return this.readBytes(st, Math.min(offset, st.size), Math.min(st.size, offset + length))
  }

  async size(path: string): Promise<number | undefined> {
    const k = key(path)
    for (;;) {
      this.assertOpen()
      const cached = this.states.get(k)
      // Our own unsynced changes are the truth for this adapter.
      if (cached && hasLocalChanges(cached)) return cached.size
      // Otherwise ask the database: another tab may have committed since we cached the meta.
      const removals = this.removals
      let meta: FileMeta | undefined
      try {
        meta = await this.db.get('files', k)
      } catch (err) {
        throw this.platformError(err, `size ${path}`)
      }
      if (removals !== this.removals) continue
      const st = this.states.get(k)
      if (st && hasLocalChanges(st)) return st.size
      if (!meta) {
        if (st) {
          st.removed = true
          this.states.delete(k)
        }
        return undefined
      }
      if (!st) this.states.set(k, this.newState(k, meta))
      else if (st.version !== meta.version) {
        st.size = meta.size
        st.blockSize = meta.blockSize
        st.version = meta.version
        st.blocks.clear()
        st.base = meta.size
        st.epoch++
      }
      return meta.size
    }
  }

  async list(folder: string): Promise<string[]> {
    const k = key(folder)
    this.assertOpen()
    const prefix = k === '' ? '' : k + '/'
    // Files created and not yet committed are only in memory; committed ones are in the database.
    // The keys transaction is ordered after any earlier remove's, so removed files do not reappear.
    const names = new Set<string>()
    for (const [p, st] of this.states) if (!st.removed && p.startsWith(prefix)) names.add(p.slice(prefix.length).split('/')[0]!)
    let keys: string[]
    try {
      keys = await this.db.getAllKeys('files', prefix === '' ? undefined : prefixRange(prefix))
    } catch (err) {
      throw this.platformError(err, `list ${folder}`)
    }
    for (const p of keys) if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split('/')[0]!)
    return [...names].sort()
  }

  // ---- writes (buffered) ------------------------------------------------------------------------

  async write(path: string, data: Uint8Array): Promise<void> {
    const k = key(path)
    return this.serial(k, async () => {
      const st = (await this.state(k, true))!
      const s = this.stamp()
      const size = data.length >= WHOLE_FILE_BLOCK_SIZE ? Math.max(this.blockSize, WHOLE_FILE_BLOCK_SIZE) : this.blockSize
      st.blockSize = size
      st.blocks.clear()
      st.dirty.clear()
      // Every old block goes; the new ones are copies, so the caller may reuse its buffer.
      st.dropFrom = 0
      for (let i = 0; i * size < data.length; i++) {
        st.blocks.set(i, data.slice(i * size, (i + 1) * size))
        st.dirty.set(i, s)
      }
      st.size = data.length
      st.metaStamp = s
      st.keepTail = false
      this.dropBase(st)
      this.buffered(data.length)
    })
  }

  async append(path: string, data: Uint8Array): Promise<number> {
    const k = key(path)
    return this.serial(k, async () => {
      for (;;) {
        const st = (await this.state(k, true))!
        const size = st.blockSize
        const tail = Math.floor(st.size / size)
        if (st.size % size !== 0 && !st.blocks.has(tail)) {
          await this.loadBlock(st, tail)
          continue // the state may have changed meanwhile: look again
        }
        const s = this.stamp()
        let position = st.size
        let done = 0
        while (done < data.length) {
          const i = Math.floor(position / size)
          const at = position % size
          const n = Math.min(size - at, data.length - done)
          let block = st.blocks.get(i)
          if (!block || block.length < at + n) {
            // Tail blocks get their full size at once, so later appends fill them in place.
            const grown = new Uint8Array(size)
            if (block) grown.set(block.subarray(0, at))
            block = grown
            st.blocks.set(i, block)
          }
          block.set(data.subarray(done, done + n), at)
          st.dirty.set(i, s)
          position += n
          done += n
        }
        st.size = position
        st.metaStamp = s
        st.keepTail = true
        this.buffered(data.length)
        return position
      }
    })
  }

  async truncate(path: string, size: number): Promise<void> {
    const k = key(path)
    return this.serial(k, async () => {
      for (;;) {
        const st = await this.state(k, false)
        if (!st) throw new NotFoundError(`no file ${path}`)
        if (size >= st.size) return
        if (this.revertToBase(st, size)) return
        if (size === st.base && this.commitsInFlight > 0) {
          // A failed append taken back while another commit runs (a background write-back, another
          // file's sync): wait for it. If it lands nothing of this file, the database still holds
          // `base` bytes and the revert above leaves nothing to write; if it lands the appended
          // bytes, `base` moves past `size` and the cut below is the right one. Recorded now, the
          // cut would be a rewrite of the tail block, which a full disk refuses (then close fails
          // although every acknowledged write is durable).
          await this.commitChain
          continue
        }
        if (st.base === undefined || size < st.base || this.commitsInFlight > 0) this.dropBase(st)
        const blockSize = st.blockSize
        const count = Math.ceil(size / blockSize)
        const cut = size % blockSize
        if (cut !== 0 && !st.blocks.has(count - 1)) {
          await this.loadBlock(st, count - 1)
          continue
        }
        const s = this.stamp()
        for (const i of [...st.blocks.keys()]) if (i >= count) st.blocks.delete(i)
        for (const i of [...st.dirty.keys()]) if (i >= count) st.dirty.delete(i)
        // Every block at or past a pending drop is dirty (commits run one at a time and clear it), so
        // keeping the smaller index loses nothing.
        st.dropFrom = Math.min(st.dropFrom ?? Infinity, count)
        // The cut block is rewritten shorter, so the database never holds bytes past the end.
        if (cut !== 0) st.dirty.set(count - 1, s)
        st.size = size
        st.metaStamp = s
        this.scheduleWriteBack()
        return
      }
    })
  }

  /**
   * A truncate back to the size the database holds, with only appends since: forget them instead of
   * recording a change (the database already has exactly these bytes). True when done.
   */
  private revertToBase(st: FileState, size: number): boolean {
    const base = st.base
    if (base === undefined || size !== base || this.commitsInFlight > 0) return false
    const blocks = Math.ceil(base / st.blockSize)
    if (st.dropFrom !== undefined && st.dropFrom < blocks) return false
    for (const i of [...st.blocks.keys()]) if (i >= blocks) st.blocks.delete(i)
    st.dirty.clear()
    st.dropFrom = undefined
    st.size = base
    st.metaStamp = 0
    return true
  }

  /** Count buffered bytes and start a background commit when they pile up. */
  private buffered(bytes: number): void {
    this.unsyncedBytes += bytes
    this.scheduleWriteBack()
  }

  private scheduleWriteBack(): void {
    if (this.unsyncedBytes >= WRITE_BACK_BYTES) {
      this.writeBackNow()
      return
    }
    if (this.writeBackTimer !== undefined || this.writeBackDelay <= 0) return
    this.writeBackTimer = setTimeout(() => this.writeBackNow(), this.writeBackDelay)
  }

  /** Commit every unsynced change in the background; a failure stays buffered and resurfaces at the next sync. */
  private writeBackNow(): void {
    clearTimeout(this.writeBackTimer)
    this.writeBackTimer = undefined
    this.unsyncedBytes = 0
    if (this.closedReason !== undefined) return
    this.commit([...this.states.values()]).catch(() => {})
  }

  // ---- commit -----------------------------------------------------------------------------------

  async sync(path: string): Promise<void> {
    const k = key(path)
    this.assertOpen()
    // Changes already called for but waiting on a block load count as earlier: wait for them.
    await this.queues.get(k)
    const st = this.states.get(k)
    if (st) await this.commit([st])
  }

  private commit(states: FileState[]): Promise<void> {
    this.commitsInFlight++
    const run = this.commitChain.then(() => this.commitNow(states)).finally(() => this.commitsInFlight--)
    this.commitChain = run.catch(() => {})
    return run
  }

  /**
   * Write the unsynced changes of `states` in one strict transaction. Everything is captured and
   * every request issued synchronously (IndexedDB clones values at `put`), so changes made while the
   * transaction runs are not half included; they stay dirty for the next commit.
   */
  private commitNow(states: FileState[]): Promise<void> {
    return this.onceMoreAfterQuota(() => this.commitOnce(states))
  }

  /**
   * Run a readwrite transaction, and run it again once when it failed with InvalidStateError on an
   * open connection. Firefox: after a transaction aborted with QuotaExceededError, the connection's
   * next mutation throws InvalidStateError ("a mutation operation was attempted on a database that
   * did not allow mutations") once, then works again, so the first write after a full origin was
   * made room for failed with an untyped error. Nothing of the failed attempt landed (`run` aborts
   * its transaction on any failure), so running it again is safe; a connection that really closed
   * has `closedReason` set and is not retried.
   */
  private async onceMoreAfterQuota<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (err) {
      const cause = (err as { cause?: { name?: string } }).cause
      if (this.closedReason !== undefined || cause?.name !== 'InvalidStateError') throw err
      return run()
    }
  }

  private async commitOnce(states: FileState[]): Promise<void> {
    const work = states.filter((st) => !st.removed && hasLocalChanges(st))
    if (work.length === 0) return
    this.assertOpen()
    let tx: IDBPTransaction<VaultDbSchema, ('files' | 'blocks')[], 'readwrite'> | undefined
    const snapshots: { st: FileState; dirty: Map<number, number>; drop: number | undefined; metaStamp: number; version: number; size: number; epoch: number }[] = []
    const requests: Promise<unknown>[] = []
    try {
      tx = this.db.transaction(['files', 'blocks'], 'readwrite', { durability: 'strict' })
      const files = tx.objectStore('files')
      const blocks = tx.objectStore('blocks')
      requests.push(tx.done)
      for (const st of work) {
        // Any distinct number will do: readers only compare versions for equality.
        const snapshot = { st, dirty: new Map(st.dirty), drop: st.dropFrom, metaStamp: st.metaStamp, version: Math.floor(Math.random() * 2 ** 52), size: st.size, epoch: st.epoch }
        snapshots.push(snapshot)
        if (snapshot.drop !== undefined) {
          requests.push(blocks.delete(IDBKeyRange.bound([st.path, snapshot.drop], [st.path, Infinity])))
          st.dropFrom = undefined
        }
        for (const i of snapshot.dirty.keys()) requests.push(blocks.put(exactBlock(st.blocks.get(i)!, blockLength(st, i)), [st.path, i]))
        requests.push(files.put({ size: st.size, blockSize: st.blockSize, version: snapshot.version }, st.path))
      }
      await Promise.all(requests)
    } catch (err) {
      // A request that threw while the transaction was being filled (Firefox's InvalidStateError
      // above) leaves the transaction active with the requests issued before it: committed, they
      // would land a block delete without the blocks and size that go with it (a torn file). Abort
      // it so that nothing of a failed commit lands.
      abortQuietly(tx)
      // Nothing landed: the drops are pending again (the dirty blocks never stopped being dirty).
      for (const { st, drop } of snapshots) if (drop !== undefined) st.dropFrom = Math.min(st.dropFrom ?? Infinity, drop)
      await Promise.allSettled(requests)
      throw this.platformError(err, `sync ${work.map((st) => st.path).join(', ')}`)
    }
    for (const { st, dirty, metaStamp, version, size, epoch } of snapshots) {
      st.version = version
      // The database now holds `size` bytes; changes made since are appends unless base was dropped.
      if (st.epoch === epoch) st.base = size
      const tail = Math.ceil(st.size / st.blockSize) - 1
      for (const [i, s] of dirty) {
        if (st.dirty.get(i) !== s) continue
        st.dirty.delete(i)
        // Keep the tail of an appended file (the next append needs it); the rest is in the database.
        if (!(st.keepTail && i === tail)) st.blocks.delete(i)
      }
      if (st.metaStamp === metaStamp) st.metaStamp = 0
    }
  }

  // ---- remove and close -------------------------------------------------------------------------

  async remove(path: string): Promise<void> {
    const k = key(path)
    this.assertOpen()
    this.removals++
    const inside = (p: string) => k === '' || p === k || p.startsWith(k + '/')
    for (const [p, st] of [...this.states]) {
      if (!inside(p)) continue
      st.removed = true
      this.states.delete(p)
    }
    // Commits already issued are ordered before this transaction, so the delete wins over them.
    return this.onceMoreAfterQuota(() => this.removeOnce(k, path))
  }

  /** One transaction deleting `k` and everything under it: all of it lands or nothing. */
  private async removeOnce(k: string, path: string): Promise<void> {
    let tx: IDBPTransaction<VaultDbSchema, ('files' | 'blocks')[], 'readwrite'> | undefined
    const requests: Promise<unknown>[] = []
    try {
      tx = this.db.transaction(['files', 'blocks'], 'readwrite', { durability: 'strict' })
      const files = tx.objectStore('files')
      const blocks = tx.objectStore('blocks')
      requests.push(tx.done)
      if (k === '') requests.push(files.clear(), blocks.clear())
      else {
        const folder = k + '/'
        requests.push(
          files.delete(k),
          files.delete(prefixRange(folder)),
          blocks.delete(IDBKeyRange.bound([k, 0], [k, Infinity])),
          // Arrays compare element by element and a shorter prefix sorts first: [folder] ≤ [folder…, n] < [folderEnd].
          blocks.delete(IDBKeyRange.bound([folder], [prefixEnd(folder)], false, true)),
        )
      }
      await Promise.all(requests)
    } catch (err) {
      // A delete that threw while the transaction was being filled: the ones before it must not land alone.
      abortQuietly(tx)
      await Promise.allSettled(requests)
      throw this.platformError(err, `remove ${path}`)
    }
  }

  async close(): Promise<void> {
    if (this.closedReason !== undefined) return
    clearTimeout(this.writeBackTimer)
    this.writeBackTimer = undefined
    // Not required by the contract, but a closed file keeps what was written to it on every platform.
    await Promise.allSettled([...this.queues.values()])
    let failure: unknown
    try {
      await this.commit([...this.states.values()])
    } catch (err) {
      failure = err
    }
    this.closedReason = 'close() was called'
    this.db.close()
    if (failure !== undefined) throw failure
  }

  private platformError(err: unknown, context: string): Error {
    if (this.closedReason !== undefined && (err as { name?: string })?.name === 'InvalidStateError') {
      return new ClosedError(`${context}: the IndexedDB adapter is closed: ${this.closedReason}`, { cause: err })
    }
    return fromPlatformError(err, context)
  }
}

/** Abort a transaction that may already have ended (abort then throws InvalidStateError). */
function abortQuietly(tx: { abort(): void } | undefined): void {
  try {
    tx?.abort()
  } catch {
    // already aborted or committed
  }
}

function key(path: string): string {
  return pathSegments(path).join('/')
}

function hasLocalChanges(st: FileState): boolean {
  return st.metaStamp !== 0 || st.dirty.size > 0 || st.dropFrom !== undefined
}

/** Bytes of block `index` that lie inside the file. */
function blockLength(st: FileState, index: number): number {
  return Math.min(st.blockSize, st.size - index * st.blockSize)
}

/** The block as a value of exactly `length` bytes: structured clone copies a view's whole buffer. */
function exactBlock(block: Uint8Array, length: number): Uint8Array {
  if (block.length === length && block.byteOffset === 0 && block.byteLength === block.buffer.byteLength) return block
  return block.slice(0, length)
}

/** Copy the part of a block starting at file offset `blockStart` that falls in `[offset, end)`. */
function copyBlock(block: Uint8Array, blockStart: number, offset: number, end: number, out: Uint8Array): void {
  const from = Math.max(offset, blockStart)
  const to = Math.min(end, blockStart + block.length)
  if (to > from) out.set(block.subarray(from - blockStart, to - blockStart), from - offset)
}

/** The first string after every string that starts with `prefix` (its last code unit plus one). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
}

/** Every key that starts with `prefix` (which ends with `/`, so the bump never overflows). */
function prefixRange(prefix: string): IDBKeyRange {
  return IDBKeyRange.bound(prefix, prefixEnd(prefix), false, true)
}
