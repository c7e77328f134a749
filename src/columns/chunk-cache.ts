/**
 * Bytes of blob-stored chunks by content hash, least recently used first out. A chunk in the blob
 * store never changes (a change writes a new blob under a new hash), so an entry can never be
 * stale: no invalidation on writes, rollbacks or other processes' commits. This is what makes
 * random reads of a large column memory-speed instead of a file read each.
 */
export class ChunkCache {
  private readonly entries = new Map<string, Uint8Array>()
  private bytes = 0

  constructor(
    /** Evict least recently used chunks beyond this many bytes. */
    private readonly capBytes = 256 * 1024 * 1024,
  ) {}

  /** The cached bytes of a chunk (marking it recently used), or undefined. */
  get(hash: string): Uint8Array | undefined {
    const hit = this.entries.get(hash)
    if (hit) {
      this.entries.delete(hash)
      this.entries.set(hash, hit)
    }
    return hit
  }

  /** Remember the bytes of a chunk. */
  set(hash: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.capBytes) return
    const prev = this.entries.get(hash)
    if (prev) {
      this.bytes -= prev.byteLength
      this.entries.delete(hash)
    }
    this.entries.set(hash, bytes)
    this.bytes += bytes.byteLength
    for (const [h, b] of this.entries) {
      if (this.bytes <= this.capBytes) break
      this.entries.delete(h)
      this.bytes -= b.byteLength
    }
  }

  /** Bytes held. */
  get size(): number {
    return this.bytes
  }
}
