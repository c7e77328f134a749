import { ClosedError, InvalidArgumentError, NotFoundError, QuotaExceededError, UnsupportedError } from '../errors/errors.js'
import { fromPlatformError } from '../errors/platform-error.js'
import { concatBytes } from '../codec/bytes.js'
import { pathSegments, type StorageAdapter } from './storage-adapter.js'

/** One open file: its exclusive sync access handle and what we know about it. */
interface OpenFile {
  readonly path: string
  readonly handle: FileSystemSyncAccessHandle
  /**
   * Cached size, buffered appends included: the handle is exclusive, so nobody else can change the
   * file while we hold it.
   */
  size: number
  /** Bytes on the handle: `size` minus the buffered appends in {@link pending}. */
  written: number
  /** Appends not yet written to the handle (see {@link OpfsAdapter.append}), in order. */
  pending: Uint8Array[]
  /** Written since the last flush: flush before an eviction closes the handle. */
  dirty: boolean
  /** Set when the handle was closed (eviction, remove); an operation that raced it reopens. */
  closed: boolean
}

/**
 * The async iteration of directory handles lives in TypeScript's `DOM.AsyncIterable` lib, which the
 * project does not load (it clashes with `WebWorker`); this is the one method we use from it.
 */
interface IterableDirectory {
  entries(): AsyncIterableIterator<[string, FileSystemHandle]>
}

/**
 * Open handles kept at most. Every handle holds an exclusive lock and a platform file descriptor;
 * a blob-heavy vault touches thousands of files, so the least recently used ones are closed.
 */
const MAX_OPEN_HANDLES = 128

/**
 * Buffered appends of one file are written to its handle once they pass this many bytes (and at
 * every sync, read, truncate, write and close). Larger appends go to the handle at once.
 */
const APPEND_BUFFER_BYTES = 64 * 1024

/**
 * Files in the origin private file system (OPFS), through synchronous access handles. Only usable
 * inside a dedicated Worker: sync access handles exist nowhere else (see {@link isSupported}).
 *
 * Each file gets one `FileSystemSyncAccessHandle`, opened on first use and cached, so an append or
 * a ranged read is one synchronous call with no directory lookups; `sync` is `handle.flush()`.
 * Small appends are kept in memory until the next sync (or read, or 64 KiB of them): a handle write
 * costs ~0.08 ms in Firefox, most of a relaxed commit, and a relaxed commit promises only that the
 * record is appended, not that it is on disk. A failed write of buffered appends keeps them
 * buffered (nothing acknowledged is dropped) and rejects the call that tried; the next sync retries.
 * The handle is exclusive: while this adapter holds it, another tab or worker that opens the same file
 * gets a {@link ConflictError} (the platform's NoModificationAllowedError). A vault therefore needs
 * one leader per origin (Web Locks), which the engine provides.
 */
export class OpfsAdapter implements StorageAdapter {
  readonly kind = 'opfs'
  /** Open files by normalised path, in least-recently-used order (Map keeps insertion order). */
  private readonly files = new Map<string, OpenFile>()
  /** Opens in flight, so concurrent first calls on a file share one handle instead of fighting for it. */
  private readonly opening = new Map<string, { create: boolean; promise: Promise<OpenFile | undefined> }>()
  private isClosed = false

  private constructor(private readonly root: FileSystemDirectoryHandle) {}

  /**
   * True when this global scope can run the adapter: a dedicated worker whose file handles have
   * `createSyncAccessHandle` (missing in windows, shared workers, and browsers without OPFS).
   */
  static isSupported(): boolean {
    const g = globalThis as {
      DedicatedWorkerGlobalScope?: abstract new () => unknown
      FileSystemFileHandle?: { prototype: object }
      navigator?: { storage?: { getDirectory?: unknown } }
    }
    return (
      typeof g.DedicatedWorkerGlobalScope === 'function' &&
      globalThis instanceof g.DedicatedWorkerGlobalScope &&
      g.FileSystemFileHandle !== undefined &&
      'createSyncAccessHandle' in g.FileSystemFileHandle.prototype &&
      typeof g.navigator?.storage?.getDirectory === 'function'
    )
  }

