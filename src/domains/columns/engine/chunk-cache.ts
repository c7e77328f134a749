import type { CallContext } from '../../../engine/context.js'
import type { Chunk } from './chunk-directory.js'

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

/**
 * The bytes of chunks: an inline chunk's from its loaded parts, a blob chunk's from the blob store
 * through a {@link ChunkCache}. New blob chunks go in here too (a chunk just written is often read
 * next), each hash recorded in the write's pin list so a checkpoint before the write keeps it.
 */
export class ChunkBytes {
  private readonly cache = new ChunkCache()

  /** The chunk's bytes when they are in memory now (inline with parts loaded, or a cached blob). */
  inMemory(c: Chunk): Uint8Array | undefined {
    return c.hash === null ? c.data : this.cache.get(c.hash)
  }

  /** The chunk's bytes (inline: its parts must be loaded), reading the blob store when needed. */
  async load(ctx: CallContext, c: Chunk): Promise<Uint8Array> {
    if (c.hash === null) return c.data!
    const hit = this.cache.get(c.hash)
    if (hit) return hit
    const bytes = await ctx.blobs.get(c.hash)
    this.cache.set(c.hash, bytes)
    return bytes
  }

  /** Store bytes as a blob (pinned until the write settles: `pin` gets the hash); returns the hash. */
  async put(ctx: CallContext, bytes: Uint8Array, pin: string[]): Promise<string> {
    const hash = await ctx.blobs.put(bytes)
    pin.push(hash)
    this.cache.set(hash, bytes)
    return hash
  }
}
