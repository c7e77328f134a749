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
