import * as fs from 'node:fs'
import * as nodePath from 'node:path'
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors/errors.js'
import { fromPlatformError } from '../errors/platform-error.js'
import { pathSegments, type StorageAdapter } from './storage-adapter.js'

interface OpenFile {
  fd: number
  size: number
  /** Identity of the file the descriptor was opened on: the path must still name it. */
  dev: number
  ino: number
  /** The file was created by this adapter and its folder entry is not yet synced. */
  newEntry: boolean
  /** Written whole by `write`: the descriptor is closed by the `sync` that follows. */
  whole: boolean
}

/**
 * Files in a folder on disk (Node only). Uses synchronous `fs` calls: a log append plus `fdatasync`
 * costs ~0.3 ms here, and the thread-pool hop of `fs.promises` would add more than the call itself.
 * A newly created file's folder is fsynced on its first `sync`, since a file whose directory entry
 * was never flushed can vanish after power loss (see fsync(2)).
 *
 * Descriptors: only files being written stay open (an appended log until {@link release} or
 * {@link close}; a file written whole until its `sync`); reads of other files open and close a
 * descriptor per call. Every use of a kept descriptor first checks (one `stat`, ~2 µs) that its
 * path still names the same file: another process may have deleted the folder or put other files
 * there (a restored backup). A read then opens the file that is there now; a call that continues
 * earlier writes (`append`, `truncate`, `sync`) rejects with ConflictError, since those writes went
 * to a file that is no longer the one at that path.
 */
export class NodeFsAdapter implements StorageAdapter {
  readonly kind = 'fs'
  private readonly open = new Map<string, OpenFile>()
  private readonly dirtyFolders = new Set<string>()

  /** @param root the folder every path is relative to; created when missing. */
  constructor(
    /** The folder every path is relative to. */
    readonly root: string,
  ) {
    if (root.includes('\0')) throw new InvalidArgumentError(`path ${JSON.stringify(root)} contains a NUL character`)
  }

  private abs(path: string): string {
    return nodePath.join(this.root, ...pathSegments(path))
  }

  /**
   * The kept descriptor of `p`, if it still names the file at `p`. A stale one is closed and
   * forgotten; with `continuing` (the caller continues earlier writes to it) that is a ConflictError.
   */
  private kept(p: string, path: string, continuing: boolean): OpenFile | undefined {
    const f = this.open.get(p)
    if (!f) return undefined
    const now = fs.statSync(p, { throwIfNoEntry: false })
    if (now && now.ino === f.ino && now.dev === f.dev) return f
    this.closeFile(p)
    if (continuing) {
      throw new ConflictError(
        `${path} was ${now ? 'replaced' : 'deleted'} by another program while this vault had it open; ` +
          `writes since the last sync are lost. Reopen the vault.`,
      )
    }
    return undefined
  }

  /** Open `p` for writing and keep its descriptor. */
  private openForWrite(p: string, path: string, whole: boolean): OpenFile {
    let fd: number
    let newEntry = false
    try {
      try {
        fd = fs.openSync(p, 'r+')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
        this.ensureFolder(nodePath.dirname(p))
        fd = fs.openSync(p, 'w+')
        newEntry = true
      }
    } catch (err) {
      throw storageError(err, `open ${path}`, this.root)
    }
    const st = fs.fstatSync(fd)
    const f: OpenFile = { fd, size: st.size, dev: st.dev, ino: st.ino, newEntry, whole }
    this.open.set(p, f)
    return f
  }

  private ensureFolder(dir: string): void {
    if (fs.existsSync(dir)) return
    this.ensureFolder(nodePath.dirname(dir))
    fs.mkdirSync(dir)
    this.dirtyFolders.add(nodePath.dirname(dir))
  }

  private closeFile(p: string): void {
    const f = this.open.get(p)
    if (!f) return
    this.open.delete(p)
    // Its folder entry still needs a sync: the next sync of any file does it.
    if (f.newEntry) this.dirtyFolders.add(nodePath.dirname(p))
    try {
      fs.closeSync(f.fd)
    } catch {}
  }

  /** Run `fn` on a descriptor of `p`: the kept one, or one opened for reading and closed after. */
  private withReadFd<T>(p: string, path: string, fn: (fd: number, size: number) => T): T | undefined {
    const f = this.kept(p, path, false)
    if (f) return fn(f.fd, f.size)
    let fd: number
    try {
      fd = fs.openSync(p, 'r')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
      throw storageError(err, `open ${path}`, this.root)
    }
    try {
      return fn(fd, fs.fstatSync(fd).size)
    } finally {
      fs.closeSync(fd)
    }
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    return this.withReadFd(this.abs(path), path, (fd, size) => {
      const out = new Uint8Array(size)
      return out.subarray(0, readFully(fd, out, 0))
    })
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const out = this.withReadFd(this.abs(path), path, (fd, size) => {
      const bytes = new Uint8Array(Math.max(0, Math.min(length, size - offset)))
      return bytes.subarray(0, readFully(fd, bytes, offset))
    })
    if (!out) throw new NotFoundError(`no file ${path}`)
    return out
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    const p = this.abs(path)
    try {
      const f = this.kept(p, path, false) ?? this.openForWrite(p, path, true)
      fs.ftruncateSync(f.fd, 0)
      f.size = 0
      writeFully(f.fd, data, 0)
      f.size = data.length
    } catch (err) {
      throw storageError(err, `write ${path}`, this.root)
    }
  }

