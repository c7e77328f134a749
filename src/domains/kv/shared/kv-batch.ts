import type { EncodedBatch, EncodedValue, Key } from './kv-types.js'

/** Collects encoded values into one {@link EncodedBatch}. */
export class BatchBuilder {
  private readonly keys: Key[] = []
  private readonly kinds: number[] = []
  private readonly parts: Uint8Array[] = []
  private total = 0

  /** Add one value. */
  add(key: Key, value: EncodedValue): void {
    this.keys.push(key)
    this.kinds.push(value.kind)
    this.parts.push(value.bytes)
    this.total += value.bytes.length
  }

  /** Number of values added. */
  get count(): number {
    return this.keys.length
  }

  /** Bytes of values added so far. */
  get byteLength(): number {
    return this.total
  }

  /** The finished batch (its `bytes` and `offsets` are fresh buffers, safe to transfer). */
  build(): EncodedBatch {
    const bytes = new Uint8Array(this.total)
    const offsets = new Uint32Array(this.parts.length + 1)
    let pos = 0
    for (let i = 0; i < this.parts.length; i++) {
      offsets[i] = pos
      bytes.set(this.parts[i]!, pos)
      pos += this.parts[i]!.length
    }
    offsets[this.parts.length] = pos
    return { keys: this.keys, kinds: Uint8Array.from(this.kinds), offsets, bytes }
  }
}

/** The value at position `i` of a batch (a view into its buffer). */
export function batchValue(batch: EncodedBatch, i: number): EncodedValue {
  return { kind: batch.kinds[i]!, bytes: batch.bytes.subarray(batch.offsets[i]!, batch.offsets[i + 1]!) }
}

/** The buffers of a batch, for a transfer list. */
export function batchTransferables(batch: EncodedBatch): ArrayBuffer[] {
  return [batch.bytes.buffer as ArrayBuffer, batch.offsets.buffer as ArrayBuffer, batch.kinds.buffer as ArrayBuffer]
}
