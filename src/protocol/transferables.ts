/**
 * The buffers in a result that can be moved to the other thread instead of copied: typed arrays
 * that own their whole buffer, found at the top level or one level down (EncodedBatch, arrays of
 * columns). A view into a larger buffer is left to structured clone: moving it would detach
 * memory someone else still uses.
 */
export function transferablesOf(value: unknown, depth = 2, out: Set<ArrayBuffer> = new Set()): ArrayBuffer[] {
  if (value && typeof value === 'object') {
    if (ArrayBuffer.isView(value)) {
      const buffer = value.buffer
      if (buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buffer.byteLength && !isNodePoolBuffer(value)) out.add(buffer)
    } else if (value instanceof ArrayBuffer) {
      out.add(value)
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
