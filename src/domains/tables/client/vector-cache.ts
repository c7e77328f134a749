import { tableFromIPC, type Vector } from 'apache-arrow'

/**
 * Decoded columns by content hash, up to a byte budget (least recently used go first). A
 * materialised column never changes and equal hashes mean equal bytes, so a cached vector is
 * always current: reading an instance again costs one small call (the column hashes) and no bytes.
 * The vectors are shared by every table `get` returns: Arrow data is immutable by convention.
 */
export class VectorCache {
  private readonly entries = new Map<string, { vector: Vector; bytes: number }>()
  private bytes = 0

  constructor(private readonly capBytes = 256 * 1024 * 1024) {}

  get(hash: string): Vector | undefined {
    const e = this.entries.get(hash)
    if (!e) return undefined
    this.entries.delete(hash)
    this.entries.set(hash, e)
    return e.vector
  }

  /** Decode one column's IPC bytes, keep it (when it fits) and return it. */
  add(hash: string, ipc: Uint8Array): Vector {
    const vector = tableFromIPC(ipc).getChildAt(0)!
    if (ipc.byteLength <= this.capBytes / 4 && !this.entries.has(hash)) {
      this.entries.set(hash, { vector, bytes: ipc.byteLength })
      this.bytes += ipc.byteLength
      for (const [h, e] of this.entries) {
        if (this.bytes <= this.capBytes) break
        this.entries.delete(h)
        this.bytes -= e.bytes
      }
    }
    return vector
  }
}