  /**
   * Open (creating when missing) the folder `rootName` at the top of the origin's private file system;
   * every path is relative to it. Rejects with UnsupportedError outside a dedicated worker.
   * `asked`: that same folder, asked for already (the worker asks as it starts, before it knows
   * which vault: src/worker/worker-boot.ts); when it failed, the folder is asked for again here.
   */
  static async open(rootName: string, asked?: Promise<FileSystemDirectoryHandle>): Promise<OpfsAdapter> {
    if (!OpfsAdapter.isSupported()) throw new UnsupportedError('OPFS sync access handles need a dedicated worker in a browser that has them')
    const early = asked ? await asked.catch(() => undefined) : undefined
    if (early) return new OpfsAdapter(early)
    const segments = pathSegments(rootName)
    try {
      let dir = await navigator.storage.getDirectory()
      for (const name of segments) dir = await dir.getDirectoryHandle(name, { create: true })
      return new OpfsAdapter(dir)
    } catch (err) {
      throw fromPlatformError(err, `open OPFS folder ${rootName}`)
    }
  }

  /**
   * The open file at `key`, opening it when needed. Callers use the result before their next
   * `await`, so an eviction or remove cannot close it under them; the `closed` re-check covers the
   * one window where that can happen (between an open resolving and its awaiting caller resuming).
   */
  private async file(key: string, create: boolean): Promise<OpenFile | undefined> {
    if (key === '') throw new InvalidArgumentError('the storage root is a folder, not a file')
    for (;;) {
      this.assertOpen()
      const cached = this.files.get(key)
      if (cached) {
        // Move to the most recently used end.
        this.files.delete(key)
        this.files.set(key, cached)
        return cached
      }
      let pending = this.opening.get(key)
      if (!pending) {
        const promise = this.openFile(key, create)
        const entry = { create, promise }
        this.opening.set(key, entry)
        void promise.finally(() => {
          if (this.opening.get(key) === entry) this.opening.delete(key)
        }).catch(() => {})
        pending = entry
      }
      const f = await pending.promise
      if (!f) {
        // A shared open that did not create found nothing; a creating caller then opens its own
        // (its cleanup reaction ran before this one, so the map no longer holds it).
        if (create && !pending.create) continue
        return undefined
      }
      if (!f.closed) return f
    }
  }

  private async openFile(key: string, create: boolean): Promise<OpenFile | undefined> {
    const segments = pathSegments(key)
    try {
      const dir = await this.folder(segments.slice(0, -1), create)
      if (!dir) return undefined
      const fileHandle = await dir.getFileHandle(segments[segments.length - 1]!, { create })
      const handle = await fileHandle.createSyncAccessHandle()
      const size = handle.getSize()
      const f: OpenFile = { path: key, handle, size, written: size, pending: [], dirty: false, closed: false }
      this.files.set(key, f)
      this.evictIfNeeded()
      return f
    } catch (err) {
      // A creating open that finds a folder in the way is an error, not an absent file.
      if (!create && isMissing(err)) return undefined
      throw fromPlatformError(err, `open ${key}`)
    }
  }

  /** Walk (and optionally create) a folder; `undefined` when it does not exist. */
  private async folder(segments: string[], create: boolean): Promise<FileSystemDirectoryHandle | undefined> {
    let dir = this.root
    for (const name of segments) {
      try {
        dir = await dir.getDirectoryHandle(name, { create })
      } catch (err) {
        if (isMissing(err)) return undefined
        throw err
      }
    }
    return dir
  }

  private evictIfNeeded(): void {
    for (const [key, f] of this.files) {
      if (this.files.size <= MAX_OPEN_HANDLES) break
      // A file with buffered appends stays open: closing it would have to write them, and a failure
      // there would surface in an unrelated call.
      if (f.pending.length > 0) continue
      this.closeFile(key, f, true)
    }
  }

  /**
   * Close a file's handle. `flush`: write its buffered appends and flush first (an eviction or the
   * adapter's close); without it (a remove) they are dropped with the file.
   */
  private closeFile(key: string, f: OpenFile, flush: boolean): void {
    try {
      // Closing does not promise durability, and a caller may already rely on an earlier write
      // reaching the disk by the next sync of this path, which will find no handle to flush.
      if (flush) {
        writePending(f)
        if (f.dirty) f.handle.flush()
      }
    } finally {
      this.files.delete(key)
      f.closed = true
      f.handle.close()
    }
  }

