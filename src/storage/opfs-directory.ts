import { NotFoundError, UnsupportedError } from '../errors/errors.js'
import { fromPlatformError } from '../errors/platform-error.js'
import { pathSegments, type StorageAdapter } from './storage-adapter.js'

/** The one method of `FileSystemDirectoryHandle`'s async iteration we use (see opfs-adapter.ts). */
interface IterableDirectory {
  entries(): AsyncIterableIterator<[string, FileSystemHandle]>
}

/**
 * The origin private file system through its asynchronous API, which works on any thread (a page
 * included): read, list and remove, but no writing (the engine writes through sync access handles,
 * in its worker: {@link OpfsAdapter}). `listVaults` and `deleteVault` use it, so they need no worker.
 *
 * Reading a file that a vault's worker holds open may fail (its sync access handle is exclusive):
 * such errors are reported as they are; removing one fails with ConflictError.
 */
export class OpfsDirectory implements StorageAdapter {
  readonly kind = 'opfs'

  private constructor(private readonly root: FileSystemDirectoryHandle | undefined) {}

  /** True when this thread has the asynchronous OPFS API. */
  static isSupported(): boolean {
    return typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function'
  }

  /** The folder `rootName` of the origin's private file system; not created when missing (then it is empty). */
  static async open(rootName: string): Promise<OpfsDirectory> {
    if (!OpfsDirectory.isSupported()) throw new UnsupportedError('OPFS is not available here')
    try {
      let dir = await navigator.storage.getDirectory()
      for (const name of pathSegments(rootName)) {
        const next = await getDirectory(dir, name)
        if (!next) return new OpfsDirectory(undefined)
        dir = next
      }
      return new OpfsDirectory(dir)
    } catch (err) {
      throw fromPlatformError(err, `open OPFS folder ${rootName}`)
    }
  }

  private async folder(segments: string[]): Promise<FileSystemDirectoryHandle | undefined> {
    let dir = this.root
    for (const name of segments) {
      if (!dir) return undefined
      dir = await getDirectory(dir, name)
    }
    return dir
  }

  private async file(path: string): Promise<File | undefined> {
    const segments = pathSegments(path)
    try {
      const dir = await this.folder(segments.slice(0, -1))
      if (!dir || segments.length === 0) return undefined
      const handle = await dir.getFileHandle(segments[segments.length - 1]!)
      return await handle.getFile()
    } catch (err) {
      if (isMissing(err)) return undefined
      throw fromPlatformError(err, `read ${path}`)
    }
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    const f = await this.file(path)
    return f ? new Uint8Array(await f.arrayBuffer()) : undefined
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const f = await this.file(path)
    if (!f) throw new NotFoundError(`no file ${path}`)
    return new Uint8Array(await f.slice(offset, offset + length).arrayBuffer())
  }

  async size(path: string): Promise<number | undefined> {
    return (await this.file(path))?.size
  }

  async list(folder: string): Promise<string[]> {
    let dir: FileSystemDirectoryHandle | undefined
    try {
      dir = await this.folder(pathSegments(folder))
    } catch (err) {
      if (isMissing(err)) return []
      throw fromPlatformError(err, `list ${folder}`)
    }
    if (!dir) return []
    const names: string[] = []
    // Folders count only while they hold files, as in every adapter.
    for await (const [name, handle] of (dir as unknown as IterableDirectory).entries()) {
      if (handle.kind === 'file' || (await holdsFile(handle as FileSystemDirectoryHandle))) names.push(name)
    }
    return names.sort()
  }

  async remove(path: string): Promise<void> {
    const segments = pathSegments(path)
    if (segments.length === 0) throw new UnsupportedError('removing the whole OPFS folder is not supported here')
    try {
      const dir = await this.folder(segments.slice(0, -1))
      if (dir) await dir.removeEntry(segments[segments.length - 1]!, { recursive: true })
    } catch (err) {
      if (isMissing(err)) return
      throw fromPlatformError(err, `remove ${path}`)
    }
  }

  write(): Promise<void> {
    return Promise.reject(readOnly())
  }
  append(): Promise<number> {
    return Promise.reject(readOnly())
  }
  truncate(): Promise<void> {
    return Promise.reject(readOnly())
  }
  async sync(): Promise<void> {}
  async close(): Promise<void> {}
}

function readOnly(): UnsupportedError {
  return new UnsupportedError('the page-thread OPFS folder is for listing and removing vaults; writing needs the engine worker')
}

async function getDirectory(dir: FileSystemDirectoryHandle, name: string): Promise<FileSystemDirectoryHandle | undefined> {
  try {
    return await dir.getDirectoryHandle(name)
  } catch (err) {
    if (isMissing(err)) return undefined
    throw err
  }
}

function isMissing(err: unknown): boolean {
  const name = (err as { name?: string })?.name
  return name === 'NotFoundError' || name === 'TypeMismatchError'
}

async function holdsFile(dir: FileSystemDirectoryHandle): Promise<boolean> {
  for await (const [, handle] of (dir as unknown as IterableDirectory).entries()) {
    if (handle.kind === 'file' || (await holdsFile(handle as FileSystemDirectoryHandle))) return true
  }
  return false
}
