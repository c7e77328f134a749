import { NotFoundError } from '../errors/errors.js'
import { pathSegments, type StorageAdapter } from './storage-adapter.js'

/**
 * The reference adapter: files in a Map, lost when the adapter is dropped. Every other adapter must
 * behave like this one (the conformance suite is written against it). Useful for tests and for vaults
 * that need no persistence. Growing buffers double, so appends cost amortised O(bytes appended).
 */
export class MemoryAdapter implements StorageAdapter {
  readonly kind: string = 'memory'
  private readonly files = new Map<string, { bytes: Uint8Array; length: number }>()

  async read(path: string): Promise<Uint8Array | undefined> {
    const f = this.files.get(key(path))
    return f ? f.bytes.slice(0, f.length) : undefined
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const f = this.files.get(key(path))
    if (!f) throw new NotFoundError(`no file ${path}`)
    const start = Math.min(offset, f.length)
    return f.bytes.slice(start, Math.min(f.length, offset + length))
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    this.files.set(key(path), { bytes: data.slice(), length: data.length })
  }

  async append(path: string, data: Uint8Array): Promise<number> {
    const k = key(path)
    let f = this.files.get(k)
    if (!f) {
      f = { bytes: new Uint8Array(Math.max(64, data.length)), length: 0 }
      this.files.set(k, f)
    }
    if (f.length + data.length > f.bytes.length) {
      const grown = new Uint8Array(Math.max(f.bytes.length * 2, f.length + data.length))
      grown.set(f.bytes.subarray(0, f.length))
      f.bytes = grown
    }
    f.bytes.set(data, f.length)
    f.length += data.length
    return f.length
  }

  async truncate(path: string, size: number): Promise<void> {
    const f = this.files.get(key(path))
    if (!f) throw new NotFoundError(`no file ${path}`)
    if (size < f.length) {
      f.bytes.fill(0, size, f.length)
      f.length = size
    }
  }

  async size(path: string): Promise<number | undefined> {
    return this.files.get(key(path))?.length
  }

  async sync(path: string): Promise<void> {
    // Nothing to flush, but a bad path must fail here as it does in every other adapter.
    key(path)
  }

  async remove(path: string): Promise<void> {
    const k = key(path)
    this.files.delete(k)
    const prefix = k === '' ? '' : k + '/'
    for (const name of [...this.files.keys()]) if (name.startsWith(prefix)) this.files.delete(name)
  }

  async list(folder: string): Promise<string[]> {
    const k = key(folder)
    const prefix = k === '' ? '' : k + '/'
    const names = new Set<string>()
    for (const name of this.files.keys()) {
      if (name.startsWith(prefix)) names.add(name.slice(prefix.length).split('/')[0]!)
    }
    return [...names].sort()
  }

  async close(): Promise<void> {}
}

function key(path: string): string {
  return pathSegments(path).join('/')
}
