import * as fs from 'node:fs'
import * as nodePath from 'node:path'
import { NotFoundError, fromPlatformError } from '../errors/errors.js'
import { pathSegments, type StorageAdapter } from './storage-adapter.js'

interface OpenFile {
  fd: number
  size: number
  /** The file was created by this adapter and its folder entry is not yet synced. */
  newEntry: boolean
}

/**
 * Files in a folder on disk (Node only). Uses synchronous `fs` calls on cached descriptors: a log
 * append plus `fdatasync` costs ~0.3 ms here, and the thread-pool hop of `fs.promises` would add
 * more than the call itself. A newly created file's folder is fsynced on its first `sync`, since a
 * file whose directory entry was never flushed can vanish after power loss (see fsync(2)).
 */
export class NodeFsAdapter implements StorageAdapter {
  readonly kind = 'fs'
  private readonly open = new Map<string, OpenFile>()
  private readonly dirtyFolders = new Set<string>()

  /** @param root the folder every path is relative to; created when missing. */
  constructor(readonly root: string) {}

  private abs(path: string): string {
    return nodePath.join(this.root, ...pathSegments(path))
  }

  private handle(path: string, create: boolean): OpenFile | undefined {
    const p = this.abs(path)
    let f = this.open.get(p)
    if (f) return f
    let fd: number
    let newEntry = false
    try {
      fd = fs.openSync(p, 'r+')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromPlatformError(err, `open ${path}`)
      if (!create) return undefined
      this.ensureFolder(nodePath.dirname(p))
      fd = fs.openSync(p, 'w+')
      newEntry = true
    }
    f = { fd, size: fs.fstatSync(fd).size, newEntry }
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
    if (f) {
      fs.closeSync(f.fd)
      this.open.delete(p)
    }
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    const f = this.handle(path, false)
    if (!f) return undefined
    const out = new Uint8Array(f.size)
    readFully(f.fd, out, 0)
    return out
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const f = this.handle(path, false)
    if (!f) throw new NotFoundError(`no file ${path}`)
    const n = Math.max(0, Math.min(length, f.size - offset))
    const out = new Uint8Array(n)
    readFully(f.fd, out, offset)
    return out
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    try {
      const f = this.handle(path, true)!
      fs.ftruncateSync(f.fd, 0)
      writeFully(f.fd, data, 0)
      f.size = data.length
    } catch (err) {
      throw fromPlatformError(err, `write ${path}`)
    }
  }

  async append(path: string, data: Uint8Array): Promise<number> {
    const f = this.handle(path, true)!
    try {
      writeFully(f.fd, data, f.size)
    } catch (err) {
      // A partial append (disk full) must not leave bytes the caller thinks were never written.
      try {
        fs.ftruncateSync(f.fd, f.size)
      } catch {}
      throw fromPlatformError(err, `append ${path}`)
    }
    f.size += data.length
    return f.size
  }

  async truncate(path: string, size: number): Promise<void> {
    const f = this.handle(path, false)
    if (!f) throw new NotFoundError(`no file ${path}`)
    if (size < f.size) {
      fs.ftruncateSync(f.fd, size)
      f.size = size
    }
  }

  async size(path: string): Promise<number | undefined> {
    const p = this.abs(path)
    const f = this.open.get(p)
    if (f) {
      // Another process may have appended: ask the file, not the cache.
      f.size = fs.fstatSync(f.fd).size
      return f.size
    }
    try {
      return fs.statSync(p).size
    } catch {
      return undefined
    }
  }

  async sync(path: string): Promise<void> {
    const p = this.abs(path)
    const f = this.open.get(p)
    if (!f) return
    try {
      fs.fdatasyncSync(f.fd)
      if (f.newEntry) {
        syncFolder(nodePath.dirname(p))
        f.newEntry = false
      }
      for (const dir of this.dirtyFolders) syncFolder(dir)
      this.dirtyFolders.clear()
    } catch (err) {
      throw fromPlatformError(err, `sync ${path}`)
    }
  }

  async remove(path: string): Promise<void> {
    const p = this.abs(path)
    for (const open of [...this.open.keys()]) {
      if (open === p || open.startsWith(p + nodePath.sep)) this.closeFile(open)
    }
    fs.rmSync(p, { recursive: true, force: true })
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
      throw err
    }
  }

  async close(): Promise<void> {
    for (const p of [...this.open.keys()]) this.closeFile(p)
  }
}

function holdsFile(dir: string): boolean {
  return fs.readdirSync(dir, { withFileTypes: true }).some((entry) => !entry.isDirectory() || holdsFile(nodePath.join(dir, entry.name)))
}

function readFully(fd: number, out: Uint8Array, position: number): void {
  let done = 0
  while (done < out.length) {
    const n = fs.readSync(fd, out, done, out.length - done, position + done)
    if (n === 0) break
    done += n
  }
}

function writeFully(fd: number, data: Uint8Array, position: number): void {
  let done = 0
  while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, position + done)
}

function syncFolder(dir: string): void {
  const fd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}
