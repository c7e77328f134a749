/**
 * Buffers smaller than this are copied, not moved: structured clone copies a few KB faster than a
 * transfer detaches and re-creates the buffer, and small results (a key-value `get`) are the most
 * frequent.
 */
export const MOVE_MIN_BYTES = 16 * 1024

/**
 * The buffers in a result that can be moved to the other thread instead of copied: typed arrays
 * that own their whole buffer, found at the top level or one level down (EncodedBatch, arrays of
 * columns), of at least {@link MOVE_MIN_BYTES}. A view into a larger buffer is left to structured
 * clone: moving it would detach memory someone else still uses.
 */
export function transferablesOf(value: unknown, depth = 2, out: Set<ArrayBuffer> = new Set()): ArrayBuffer[] {
  if (value && typeof value === 'object') {
    if (ArrayBuffer.isView(value)) {
      const buffer = value.buffer
      if (buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buffer.byteLength && buffer.byteLength >= MOVE_MIN_BYTES && !isNodePoolBuffer(value)) out.add(buffer)
    } else if (value instanceof ArrayBuffer) {
      if (value.byteLength >= MOVE_MIN_BYTES) out.add(value)
    } else if (depth > 0) {
      const items = Array.isArray(value) ? value : Object.values(value as object)
      if (items.length <= 64) for (const item of items) transferablesOf(item, depth - 1, out)
    }
  }
  return [...out]
}

function isNodePoolBuffer(view: ArrayBufferView): boolean {
  const B = (globalThis as { Buffer?: { isBuffer(v: unknown): boolean } }).Buffer
  return B !== undefined && B.isBuffer(view)
}
