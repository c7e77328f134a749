/**
 * Bytes of blob-stored chunks by content hash, least recently used first out. A chunk in the blob
 * store never changes (a change writes a new blob under a new hash), so an entry can never be
 * stale: no invalidation on writes, rollbacks or other processes' commits. This is what makes
 * random reads of a large column memory-speed instead of a file read each.
 */
export class ChunkCache {
  // A use stamps the entry instead of reordering the map: a read costs one lookup, and eviction
  // (rare: only when over the cap) finds the least recently used by scanning.
  private readonly entries = new Map<string, { bytes: Uint8Array; used: number }>()
  private bytes = 0
  private clock = 0

  constructor(
    /** Evict least recently used chunks beyond this many bytes. */
    private readonly capBytes = 256 * 1024 * 1024,
  ) {}

  /** The cached bytes of a chunk (marking it recently used), or undefined. */
  get(hash: string): Uint8Array | undefined {
    const hit = this.entries.get(hash)
    if (!hit) return undefined
    hit.used = ++this.clock
    return hit.bytes
  }

  /** Remember the bytes of a chunk. */
  set(hash: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.capBytes) return
    const prev = this.entries.get(hash)
    if (prev) this.bytes -= prev.bytes.byteLength
    this.entries.set(hash, { bytes, used: ++this.clock })
    this.bytes += bytes.byteLength
    while (this.bytes > this.capBytes) {
      let oldest: string | undefined
      let min = Infinity
      for (const [h, e] of this.entries) {
        if (e.used < min) {
          min = e.used
          oldest = h
        }
      }
      this.bytes -= this.entries.get(oldest!)!.bytes.byteLength
      this.entries.delete(oldest!)
    }
  }

  /** Bytes held. */
  get size(): number {
    return this.bytes
  }
}
