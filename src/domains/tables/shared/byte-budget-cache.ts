/**
 * Values by content hash, up to a byte budget, least recently used dropped first. Keys are content
 * addresses (a stored column never changes), so a cached value is always current. A value larger
 * than a quarter of the budget is not kept: one huge column must not flush everything else.
 */
export class ByteBudgetCache<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>()
  private bytes = 0

  constructor(private readonly capBytes: number) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key)
    if (!e) return undefined
    // Most recently used last.
    this.entries.delete(key)
    this.entries.set(key, e)
    return e.value
  }

  /** Keep `value` (of `bytes` bytes) when it fits. */
  set(key: string, value: V, bytes: number): void {
    if (bytes > this.capBytes / 4 || this.entries.has(key)) return
    this.entries.set(key, { value, bytes })
    this.bytes += bytes
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.capBytes) break
      this.entries.delete(k)
      this.bytes -= e.bytes
    }
  }
}
