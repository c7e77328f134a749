import { tableFromIPC, type Vector } from 'apache-arrow'
import { keepingLeadingBoms } from '../../../codec/arrow-strings.js'
import { ByteBudgetCache } from '../shared/byte-budget-cache.js'

/**
 * Decoded columns by content hash, up to a byte budget: reading an instance again costs one small
 * call (the column hashes) and no bytes. The vectors are shared by every table `get` returns:
 * Arrow data is immutable by convention.
 */
export class VectorCache {
  private readonly cache = new ByteBudgetCache<Vector>(256 * 1024 * 1024)

  get(hash: string): Vector | undefined {
    return this.cache.get(hash)
  }

  /** Decode one column's IPC bytes, keep it (when it fits) and return it. */
  add(hash: string, ipc: Uint8Array): Vector {
    // arrow-js reads a string without a leading U+FEFF; such a value's bytes get one more (codec/arrow-strings.ts).
    const vector = keepingLeadingBoms(tableFromIPC(ipc).getChildAt(0)!)
    this.cache.set(hash, vector, ipc.byteLength)
    return vector
  }
}