  async append(path: string, data: Uint8Array): Promise<number> {
    const p = this.abs(path)
    const f = this.kept(p, path, true) ?? this.openForWrite(p, path, false)
    f.whole = false
    try {
      writeFully(f.fd, data, f.size)
    } catch (err) {
      // A partial append (disk full) must not leave bytes the caller thinks were never written.
      try {
        fs.ftruncateSync(f.fd, f.size)
      } catch {}
      throw storageError(err, `append ${path}`, this.root)
    }
    f.size += data.length
    return f.size
  }

  async truncate(path: string, size: number): Promise<void> {
    const p = this.abs(path)
    const f = this.kept(p, path, true) ?? (fs.existsSync(p) ? this.openForWrite(p, path, false) : undefined)
    if (!f) throw new NotFoundError(`no file ${path}`)
    f.size = fs.fstatSync(f.fd).size
    if (size < f.size) {
      try {
        fs.ftruncateSync(f.fd, size)
      } catch (err) {
        throw storageError(err, `truncate ${path}`, this.root)
      }
      f.size = size
    }
  }

  async size(path: string): Promise<number | undefined> {
    const p = this.abs(path)
    // Another process may have appended: ask the file, not the cache.
    const f = this.kept(p, path, false)
    if (f) return (f.size = fs.fstatSync(f.fd).size)
    try {
      return fs.statSync(p, { throwIfNoEntry: false })?.size
    } catch (err) {
      // A file where a folder of the path should be (a vault name that is a file): no such file, as
      // read and list say; it was an untyped ENOTDIR Error (exportVault, openVault of that name).
      if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined
      throw storageError(err, `stat ${path}`, this.root)
    }
  }

  async sync(path: string): Promise<void> {
    const p = this.abs(path)
    let f = this.kept(p, path, true)
    let temporary = false
    if (!f) {
      // Released since it was written (fsync on any descriptor flushes the file's data).
      if (!fs.existsSync(p)) return
      f = this.openForWrite(p, path, true)
      temporary = true
    }
    try {
      fs.fdatasyncSync(f.fd)
      // The file may have been unlinked or replaced while the data was flushed: then it is not durable.
      this.kept(p, path, true)
      if (f.newEntry) {
        syncFolder(nodePath.dirname(p))
        f.newEntry = false
      }
      for (const dir of this.dirtyFolders) syncFolder(dir)
      this.dirtyFolders.clear()
    } catch (err) {
      throw storageError(err, `sync ${path}`, this.root)
    } finally {
      if ((f.whole || temporary) && this.open.get(p) === f) this.closeFile(p)
    }
  }

  async remove(path: string): Promise<void> {
    const p = this.abs(path)
    for (const open of [...this.open.keys()]) {
      if (open === p || open.startsWith(p + nodePath.sep)) this.closeFile(open)
    }
    try {
      fs.rmSync(p, { recursive: true, force: true })
    } catch (err) {
      throw storageError(err, `remove ${path}`, this.root)
    }
    try {
      syncFolder(nodePath.dirname(p))
    } catch {}
  }

  async list(folder: string): Promise<string[]> {
    const dir = this.abs(folder)
    try {
      // Folders exist only while they hold files (the contract); remove() leaves emptied parents
      // behind, since deleting them could race with another process creating a file in them.
      return fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((entry) => !entry.isDirectory() || holdsFile(nodePath.join(dir, entry.name)))
        .map((entry) => entry.name)
        .sort()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return []
      throw storageError(err, `list ${folder}`, this.root)
    }
  }

  /** Close the descriptors kept for files under `folder` (a vault that closed, or failed to open). */
  async release(folder: string): Promise<void> {
    const p = this.abs(folder)
    for (const open of [...this.open.keys()]) {
      if (open === p || open.startsWith(p + nodePath.sep)) this.closeFile(open)
    }
  }

  /** Descriptors this adapter keeps open (for tests of resource hygiene). */
  get openFiles(): number {
    return this.open.size
  }

  async close(): Promise<void> {
    for (const p of [...this.open.keys()]) this.closeFile(p)
  }
}

/** A platform error as a VaultError; a folder we may not write to is InvalidArgumentError, naming it. */
export function storageError(err: unknown, context: string, root: string): Error {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new InvalidArgumentError(
      `${context}: permission denied (${code}) under ${root}; give a writable path, or open the vault with { readOnly: true }`,
      { cause: err },
    )
  }
  return fromPlatformError(err, context)
}

function holdsFile(dir: string): boolean {
  return fs.readdirSync(dir, { withFileTypes: true }).some((entry) => !entry.isDirectory() || holdsFile(nodePath.join(dir, entry.name)))
}

/** Reads until `out` is full or the file ends; returns the bytes read. */
function readFully(fd: number, out: Uint8Array, position: number): number {
  let done = 0
  while (done < out.length) {
    const n = fs.readSync(fd, out, done, out.length - done, position + done)
    if (n === 0) break
    done += n
  }
  return done
}

function writeFully(fd: number, data: Uint8Array, position: number): void {
  let done = 0
  while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, position + done)
}

/** fsync a folder: makes the creation, removal or rename of its entries durable. */
export function syncFolder(dir: string): void {
  const fd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}