  private assertOpen(): void {
    if (this.isClosed) throw new ClosedError('the OPFS adapter was closed')
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    const f = await this.file(key(path), false)
    if (!f) return undefined
    this.writePendingOf(f)
    const out = new Uint8Array(f.size)
    readFully(f, out, 0)
    return out
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const f = await this.file(key(path), false)
    if (!f) throw new NotFoundError(`no file ${path}`)
    this.writePendingOf(f)
    const out = new Uint8Array(Math.max(0, Math.min(length, f.size - offset)))
    readFully(f, out, offset)
    return out
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    const f = (await this.file(key(path), true))!
    // The whole file is replaced: buffered appends are part of what goes.
    f.pending = []
    f.size = f.written
    try {
      f.dirty = true
      // Write first and cut after, so the file is never seen empty in between.
      writeFully(f, data, 0)
      f.handle.truncate(data.length)
      checkSize(f, data.length)
      f.size = f.written = data.length
    } catch (err) {
      try {
        f.size = f.written = f.handle.getSize()
      } catch {}
      throw fromPlatformError(err, `write ${path}`)
    }
  }

  /**
   * Appends are buffered (copied) until the next sync, read, truncate or write of the file, or until
   * {@link APPEND_BUFFER_BYTES} of them pile up; the returned size counts them.
   */
  async append(path: string, data: Uint8Array): Promise<number> {
    const f = (await this.file(key(path), true))!
    if (data.length === 0) return f.size
    if (f.pending.length === 0 && data.length >= APPEND_BUFFER_BYTES) {
      // Large: straight to the handle, without a copy.
      try {
        writeAtEnd(f, data)
      } catch (err) {
        throw fromPlatformError(err, `append ${path}`)
      }
      f.size = f.written
      return f.size
    }
    f.pending.push(data.slice())
    f.size += data.length
    if (f.size - f.written >= APPEND_BUFFER_BYTES) {
      try {
        writePending(f)
      } catch (err) {
        // This append is taken back (its caller sees the failure); earlier ones stay buffered.
        f.pending.pop()
        f.size -= data.length
        throw fromPlatformError(err, `append ${path}`)
      }
    }
    return f.size
  }

  async truncate(path: string, size: number): Promise<void> {
    const f = await this.file(key(path), false)
    if (!f) throw new NotFoundError(`no file ${path}`)
    if (size >= f.size) return
    if (size >= f.written) {
      // Only buffered bytes go: cut the buffer, the handle is untouched.
      f.pending = size > f.written ? [concatBytes(f.pending).subarray(0, size - f.written)] : []
      f.size = size
      return
    }
    try {
      f.pending = []
      f.size = f.written
      f.dirty = true
      f.handle.truncate(size)
      f.size = f.written = size
    } catch (err) {
      throw fromPlatformError(err, `truncate ${path}`)
    }
  }

  /** Write the buffered appends of `f` to its handle (see {@link writePending}), naming the file on failure. */
  private writePendingOf(f: OpenFile): void {
    try {
      writePending(f)
    } catch (err) {
      throw fromPlatformError(err, `write buffered appends of ${f.path}`)
    }
  }

  async size(path: string): Promise<number | undefined> {
    const k = key(path)
    this.assertOpen()
    const cached = this.files.get(k)
    if (cached) return cached.size
    // Not open: ask the directory, which takes no lock (opening a handle just to stat would).
    const segments = pathSegments(k)
    try {
      const dir = await this.folder(segments.slice(0, -1), false)
      if (!dir || segments.length === 0) return undefined
      const fileHandle = await dir.getFileHandle(segments[segments.length - 1]!)
      return (await fileHandle.getFile()).size
    } catch (err) {
      if (isMissing(err)) return undefined
      throw fromPlatformError(err, `size ${path}`)
    }
  }

  async sync(path: string): Promise<void> {
    this.assertOpen()
    const f = this.files.get(key(path))
    // No open handle: every change we made went through a handle that was flushed when it closed.
    if (!f || (!f.dirty && f.pending.length === 0)) return
    try {
      writePending(f)
      f.handle.flush()
      f.dirty = false
    } catch (err) {
      throw fromPlatformError(err, `sync ${path}`)
    }
  }

  async remove(path: string): Promise<void> {
    const k = key(path)
    this.assertOpen()
    const inside = (p: string) => k === '' || p === k || p.startsWith(k + '/')
    // Handles hold locks that make removeEntry fail: wait for opens in flight, then close them all.
    await Promise.allSettled([...this.opening].filter(([p]) => inside(p)).map(([, pending]) => pending.promise))
    for (const [p, f] of [...this.files]) if (inside(p)) this.closeFile(p, f, false)
    const segments = pathSegments(k)
    try {
      if (segments.length === 0) {
        const names: string[] = []
        for await (const [name] of (this.root as unknown as IterableDirectory).entries()) names.push(name)
        for (const name of names) await this.root.removeEntry(name, { recursive: true })
        return
      }
      const dir = await this.folder(segments.slice(0, -1), false)
      if (dir) await dir.removeEntry(segments[segments.length - 1]!, { recursive: true })
    } catch (err) {
      if (isMissing(err)) return
      throw fromPlatformError(err, `remove ${path}`)
    }
  }

