import type { Vector } from 'apache-arrow'

/**
 * Recently read column blobs, by hash (content-addressed, so never stale), up to a byte budget:
 * reading an instance again costs no file read and no SHA-256 check. The bytes handed out are
 * shared with later reads in this engine: the client builds immutable Arrow vectors over them.
 */
export class ColumnBytesCache {
  private readonly entries = new Map<string, Uint8Array>()
  private bytes = 0

  constructor(private readonly capBytes = 256 * 1024 * 1024) {}

  get(hash: string): Uint8Array | undefined {
    const b = this.entries.get(hash)
    if (b) {
      // Most recently used last.
      this.entries.delete(hash)
      this.entries.set(hash, b)
    }
    return b
  }

  set(hash: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.capBytes / 4 || this.entries.has(hash)) return
    this.entries.set(hash, bytes)
    this.bytes += bytes.byteLength
    for (const [h, b] of this.entries) {
      if (this.bytes <= this.capBytes) break
      this.entries.delete(h)
      this.bytes -= b.byteLength
    }
  }
}

/**
 * Recently decoded columns by hash, up to a byte budget (a stored column never changes, so a
 * vector is always current): a re-execution reads its origin and dependencies without decoding
 * them again. The vectors mostly share the buffers of {@link ColumnBytesCache}; Arrow data is
 * immutable here.
 */
export class DecodedColumns {
  private readonly entries = new Map<string, { vector: Vector; bytes: number }>()
  private bytes = 0

  constructor(private readonly capBytes = 128 * 1024 * 1024) {}

  get(hash: string): Vector | undefined {
    const e = this.entries.get(hash)
    if (!e) return undefined
    this.entries.delete(hash)
    this.entries.set(hash, e)
    return e.vector
  }

  /** Keep `vector` (decoded from `bytes` bytes) when it fits. */
  set(hash: string, vector: Vector, bytes: number): void {
    if (bytes > this.capBytes / 4 || this.entries.has(hash)) return
    this.entries.set(hash, { vector, bytes })
    this.bytes += bytes
    for (const [h, e] of this.entries) {
      if (this.bytes <= this.capBytes) break
      this.entries.delete(h)
      this.bytes -= e.bytes
    }
  }
}