  async list(folder: string): Promise<string[]> {
    this.assertOpen()
    const dir = await this.folder(pathSegments(folder), false).catch((err: unknown) => {
      // A path through a file names no folder.
      if (isWrongType(err)) return undefined
      throw fromPlatformError(err, `list ${folder}`)
    })
    if (!dir) return []
    const names: string[] = []
    for await (const [name, handle] of (dir as unknown as IterableDirectory).entries()) {
      // Folders exist only while they hold files (the contract): a folder emptied by remove() is
      // left behind by OPFS, and pruning it would race with a concurrent create in it.
      if (handle.kind === 'file' || (await holdsFile(handle as FileSystemDirectoryHandle))) names.push(name)
    }
    return names.sort()
  }

  async close(): Promise<void> {
    if (this.isClosed) return
    await Promise.allSettled([...this.opening.values()].map((pending) => pending.promise))
    this.isClosed = true
    let first: unknown
    for (const [p, f] of [...this.files]) {
      try {
        this.closeFile(p, f, true)
      } catch (err) {
        first ??= err
      }
    }
    if (first !== undefined) throw fromPlatformError(first, 'close OPFS adapter')
  }
}

function key(path: string): string {
  return pathSegments(path).join('/')
}

/** NotFoundError: no such entry. TypeMismatchError: a file where a folder was expected, or back. */
function isMissing(err: unknown): boolean {
  const name = (err as { name?: string })?.name
  return name === 'NotFoundError' || name === 'TypeMismatchError'
}

function isWrongType(err: unknown): boolean {
  return (err as { name?: string })?.name === 'TypeMismatchError'
}

async function holdsFile(dir: FileSystemDirectoryHandle): Promise<boolean> {
  for await (const [, handle] of (dir as unknown as IterableDirectory).entries()) {
    if (handle.kind === 'file' || (await holdsFile(handle as FileSystemDirectoryHandle))) return true
  }
  return false
}

/**
 * Write the buffered appends of `f` to its handle in one write. On failure the handle is cut back
 * and they stay buffered: they were acknowledged to the caller of append, and a later sync retries.
 */
function writePending(f: OpenFile): void {
  if (f.pending.length === 0) return
  writeAtEnd(f, concatBytes(f.pending))
  f.pending = []
}

/**
 * Write `data` after what the handle holds. A partial write (quota) is cut back off, so the file
 * never keeps bytes its caller was told were not written.
 */
function writeAtEnd(f: OpenFile, data: Uint8Array): void {
  try {
    f.dirty = true
    writeFully(f, data, f.written)
    checkSize(f, f.written + data.length)
  } catch (err) {
    try {
      f.handle.truncate(f.written)
    } catch {}
    throw err
  }
  f.written += data.length
}

function readFully(f: OpenFile, out: Uint8Array, at: number): void {
  let done = 0
  while (done < out.length) {
    const n = f.handle.read(out.subarray(done), { at: at + done })
    if (n === 0) break
    done += n
  }
}

/**
 * Write all of `data` at `at`. The platform writes everything or throws; any other count is a
 * failure: a short write means the disk is full, and Chromium's in-memory OPFS (incognito windows)
 * returns a bogus huge count (4294967288) past the quota instead of throwing, having written nothing.
 */
function writeFully(f: OpenFile, data: Uint8Array, at: number): void {
  if (data.length === 0) return
  const n = f.handle.write(data, { at })
  if (n !== data.length) {
    throw new QuotaExceededError(`the storage quota is exhausted: writing ${data.length} bytes to ${f.path} wrote ${n > data.length ? 'an impossible count' : n} (OPFS)`)
  }
}

/** The file must now be `expected` bytes long; else the write did not land (see {@link writeFully}). */
function checkSize(f: OpenFile, expected: number): void {
  const actual = f.handle.getSize()
  if (actual !== expected) throw new QuotaExceededError(`the storage quota is exhausted: ${f.path} is ${actual} bytes after a write, not ${expected} (OPFS)`)
}
